import { type FieldProblem, fieldProblem } from "../../errors";
import { MAX_JSON_DEPTH, tooDeepAt } from "../../lib/json-depth";
import { ACTION_TYPES, type Action, type ActionType, type Agent, type AgentConfig } from "../../schemas/agent";
import { DIALER_TYPES, type DialerType } from "../../schemas/outbound";

/**
 * The agent page's form as the user typed it: every value a string, so a form that does not
 * validate is shown again exactly as it was sent. `toConfig` turns it into what the agent
 * service validates; `draftOf` turns a saved agent into it.
 *
 * Field keys are dotted paths (`actions.1.template`, `outbound.platform.type`): an input's
 * name is the key in brackets (`actions[1][template]`), its id the key with dashes.
 */
export interface AgentDraft {
  enabled: boolean;
  actions: ActionDraft[];
  /** voice_tools.outbound_calls.fallback_actions, edited like the follow-up's (`fallback.1.template`). */
  fallback: ActionDraft[];
  /** voice_tools.outbound_calls, by key below `outbound.`; days apart, as they are many values. */
  outbound: Record<string, string>;
  days: string[];
}

export interface ActionDraft {
  type: string;
  values: Record<string, string>;
}

export type FieldKind = "template" | "text" | "url" | "number" | "checkbox" | "provider" | "body_template" | "list";

export interface FieldSpec {
  name: string;
  label: string;
  kind: FieldKind;
  required?: boolean;
  /** A textarea rather than a one-line input. */
  multiline?: boolean;
  hint?: string;
}

const WHEN: FieldSpec = {
  name: "when",
  label: "Run for outcomes",
  kind: "list",
  hint: "Comma-separated, e.g. no_answer, busy. Empty: connected calls only (any outcome but no_answer, busy and failed).",
};
const RESEND: FieldSpec = {
  name: "resend_on_unknown",
  label: "Send again when an attempt's result is unknown (may duplicate)",
  kind: "checkbox",
};
const PROVIDER: FieldSpec = { name: "provider", label: "Provider", kind: "provider" };

/** Each action type's fields, in the order the form shows them: the schemas' fields, every one. */
export const ACTION_FIELDS: Record<ActionType, FieldSpec[]> = {
  sms: [
    { name: "to", label: "To", kind: "template", hint: "Empty: the caller's number." },
    { name: "template", label: "Message", kind: "template", multiline: true, required: true },
    PROVIDER,
    WHEN,
    RESEND,
  ],
  email: [
    { name: "to", label: "To", kind: "template", required: true },
    { name: "subject", label: "Subject", kind: "template", required: true },
    { name: "body_template", label: "Body template", kind: "body_template", hint: "A built-in or one of the agent's templates; or write a plain-text body below." },
    { name: "body", label: "Plain-text body", kind: "template", multiline: true, hint: "Used when no body template is chosen." },
    PROVIDER,
    WHEN,
    RESEND,
  ],
  webhook: [
    { name: "url", label: "URL", kind: "url", required: true },
    { name: "include_transcript", label: "Include the transcript", kind: "checkbox" },
    { name: "include_recording_url", label: "Include the recording URL", kind: "checkbox" },
    WHEN,
  ],
  task: [
    { name: "title", label: "Title", kind: "template", required: true },
    { name: "notes", label: "Notes", kind: "template", multiline: true },
    { name: "due_in_days", label: "Due in days", kind: "number", hint: "0 to 365 days after the call; empty: no due date." },
    PROVIDER,
    WHEN,
    RESEND,
  ],
};

export const ACTION_LABELS: Record<ActionType, string> = { sms: "SMS", email: "Email", webhook: "Webhook", task: "Task" };

/** Each outbound platform's ids, as OutboundCallsSettings.platform takes them. */
export const PLATFORM_FIELDS: Record<DialerType, FieldSpec[]> = {
  vapi: [
    { name: "assistant_id", label: "Assistant id", kind: "text", required: true },
    { name: "phone_number_id", label: "Phone number id", kind: "text", required: true },
  ],
  retell: [
    { name: "from_number", label: "From number (E.164)", kind: "text", required: true },
    { name: "agent_id", label: "Retell agent id", kind: "text", hint: "Empty: the number's own agent." },
  ],
  bland: [
    { name: "from", label: "From number (E.164)", kind: "text", hint: "Empty: Bland's pool." },
    { name: "pathway_id", label: "Pathway id", kind: "text" },
  ],
  elevenlabs: [
    { name: "agent_id", label: "ElevenLabs agent id", kind: "text", required: true },
    { name: "agent_phone_number_id", label: "Agent phone number id", kind: "text", required: true },
  ],
  http: [
    { name: "url", label: "Create-call URL", kind: "url", required: true },
    { name: "headers", label: "Headers (JSON object)", kind: "text", multiline: true, hint: 'A value may name a Worker secret: "Bearer {{secret.DIALER_TOKEN}}".' },
    { name: "body", label: "Body (JSON object)", kind: "text", multiline: true, required: true, hint: "Strings are templates over phone_number, task, caller_name, outbound_call_id, attempt, agent_id, metadata.*." },
    { name: "call_id_path", label: "Call id path", kind: "text", required: true, hint: "Where the answer holds the call's id, e.g. data.id." },
  ],
  simulator: [],
};
const JSON_FIELDS = new Set(["headers", "body"]);

