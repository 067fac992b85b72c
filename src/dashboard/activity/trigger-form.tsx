import { type FieldProblem, fieldProblem } from "../../errors";
import { MAX_JSON_DEPTH, tooDeepAt } from "../../lib/json-depth";
import type { Agent } from "../../schemas/agent";
import type { TriggerConfig } from "../../schemas/trigger";
import { checkTriggerConfig } from "../../triggers/trigger-config";
import { Csrf } from "../layout";
import { Field, described } from "./shared";

/** The create form's inputs, as typed; `call.*` are the mapping's templates. */
export type TriggerForm = Partial<Record<(typeof INPUTS)[number], string>>;

const MAPPED = ["phone_number", "task", "caller_name", "webhook_url", "timezone"] as const;
const INPUTS = [
  "name",
  "agent_id",
  "enabled",
  ...MAPPED.map((f) => `call.${f}` as const),
  "call.metadata",
  "filter",
  "schedule.delay_seconds",
  "schedule.at",
  "schedule.offset_seconds",
  "dedupe_key",
] as const;

/** Where a problem (named as POST /triggers names it) shows on the form. */
export function triggerInputOf(segments: string[]): string {
  const [first = "", second] = segments;
  if (first === "call" && second) return `call.${second}`;
  if (first === "schedule") return second === "at" || second === "delay_seconds" || second === "offset_seconds" ? `schedule.${second}` : "schedule.at";
  return first;
}

/** A JSON text area's value, or the problem with it. */
function jsonInput(text: string | undefined, path: string[], problems: FieldProblem[]): unknown {
  if (!text?.trim()) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    problems.push(fieldProblem(path, `not JSON: ${err instanceof Error ? err.message : String(err)}`));
    return undefined;
  }
  const deep = tooDeepAt(path, value);
  if (!deep) return value;
  problems.push(fieldProblem(deep, `nested more than ${MAX_JSON_DEPTH} levels deep`));
  return undefined;
}

const numberInput = (text: string | undefined) => (text?.trim() ? Number(text.trim()) : undefined);

/** The form as the body POST /triggers takes; problems of the form itself named like the API's. */
export function triggerCandidate(form: TriggerForm): { candidate: Record<string, unknown>; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const call: Record<string, unknown> = {};
  for (const field of MAPPED) {
    const value = form[`call.${field}`]?.trim();
    if (value) call[field] = value;
  }
  const metadata = jsonInput(form["call.metadata"], ["call", "metadata"], problems);
  if (metadata !== undefined) call.metadata = metadata;
  const at = form["schedule.at"]?.trim();
  const delay = numberInput(form["schedule.delay_seconds"]);
  if (at && delay !== undefined) problems.push(fieldProblem(["schedule", "delay_seconds"], "give a delay or a time, not both"));
  const schedule = at ? { at, offset_seconds: numberInput(form["schedule.offset_seconds"]) ?? 0 } : delay !== undefined ? { delay_seconds: delay } : undefined;
  const candidate: Record<string, unknown> = {
    name: form.name ?? "",
    agent_id: form.agent_id?.trim() ?? "",
    enabled: form.enabled === "on",
    call: Object.keys(call).length > 0 ? call : undefined,
    filter: jsonInput(form.filter, ["filter"], problems),
    schedule,
    dedupe_key: form.dedupe_key?.trim() || undefined,
  };
  return { candidate: Object.fromEntries(Object.entries(candidate).filter(([, v]) => v !== undefined)), problems };
}

/** The checks of POST /triggers (checkTriggerConfig), after the form's own (JSON fields that do not parse). */
export async function checkedTrigger(env: CloudflareBindings, candidate: unknown, formProblems: FieldProblem[]): Promise<TriggerConfig | FieldProblem[]> {
  const checked = await checkTriggerConfig(env, candidate);
  if (checked.ok && formProblems.length === 0) return checked.config;
  return [...formProblems, ...(checked.ok ? [] : checked.problems)];
}

/** A stored trigger as the form shows it, for editing. */
export function triggerFormOf(t: TriggerConfig): TriggerForm {
  const form: TriggerForm = { name: t.name, agent_id: t.agent_id, enabled: t.enabled ? "on" : undefined, dedupe_key: t.dedupe_key };
  for (const field of MAPPED) form[`call.${field}`] = t.call?.[field];
  if (t.call?.metadata) form["call.metadata"] = JSON.stringify(t.call.metadata, null, 2);
  if (t.filter) form.filter = JSON.stringify(t.filter, null, 2);
  if (t.schedule && "delay_seconds" in t.schedule) form["schedule.delay_seconds"] = String(t.schedule.delay_seconds);
  if (t.schedule && "at" in t.schedule) {
    form["schedule.at"] = t.schedule.at;
    form["schedule.offset_seconds"] = String(t.schedule.offset_seconds);
  }
  return form;
}

