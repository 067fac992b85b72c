import { type FieldProblem, fieldProblem, validationFailed, zodProblems } from "../errors";
import type { CreateResult } from "../outbound/outbound-call";
import { fingerprintOf, requestOutboundCall } from "../outbound/request-call";
import { OutboundCallFields } from "../schemas/outbound";
import type { TriggerConfig } from "../schemas/trigger";
import { evaluateFilter } from "./filter";
import { mapTriggerPayload } from "./mapping";
import { renderPayloadTemplate } from "./payload-template";
import { triggerSchedule } from "./schedule";

/** What an event sent to a trigger came to. */
export type TriggerOutcome = CreateResult | { kind: "filtered"; reason: string };

/**
 * Runs one event through a trigger: filter, schedule, mapping, dedupe key, then the same
 * request path as `POST /outbound-calls`. A mapping that cannot produce a valid call is a
 * 422 naming the trigger's field (`call.phone_number`) or the payload's.
 */
export async function fireTrigger(
  env: CloudflareBindings,
  trigger: TriggerConfig & { id: string },
  payload: unknown,
  context: { now: number; origin: string },
): Promise<TriggerOutcome> {
  const { now, origin } = context;
  if (!trigger.enabled) return { kind: "filtered", reason: "the trigger is disabled" };
  const filtered = evaluateFilter(payload, trigger.filter);
  if (!filtered.pass) return { kind: "filtered", reason: filtered.reason };
  const when = triggerSchedule(payload, trigger.schedule, now);
  if (when.kind === "filtered") return when;
  if (when.kind === "invalid") throw validationFailed("the trigger's schedule cannot be read from this event", [when.problem]);

  const mapped = mapTriggerPayload(payload, trigger.call);
  const pathOf = (field: string): (string | number)[] => (trigger.call && field in trigger.call ? ["call", field] : [field]);
  const parsed = OutboundCallFields.safeParse(mapped.fields);
  const problems: FieldProblem[] = [...mapped.problems];
  if (!parsed.success) {
    for (const problem of zodProblems(parsed.error)) {
      const field = problem.pointer.split("/")[1] ?? "";
      if (mapped.problems.some((p: FieldProblem) => p.pointer.endsWith(`/${field}`))) continue; // already said why
      problems.push({ ...fieldProblem(pathOf(field), problem.message) });
    }
  }
  if (!parsed.success || problems.length > 0) throw validationFailed("the event does not make a valid call", problems);

  const key = trigger.dedupe_key === undefined ? undefined : dedupeKey(trigger.dedupe_key, payload);
  return requestOutboundCall(env, {
    agent_id: trigger.agent_id,
    trigger_id: trigger.id,
    origin,
    fields: parsed.data,
    dueAt: when.kind === "at" ? when.at : now,
    fingerprint: await fingerprintOf(payload),
    ...(key !== undefined ? { key: { kind: "dedupe" as const, value: `${trigger.id}\n${key}` } } : {}),
    pathOf,
    schedulePath: ["schedule"],
  });
}

/** The rendered dedupe key; one that renders empty (or not at all) could dedupe unrelated events, so it is refused. */
function dedupeKey(template: string, payload: unknown): string {
  let key: string;
  try {
    key = renderPayloadTemplate(template, payload).trim();
  } catch (err) {
    throw validationFailed("the dedupe key cannot be rendered", [fieldProblem(["dedupe_key"], err instanceof Error ? err.message : String(err))]);
  }
  if (key === "") throw validationFailed("the dedupe key rendered empty", [fieldProblem(["dedupe_key"], `the template "${template}" rendered empty for this event`)]);
  return key;
}

/** Template syntax problems of a trigger's config, each at its field, for validation on save. */
export function checkTriggerTemplates(config: TriggerConfig): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const check = (template: string | undefined, path: (string | number)[]) => {
    if (template === undefined) return;
    try {
      renderPayloadTemplate(template, {});
    } catch (err) {
      problems.push(fieldProblem(path, err instanceof Error ? err.message : String(err)));
    }
  };
  for (const [field, template] of Object.entries(config.call ?? {})) {
    if (typeof template === "string") check(template, ["call", field]);
    else for (const [key, value] of Object.entries(template ?? {})) check(value, ["call", field, key]);
  }
  if (config.schedule && "at" in config.schedule) check(config.schedule.at, ["schedule", "at"]);
  check(config.dedupe_key, ["dedupe_key"]);
  return problems;
}