/** The outbound settings' own fields, besides the platform's ids and the days. */
export const OUTBOUND_KEYS = [
  "platform.type",
  "calling_hours.timezone",
  "calling_hours.start",
  "calling_hours.end",
  "default_country",
  "redial.on",
  "redial.max_attempts",
  "redial.interval_seconds",
  "result_timeout_seconds",
] as const;

export const isActionType = (type: string): type is ActionType => (ACTION_TYPES as readonly string[]).includes(type);
export const isDialerType = (type: string): type is DialerType => (DIALER_TYPES as readonly string[]).includes(type);

/** `actions.1.template` → `actions[1][template]`. */
export const nameOf = (key: string) => key.split(".").map((part, i) => (i === 0 ? part : `[${part}]`)).join("");
/** `actions.1.template` → `f-actions-1-template`: a valid, unique element id. */
export const idOf = (key: string) => `f-${key.replaceAll(".", "-")}`;

const text = (value: unknown): string =>
  value === undefined || value === null ? "" : typeof value === "boolean" ? (value ? "on" : "") : Array.isArray(value) ? value.join(", ") : typeof value === "object" ? JSON.stringify(value, null, 2) : String(value);

const actionDraftOf = (action: Action): ActionDraft => ({
  type: action.type,
  values: Object.fromEntries(Object.entries(action).flatMap(([name, value]) => (name === "type" ? [] : [[name, text(value)]]))),
});

/** The two action lists of the form: the follow-up's, and outbound calls' fallback. */
export type ActionList = "actions" | "fallback";

/** The form of a saved agent. */
export function draftOf(agent: Agent): AgentDraft {
  const { enabled, actions } = agent.voice_tools.post_call_follow_up;
  const outbound: Record<string, string> = {};
  const settings = agent.voice_tools.outbound_calls;
  if (settings) {
    for (const [name, value] of Object.entries(settings.platform)) outbound[`platform.${name}`] = text(value);
    if (settings.calling_hours) {
      for (const name of ["timezone", "start", "end"] as const) outbound[`calling_hours.${name}`] = settings.calling_hours[name];
    }
    outbound.default_country = text(settings.default_country);
    outbound["redial.on"] = text(settings.redial.on);
    outbound["redial.max_attempts"] = text(settings.redial.max_attempts);
    outbound["redial.interval_seconds"] = text(settings.redial.interval_seconds);
    outbound.result_timeout_seconds = text(settings.result_timeout_seconds);
  }
  return {
    enabled,
    actions: actions.map(actionDraftOf),
    fallback: (settings?.fallback_actions ?? []).map(actionDraftOf),
    outbound,
    days: settings?.calling_hours?.days ?? [],
  };
}

/** Actions a form may carry: more than the schema's 20, so that the schema says "too many". */
const MAX_FORM_ACTIONS = 40;

/** The form as posted: the draft, and which button was pressed (`op`). */
export function draftFromForm(form: FormData): { draft: AgentDraft; op: string } {
  const lists = { actions: new Map<number, ActionDraft>(), fallback: new Map<number, ActionDraft>() };
  const outbound: Record<string, string> = {};
  const days: string[] = [];
  for (const [name, value] of form) {
    if (typeof value !== "string") continue;
    const action = /^(actions|fallback)\[(\d{1,3})\]\[([a-z_]{1,40})\]$/.exec(name);
    if (action) {
      const actions = lists[action[1] as ActionList];
      const index = Number(action[2]);
      if (!actions.has(index) && actions.size >= MAX_FORM_ACTIONS) continue;
      const draft = actions.get(index) ?? { type: "", values: {} };
      if (action[3] === "type") draft.type = value;
      else draft.values[action[3]!] = value;
      actions.set(index, draft);
      continue;
    }
    if (name === "outbound[calling_hours][days]") {
      days.push(value);
      continue;
    }
    const setting = /^outbound((?:\[[a-z_]{1,40}\]){1,2})$/.exec(name);
    if (setting) outbound[setting[1]!.slice(1, -1).replaceAll("][", ".")] = value;
  }
  return {
    draft: {
      enabled: form.get("enabled") === "on",
      actions: [...lists.actions.entries()].sort(([a], [b]) => a - b).map(([, draft]) => draft),
      fallback: [...lists.fallback.entries()].sort(([a], [b]) => a - b).map(([, draft]) => draft),
      outbound,
      days,
    },
    op: String(form.get("op") ?? "save"),
  };
}

