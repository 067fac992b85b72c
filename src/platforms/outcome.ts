/**
 * Outcomes: each platform's ended reason mapped to the canonical vocabulary, and the
 * agent-level rule that reads a connected call's outcome from its structured details.
 */
import { type KnownOutcome, OUTCOMES, type Outcome } from "../schemas/platform-event";
import { isRecord } from "./json";

/** An exact ended-reason value, or a pattern for a family of them, and the outcome it means. */
export type OutcomeRule = readonly [match: string | RegExp, outcome: KnownOutcome];

/**
 * The outcome of the first rule that matches `reason`; `unknown` when none does or there is
 * no reason. Order matters: put specific rules before the families that contain them.
 *
 * @example
 * outcomeByRules("customer-busy", [["customer-busy", "busy"]]) // "busy"
 */
export function outcomeByRules(reason: string | null, rules: readonly OutcomeRule[]): KnownOutcome {
  if (reason === null) return "unknown";
  for (const [match, outcome] of rules) {
    if (typeof match === "string" ? match === reason : match.test(reason)) return outcome;
  }
  return "unknown";
}

const KNOWN: ReadonlySet<string> = new Set(OUTCOMES);
export const isKnownOutcome = (value: string): value is KnownOutcome => KNOWN.has(value);

/**
 * The outcomes an agent's `outcome_field` may refine: the call connected and the platform
 * said nothing more specific. `no_answer`, `busy`, `voicemail`, `declined` and `failed`
 * calls never reached a conversation whose extraction could be trusted, and an outcome a
 * sender already chose (e.g. `confirmed`) is kept.
 */
const REFINABLE: ReadonlySet<string> = new Set(["completed", "unknown"]);

export interface AgentOutcomeRule {
  /** A key of the event's `details`, e.g. `appointment_status`; a dotted path reaches nested values. */
  outcome_field?: string;
  /** From the extracted value to the outcome, e.g. `{ "yes": "confirmed", "reschedule": "reschedule_requested" }`. */
  outcome_map?: Record<string, string>;
}

export interface ResolvedOutcome {
  outcome: Outcome | null;
  /** `details`: read through the agent's `outcome_field`; `event`: the event's own outcome, unchanged. */
  source: "event" | "details";
}

/** The value at a key of `details`, or at a dotted path when no key has that exact name. */
function detailValue(details: unknown, field: string): unknown {
  if (!isRecord(details)) return undefined;
  if (Object.hasOwn(details, field)) return details[field];
  let current: unknown = details;
  for (const key of field.split(".")) {
    if (!isRecord(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

/** Extracted values come as strings, numbers or booleans; anything else cannot name an outcome. */
function asText(value: unknown): string | null {
  if (typeof value === "string") return value.trim() === "" ? null : value.trim();
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "boolean") return String(value);
  return null;
}

/** The map's entry for a value: exact key first, then ignoring case and surrounding spaces. */
function lookup(map: Record<string, string> | undefined, value: string): string | null {
  if (!map) return null;
  if (Object.hasOwn(map, value)) return map[value] ?? null;
  const folded = value.toLowerCase();
  for (const [key, outcome] of Object.entries(map)) if (key.trim().toLowerCase() === folded) return outcome;
  return null;
}

/**
 * The outcome of a call once the agent's `outcome_field`/`outcome_map` rule is applied. For
 * a connected call (outcome absent, `completed` or `unknown`) with a value at `outcome_field`
 * in `details`, the outcome becomes the map's entry for that value, or the value itself
 * when the map has none ("any other string is kept as given"). Otherwise the event's own
 * outcome stands.
 *
 * @example
 * resolveOutcome(
 *   { outcome: "completed", details: { appointment_status: "yes" } },
 *   { outcome_field: "appointment_status", outcome_map: { yes: "confirmed" } },
 * ) // { outcome: "confirmed", source: "details" }
 */
export function resolveOutcome(
  event: { outcome?: string | null; details?: Record<string, unknown> | null },
  agent: AgentOutcomeRule,
): ResolvedOutcome {
  const own: ResolvedOutcome = { outcome: event.outcome ?? null, source: "event" };
  if (!agent.outcome_field) return own;
  if (event.outcome != null && !REFINABLE.has(event.outcome)) return own;
  const value = asText(detailValue(event.details, agent.outcome_field));
  if (value === null) return own;
  const mapped = lookup(agent.outcome_map, value);
  return { outcome: (mapped ?? value).slice(0, 128), source: "details" };
}
