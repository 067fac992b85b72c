/**
 * A trigger's call mapping applied to one event: the candidate fields of the outbound call.
 * Nothing here validates a field (the caller parses the result with OutboundCallFields); it
 * only says which template could not produce one.
 */
import { type FieldProblem, fieldProblem } from "../errors";
import { UNSAFE_KEYS } from "../lib/merge-patch";
import type { TriggerCallMapping } from "../schemas/trigger";
import { payloadValue, renderPayloadTemplate } from "./payload-template";

/** The text fields a mapping may set, in the order problems are reported. */
const TEXT_FIELDS = ["phone_number", "task", "caller_name", "webhook_url", "timezone"] as const;
type TextField = (typeof TEXT_FIELDS)[number];

/** A template that is one variable and nothing else, e.g. `{{ order.items }}`. */
const SINGLE_TAG = /^\{\{\s*([^\s{}!#^/>=&]+)\s*\}\}$/;

export interface MappedCall {
  fields: Record<string, unknown>;
  problems: FieldProblem[];
}

type Rendered = { ok: true; text: string } | { ok: false; message: string };

function render(template: string, payload: unknown): Rendered {
  try {
    return { ok: true, text: renderPayloadTemplate(template, payload).trim() };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

/** A template as a message quotes it: long ones cut short. */
function quoted(template: string): string {
  return JSON.stringify(template.length > 120 ? `${template.slice(0, 120)}…` : template);
}

function ownField(payload: unknown, field: string): unknown {
  return typeof payload === "object" && payload !== null && !Array.isArray(payload) && Object.hasOwn(payload, field)
    ? (payload as Record<string, unknown>)[field]
    : undefined;
}

/**
 * A text field taken from the payload itself: strings trimmed (blank ones left out, as a
 * template rendering empty is), a number for phone_number as its digits, anything else as
 * sent for validation to name.
 */
function fromPayload(payload: unknown, field: TextField): unknown {
  const value = ownField(payload, field);
  if (typeof value === "string") return value.trim() === "" ? undefined : value.trim();
  if (field === "phone_number" && typeof value === "number" && Number.isFinite(value)) return String(value);
  return value ?? undefined;
}

function missingPhone(payload: unknown): string {
  const said = ownField(payload, "phone_number") === undefined ? "has no phone_number" : "has an empty phone_number";
  return `the event ${said}; send one, or map one with call.phone_number, e.g. "{{attendee_phone}}"`;
}

function mapMetadata(payload: unknown, templates: Record<string, string>, problems: FieldProblem[]): Record<string, unknown> | undefined {
  const entries: [string, unknown][] = [];
  for (const [key, template] of Object.entries(templates)) {
    if (UNSAFE_KEYS.has(key)) continue; // a key no object should carry, whoever configured it
    const single = SINGLE_TAG.exec(template);
    const whole = single ? payloadValue(payload, single[1]!) : undefined;
    if (whole !== null && (typeof whole === "object" || typeof whole === "number" || typeof whole === "boolean")) {
      entries.push([key, whole]);
      continue;
    }
    const rendered = render(template, payload);
    if (!rendered.ok) problems.push(fieldProblem(["call", "metadata", key], rendered.message));
    else if (rendered.text !== "") entries.push([key, rendered.text]);
  }
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

/**
 * The outbound-call fields an event gives under a trigger's mapping. A mapped field is its
 * template rendered over the payload and trimmed, left out when it renders empty; a field
 * the mapping leaves out is the payload's field of the same name. A phone number that ends
 * up empty or absent is a problem, at `call.phone_number` when a template made it, else at
 * `phone_number`; so is any template that cannot be rendered. In `metadata`, a value that is
 * only `{{path}}` naming an object, list, number or boolean keeps that value whole.
 *
 * @example
 * mapTriggerPayload({ attendee_phone: " +14155550100 ", name: "Ana" }, { phone_number: "{{attendee_phone}}", caller_name: "{{name}}" })
 * // { fields: { phone_number: "+14155550100", caller_name: "Ana" }, problems: [] }
 */
export function mapTriggerPayload(payload: unknown, mapping: TriggerCallMapping | undefined): MappedCall {
  const fields: Record<string, unknown> = {};
  const problems: FieldProblem[] = [];

  for (const field of TEXT_FIELDS) {
    const template = mapping?.[field];
    if (template === undefined) {
      const value = fromPayload(payload, field);
      if (value !== undefined) fields[field] = value;
      else if (field === "phone_number") problems.push(fieldProblem([field], missingPhone(payload)));
      continue;
    }
    const rendered = render(template, payload);
    if (!rendered.ok) problems.push(fieldProblem(["call", field], rendered.message));
    else if (rendered.text !== "") fields[field] = rendered.text;
    else if (field === "phone_number") problems.push(fieldProblem(["call", field], `the template ${quoted(template)} rendered empty`));
  }

  const metadata = mapping?.metadata ? mapMetadata(payload, mapping.metadata, problems) : ownField(payload, "metadata");
  if (metadata !== undefined && metadata !== null && metadata !== "") fields.metadata = metadata;
  return { fields, problems };
}