/**
 * Applies a button that changes the form without saving: `add` (with `new_type`) or
 * `add:sms`, `remove:2`, `up:2`, `down:2`, `refresh`; the same prefixed with `fallback-` act
 * on the fallback actions. Returns null for any other op.
 */
export function applyOp(draft: AgentDraft, op: string, newType: string | undefined): AgentDraft | null {
  const [prefixed, arg = ""] = op.split(":", 2) as [string, string | undefined];
  const list: ActionList = prefixed.startsWith("fallback-") ? "fallback" : "actions";
  const verb = list === "fallback" ? prefixed.slice("fallback-".length) : prefixed;
  const actions = [...draft[list]];
  // The form as it was sent: e.g. to show the fields of the platform just chosen.
  if (verb === "refresh") return draft;
  if (verb === "add") {
    const type = arg || newType || "";
    if (!isActionType(type)) return null;
    return { ...draft, [list]: [...actions, { type, values: {} }] };
  }
  const index = /^\d{1,3}$/.test(arg) ? Number(arg) : -1;
  if (index < 0 || index >= actions.length) return null;
  if (verb === "remove") actions.splice(index, 1);
  else if (verb === "up" || verb === "down") {
    const other = verb === "up" ? index - 1 : index + 1;
    if (other < 0 || other >= actions.length) return draft;
    [actions[index], actions[other]] = [actions[other]!, actions[index]!];
  } else return null;
  return { ...draft, [list]: actions };
}

/** An object without its undefined members: what a user did not fill in is left out. */
const defined = (entries: Record<string, unknown>) => Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined));
const optional = (value: string | undefined) => (value === undefined || value === "" ? undefined : value);
const list = (value: string | undefined) => {
  const items = (value ?? "").split(",").map((item) => item.trim()).filter(Boolean);
  return items.length > 0 ? items : undefined;
};
/** A whole number as a number; anything else as typed, for the schema to refuse by name. */
const numeric = (value: string | undefined) => {
  const v = value?.trim() ?? "";
  return v === "" ? undefined : /^-?\d{1,15}$/.test(v) ? Number(v) : v;
};

function actionOf(draft: ActionDraft): unknown {
  if (!isActionType(draft.type)) return { type: draft.type };
  const action: Record<string, unknown> = { type: draft.type };
  for (const field of ACTION_FIELDS[draft.type]) {
    const value = draft.values[field.name];
    action[field.name] =
      field.kind === "checkbox" ? (value === "on" ? true : undefined) : field.kind === "number" ? numeric(value) : field.kind === "list" ? list(value) : optional(value);
  }
  return defined(action);
}

/** What the form makes of voice_tools.outbound_calls; JSON that does not parse is a problem of its own. */
function outboundOf(draft: AgentDraft, problems: FieldProblem[]): unknown {
  const o = draft.outbound;
  const type = o["platform.type"] ?? "";
  if (type === "") return undefined;
  const platform: Record<string, unknown> = { type };
  for (const field of isDialerType(type) ? PLATFORM_FIELDS[type] : []) {
    const value = optional(o[`platform.${field.name}`]?.trim());
    if (value !== undefined && type === "http" && JSON_FIELDS.has(field.name)) {
      const path = ["voice_tools", "outbound_calls", "platform", field.name];
      try {
        platform[field.name] = JSON.parse(value);
      } catch {
        problems.push(fieldProblem(path, "not valid JSON"));
        platform[field.name] = {};
      }
      const deep = tooDeepAt(path, platform[field.name]);
      if (deep) {
        problems.push(fieldProblem(deep, `nested more than ${MAX_JSON_DEPTH} levels deep`));
        platform[field.name] = {};
      }
    } else platform[field.name] = value;
  }
  const hours = { timezone: optional(o["calling_hours.timezone"]?.trim()), start: optional(o["calling_hours.start"]?.trim()), end: optional(o["calling_hours.end"]?.trim()) };
  const anyHours = draft.days.length > 0 || Object.values(hours).some((v) => v !== undefined);
  return defined({
    platform: defined(platform),
    calling_hours: anyHours ? defined({ ...hours, days: draft.days }) : undefined,
    default_country: optional(o.default_country?.trim()),
    redial: defined({ on: list(o["redial.on"]), max_attempts: numeric(o["redial.max_attempts"]), interval_seconds: numeric(o["redial.interval_seconds"]) }),
    result_timeout_seconds: numeric(o.result_timeout_seconds),
    fallback_actions: draft.fallback.map(actionOf),
  });
}

/** The agent's config with the form's follow-up and outbound settings (fallback actions included) in place of its own. */
export function configOf(draft: AgentDraft, current: AgentConfig): { candidate: Record<string, unknown>; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const voiceTools = defined({
    ...current.voice_tools,
    post_call_follow_up: { enabled: draft.enabled, actions: draft.actions.map(actionOf) },
    outbound_calls: outboundOf(draft, problems),
  });
  return { candidate: { ...current, voice_tools: voiceTools }, problems };
}
