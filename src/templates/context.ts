import { countryCode, displayPhone } from "../lib/phone";
import type { CallEndedEvent } from "../schemas/call-event";

/** Roots whose dotted children and section contents are free-form user data. */
export const OBJECT_VARIABLES: readonly string[] = Object.freeze(["metadata", "details"]);

/** Fields of each `details_list` row, visible inside `{{#details_list}}`. */
export const DETAILS_LIST_FIELDS: readonly string[] = Object.freeze(["label", "value"]);

export type TemplateContext = Record<string, unknown>;

/**
 * The country numbers without + are read in for this context (the agent's, else the
 * deployment's). A symbol, so no template can reach it.
 */
const PHONE_COUNTRY = Symbol("phone country");

/** The default country a context was built with, if any. */
export function phoneCountryOf(context: TemplateContext): string | undefined {
  const value = (context as Record<symbol, unknown>)[PHONE_COUNTRY];
  return typeof value === "string" ? value : undefined;
}

/** One row of `details_list`. */
export interface DetailRow {
  label: string;
  value: string;
}

// Deeper user data is dropped: it is unreadable in a message and unbounded
// recursion on attacker-shaped JSON must not be able to blow the stack.
const MAX_DEPTH = 16;

/**
 * "delivery_date" / "deliveryDate" → "Delivery date"; all-caps words such as
 * "ID" are kept so "order_ID" reads "Order ID".
 */
export function humanizeKey(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[\s_-]+/)
    .filter((w) => w !== "")
    .map((w) => (w.length > 1 && w === w.toUpperCase() ? w : w.toLowerCase()));
  const text = words.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A value as one readable line fragment; "" for nothing worth showing. */
export function formatValue(value: unknown, depth = 0): string {
  if (value === null || value === undefined || depth > MAX_DEPTH) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) {
    return value
      .map((v) => formatValue(v, depth + 1))
      .filter((s) => s !== "")
      .join(", ");
  }
  if (typeof value === "object") {
    return Object.entries(value)
      .map(([k, v]) => [humanizeKey(k), formatValue(v, depth + 1)] as const)
      .filter(([, s]) => s !== "")
      .map(([k, s]) => `${k}: ${s}`)
      .join(", ");
  }
  return "";
}

/** Humanised `{label, value}` rows of an object, skipping empty values. */
export function detailRows(value: unknown): DetailRow[] {
  if (!isPlainRecord(value)) return [];
  const rows: DetailRow[] = [];
  for (const [key, v] of Object.entries(value)) {
    const text = formatValue(v, 1);
    if (text !== "") rows.push({ label: humanizeKey(key), value: text });
  }
  return rows;
}

/** "Delivery date: March 15" lines, one per key, joined with "\n". */
export function detailLines(value: unknown): string {
  return detailRows(value)
    .map((r) => `${r.label}: ${r.value}`)
    .join("\n");
}

/**
 * Whole minutes rounded up, so a 61 s call reads "2"; "" when unknown.
 * A string because mustache treats the number 0 as false in sections.
 */
export function durationMinutes(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "";
  return String(Math.ceil(seconds / 60));
}

/** `YYYY-MM-DD` in UTC of the first parseable timestamp, else "". */
export function utcDate(...timestamps: (string | null | undefined)[]): string {
  for (const ts of timestamps) {
    if (!ts) continue;
    const ms = Date.parse(ts);
    if (Number.isNaN(ms)) continue;
    const iso = new Date(ms).toISOString();
    // Years outside 0000–9999 get a sign prefix; such a date is not a real call.
    if (/^\d{4}-/.test(iso)) return iso.slice(0, 10);
  }
  return "";
}

/**
 * The values templates see. Every object in it has a null prototype and a
 * non-enumerable `toString`, so `{{metadata.constructor}}` finds nothing and a
 * bare `{{details}}` reads as lines instead of "[object Object]".
 */
export function buildTemplateContext(
  event: CallEndedEvent,
  agent: { id: string; name: string; default_country?: string },
  receivedAt: string,
  deploymentCountry?: string,
): TemplateContext {
  const country = countryCode(agent.default_country) ?? countryCode(deploymentCountry);
  const metadata = isPlainRecord(event.metadata) ? event.metadata : {};
  const details = isPlainRecord(event.details) ? event.details : {};
  const rows = detailRows(details).map((r) => withToString(nullProto(r), () => `${r.label}: ${r.value}`));

  const values: Record<string, unknown> = {
    agent_name: agent.name,
    agent_id: event.agent_id,
    call_id: event.call_id,
    // E.164 when it parses as a number, else as the platform sent it ("anonymous").
    caller_number: displayPhone(text(event.caller_number), country),
    caller_name: firstText(metadata.caller_name, details.caller_name),
    caller_email: firstText(metadata.caller_email, details.caller_email),
    duration: durationMinutes(event.duration_seconds),
    duration_seconds: text(event.duration_seconds),
    summary: text(event.summary),
    date: utcDate(event.ended_at, receivedAt),
    ended_at: text(event.ended_at),
    outcome: text(event.outcome),
    transcript: text(event.transcript),
    // Only http(s) may reach an href, whatever the caller bypassed upstream.
    recording_url: /^https?:\/\//i.test(text(event.recording_url)) ? text(event.recording_url) : "",
    // Empty objects become "" so `{{#details}}…{{/details}}` hides when there is nothing.
    details: Object.keys(details).length > 0 ? toTemplateData(details, 0) : "",
    metadata: Object.keys(metadata).length > 0 ? toTemplateData(metadata, 0) : "",
    details_list: withToString(Object.setPrototypeOf(rows, null) as DetailRow[], () => detailLines(details)),
  };
  const context = withToString(nullProto(values), () => "");
  if (country) Object.defineProperty(context, PHONE_COUNTRY, { value: country, enumerable: false });
  return context;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Scalars as strings; absent (or non-scalar) values as "". */
function text(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return "";
}

function firstText(...values: unknown[]): string {
  for (const v of values) {
    const t = text(v).trim();
    if (t !== "") return t;
  }
  return "";
}

function nullProto<T extends object>(source: T): T {
  return Object.assign(Object.create(null) as T, source);
}

// The closure ignores `this` because mustache calls functions it finds with
// the current view as `this` (e.g. `{{details.toString}}`).
function withToString<T extends object>(target: T, render: () => string): T {
  Object.defineProperty(target, "toString", { value: render, enumerable: false });
  return target;
}

/** A null-prototype copy of JSON-ish data, readable when rendered bare. */
function toTemplateData(value: unknown, depth: number): unknown {
  if (value === null || value === undefined || depth > MAX_DEPTH) return "";
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : "";
  if (Array.isArray(value)) {
    const copy = value.map((v) => toTemplateData(v, depth + 1));
    return withToString(Object.setPrototypeOf(copy, null) as unknown[], () => formatValue(value, depth));
  }
  if (typeof value === "object") {
    const copy = Object.create(null) as Record<string, unknown>;
    for (const [k, v] of Object.entries(value)) copy[k] = toTemplateData(v, depth + 1);
    return withToString(copy, () => detailLines(value));
  }
  // Functions, symbols and bigints are not JSON; mustache would call a function.
  return "";
}
