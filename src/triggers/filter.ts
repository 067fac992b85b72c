/**
 * A trigger's filter: conditions on the event's payload that must all hold for a call to be
 * placed. The reason a filter gives is shown to whoever set up the automation, so it names the
 * field, what the field held and the condition it failed.
 */
import type { FilterCondition } from "../schemas/trigger";
import { payloadValue } from "./payload-template";

export type FilterResult = { pass: true } | { pass: false; reason: string };

/** How much of a value a reason shows. */
const SHOWN_CHARS = 80;

/**
 * A scalar's text, so a form body's "5" equals the JSON 5 and "true" equals true; undefined
 * for null, absent values, objects and lists, which equal nothing.
 */
function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if ((typeof value === "number" && Number.isFinite(value)) || typeof value === "boolean") return String(value);
  return undefined;
}

/** A value as a reason shows it: its JSON, clipped; "missing" when absent. */
function shown(value: unknown): string {
  if (value === undefined) return "missing";
  const json = JSON.stringify(value) ?? String(value);
  return json.length > SHOWN_CHARS ? `${json.slice(0, SHOWN_CHARS)}…` : json;
}

const present = (value: unknown) => value !== undefined && value !== null && value !== "";

function equal(value: unknown, expected: unknown): boolean {
  const text = scalarText(value);
  return text !== undefined && text === scalarText(expected);
}

function contains(value: unknown, needle: unknown): boolean {
  const wanted = scalarText(needle);
  if (wanted === undefined) return false;
  if (Array.isArray(value)) return value.some((item) => scalarText(item) === wanted);
  return scalarText(value)?.includes(wanted) ?? false;
}

function matches(value: unknown, pattern: unknown): boolean {
  const text = scalarText(value);
  if (text === undefined || typeof pattern !== "string") return false;
  try {
    return new RegExp(pattern, "u").test(text);
  } catch {
    return false; // the schema refuses bad patterns on save; one that slipped by matches nothing
  }
}

/** Whether one condition holds for `value`, the payload's value at the condition's field. */
function holds(condition: FilterCondition, value: unknown): boolean {
  switch (condition.op) {
    case "exists":
      return present(value);
    case "not_exists":
      return !present(value);
    case "eq":
      return equal(value, condition.value);
    case "ne":
      return !equal(value, condition.value);
    case "in":
      return Array.isArray(condition.value) && condition.value.some((item) => equal(value, item));
    case "contains":
      return contains(value, condition.value);
    case "matches":
      return matches(value, condition.value);
  }
}

function reason(condition: FilterCondition, value: unknown): string {
  const { field, op } = condition;
  if (op === "exists") return `${field} is ${value === "" ? "empty" : shown(value)}; exists needs a value`;
  if (op === "not_exists") return `${field} is ${shown(value)}; not_exists needs none`;
  return `${field} is ${shown(value)}, not ${op} ${shown(condition.value)}`;
}

/**
 * Whether a payload passes every condition, or the first one it fails. `exists` means present
 * and neither null nor ""; `eq`, `ne` and `in` compare scalars as text (case-sensitive);
 * `contains` looks for a substring of a text or an item of a list; `matches` tests a regular
 * expression (with the u flag) against the value's text. No conditions: pass.
 *
 * @example
 * evaluateFilter({ deal: { stage: "lost" } }, [{ field: "deal.stage", op: "eq", value: "won" }])
 * // { pass: false, reason: 'deal.stage is "lost", not eq "won"' }
 */
export function evaluateFilter(payload: unknown, conditions: readonly FilterCondition[] | undefined): FilterResult {
  for (const condition of conditions ?? []) {
    const value = payloadValue(payload, condition.field);
    if (!holds(condition, value)) return { pass: false, reason: reason(condition, value) };
  }
  return { pass: true };
}