/** The trigger form: creating one posts to /dashboard/triggers, editing one to its `action`. */
export function TriggerFormFields(props: { form: TriggerForm; errors: Record<string, string[]>; agents: Agent[]; csrf: string; action?: string; submit?: string }) {
  const { form, errors } = props;
  const input = (name: keyof TriggerForm & string, hint: boolean) => ({ id: `t-${name.replace(".", "-")}`, name, ...described(`t-${name.replace(".", "-")}`, hint, errors[name]) });
  const id = (name: string) => `t-${name.replace(".", "-")}`;
  return (
    <form class="panel" method="post" action={props.action ?? "/dashboard/triggers"} novalidate>
      <Csrf token={props.csrf} />
      {errors[""] ? (
        <div class="error" role="alert">
          {errors[""].map((m) => (
            <p>{m}</p>
          ))}
        </div>
      ) : null}
      <Field id={id("name")} label="Name" errors={errors.name}>
        <input {...input("name", false)} type="text" required value={form.name} />
      </Field>
      <Field id={id("agent_id")} label="Agent" hint="The agent that places the calls; it needs an outbound platform when events arrive." errors={errors.agent_id}>
        <select {...input("agent_id", true)} required>
          <option value="">Choose an agent</option>
          {props.agents.map((a) => (
            <option value={a.id} selected={a.id === form.agent_id}>
              {a.name} ({a.id}){a.voice_tools.outbound_calls ? "" : ": no outbound platform yet"}
            </option>
          ))}
        </select>
      </Field>
      <label for={id("enabled")}>
        <input {...input("enabled", false)} type="checkbox" checked={form.enabled === "on"} /> Enabled
      </label>
      <fieldset>
        <legend>Call mapping</legend>
        <p class="hint">
          Mustache templates over the payload the tool posts: {"{{attendee_phone}}"}, nested keys as {"{{attendee.phone}}"}. A field left empty is
          taken from the payload's field of the same name.
        </p>
        {MAPPED.map((field) => (
          <Field id={id(`call.${field}`)} label={field} errors={errors[`call.${field}`]}>
            {field === "task" ? (
              <textarea {...input(`call.${field}`, false)}>{form[`call.${field}`] ?? ""}</textarea>
            ) : (
              <input {...input(`call.${field}`, false)} type="text" value={form[`call.${field}`]} />
            )}
          </Field>
        ))}
        <Field id={id("call.metadata")} label="metadata (JSON)" hint={'An object of templates, e.g. {"event_id": "{{event_id}}"}; replaces the payload\'s metadata.'} errors={errors["call.metadata"]}>
          <textarea {...input("call.metadata", true)}>{form["call.metadata"] ?? ""}</textarea>
        </Field>
      </fieldset>
      <Field
        id={id("filter")}
        label="Filter (JSON)"
        hint='A list of conditions that must all hold, e.g. [{"field": "deal.stage", "op": "eq", "value": "won"}]. Ops: exists, not_exists, eq, ne, in, contains, matches.'
        errors={errors.filter}
      >
        <textarea {...input("filter", true)}>{form.filter ?? ""}</textarea>
      </Field>
      <fieldset>
        <legend>Schedule</legend>
        <p class="hint">Empty: place the call now. Give a delay, or a time template with an offset.</p>
        <Field id={id("schedule.delay_seconds")} label="Delay (seconds)" errors={errors["schedule.delay_seconds"]}>
          <input {...input("schedule.delay_seconds", false)} type="number" min="0" step="1" value={form["schedule.delay_seconds"]} />
        </Field>
        <Field id={id("schedule.at")} label="At (template)" hint="Must render an ISO 8601 time with an offset, e.g. {{event_start}}." errors={errors["schedule.at"]}>
          <input {...input("schedule.at", true)} type="text" value={form["schedule.at"]} />
        </Field>
        <Field id={id("schedule.offset_seconds")} label="Offset from that time (seconds)" hint="-86400 is a day before." errors={errors["schedule.offset_seconds"]}>
          <input {...input("schedule.offset_seconds", true)} type="number" step="1" value={form["schedule.offset_seconds"]} />
        </Field>
      </fieldset>
      <Field id={id("dedupe_key")} label="Dedupe key (template)" hint="e.g. {{event_id}}: a second event with the same key within 30 days places nothing." errors={errors.dedupe_key}>
        <input {...input("dedupe_key", true)} type="text" value={form.dedupe_key} />
      </Field>
      <div class="actions">
        <button type="submit">{props.submit ?? "Create the trigger"}</button>
      </div>
    </form>
  );
}
