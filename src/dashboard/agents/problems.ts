import type { FieldProblem } from "../../errors";
import { ACTION_FIELDS, type AgentDraft, OUTBOUND_KEYS, PLATFORM_FIELDS, isActionType, isDialerType } from "./draft";

/** A problem placed on the form: beside the field it names, or beside the nearest group holding it. */
export interface PlacedProblem {
  key: string;
  /** The problem's path in the config, e.g. $.voice_tools.post_call_follow_up.actions[1].template. */
  path: string;
  /** Shown on a group (an action, the re-dial settings) rather than on its own field: then with its path. */
  onGroup: boolean;
  message: string;
}

/** Every key the form shows a problem beside (each input, each action, each group), roughly in the form's order. */
function formKeys(draft: AgentDraft): string[] {
  const keys = ["enabled", "actions"];
  draft.actions.forEach((action, i) => {
    keys.push(`actions.${i}`, `actions.${i}.type`);
    for (const field of isActionType(action.type) ? ACTION_FIELDS[action.type] : []) keys.push(`actions.${i}.${field.name}`);
  });
  keys.push("fallback");
  draft.fallback.forEach((action, i) => {
    keys.push(`fallback.${i}`, `fallback.${i}.type`);
    for (const field of isActionType(action.type) ? ACTION_FIELDS[action.type] : []) keys.push(`fallback.${i}.${field.name}`);
  });
  const type = draft.outbound["platform.type"] ?? "";
  keys.push("outbound", "outbound.platform");
  const [platformType, ...settings] = OUTBOUND_KEYS.map((key) => `outbound.${key}`);
  keys.push(platformType!);
  for (const field of isDialerType(type) ? PLATFORM_FIELDS[type] : []) keys.push(`outbound.platform.${field.name}`);
  keys.push("outbound.calling_hours", "outbound.calling_hours.days", ...settings, "outbound.redial");
  return keys;
}

/** The form key of a config path: follow-up fields lose their prefix, outbound ones become `outbound.`. */
function keyOfPointer(pointer: string): string | null {
  const parts = pointer
    .split("/")
    .slice(1)
    .map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
  if (parts[0] !== "voice_tools") return null;
  if (parts[1] === "post_call_follow_up") return parts.slice(2).join(".") || "enabled";
  if (parts[1] === "outbound_calls" && parts[2] === "fallback_actions") return ["fallback", ...parts.slice(3)].join(".");
  if (parts[1] === "outbound_calls") return ["outbound", ...parts.slice(2)].join(".");
  return null;
}

/**
 * Places each problem of a save beside its input: the field it names, else the nearest group
 * that holds it (then with its path, e.g. a re-dial outcome or a fallback action). What the form
 * does not show at all (another part of the config) is left for the page's summary.
 */
export function placeProblems(problems: FieldProblem[], draft: AgentDraft): { placed: PlacedProblem[]; elsewhere: FieldProblem[] } {
  const order = formKeys(draft);
  const keys = new Set(order);
  const placed: PlacedProblem[] = [];
  const elsewhere: FieldProblem[] = [];
  for (const problem of problems) {
    let key = keyOfPointer(problem.pointer);
    const exact = key;
    while (key !== null && !keys.has(key)) key = key.includes(".") ? key.slice(0, key.lastIndexOf(".")) : null;
    if (key === null) {
      elsewhere.push(problem);
      continue;
    }
    // An array's item is the array's field: the days, a comma-separated list of outcomes.
    const own = key === exact || /^\.\d+$/.test(exact!.slice(key.length));
    // The form leaves out what was not filled in, so "expected string, received undefined" means empty.
    const message = problem.message.includes("received undefined") ? "required" : problem.message;
    placed.push({ key, path: problem.path, onGroup: !own, message });
  }
  placed.sort((a, b) => order.indexOf(a.key) - order.indexOf(b.key));
  return { placed, elsewhere };
}
