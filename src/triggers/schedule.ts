/**
 * When a trigger's call is placed: now, after a delay, or at a time read from the event (the
 * appointment's start) moved by an offset (a day before). Calling hours apply later, to
 * whatever time this gives.
 */
import { type FieldProblem, fieldProblem } from "../errors";
import type { TriggerSchedule } from "../schemas/trigger";
import { renderPayloadTemplate } from "./payload-template";

export type ScheduleResult =
  | { kind: "now" }
  | { kind: "at"; at: number }
  | { kind: "filtered"; reason: string }
  | { kind: "invalid"; problem: FieldProblem };

/** ISO 8601 / RFC 3339 date-time; the offset is optional here only to name its absence. */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?)?$/i;

const AT_PATH = ["schedule", "at"] as const;

/** Text as a message quotes it: long ones cut short. */
function quoted(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

/**
 * An ISO 8601 date-time with `Z` or a numeric offset as epoch milliseconds; "no offset" for
 * a local date-time (its zone would be a guess); null for anything else, impossible dates
 * (2026-02-30) included.
 *
 * @example
 * parseOffsetTime("2026-03-12T10:30:00-05:00") // Date.parse("2026-03-12T15:30:00Z")
 * parseOffsetTime("2026-03-12T10:30:00") // "no offset"
 */
export function parseOffsetTime(text: string): number | "no offset" | null {
  const m = ISO_TIME.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s = "0", frac = "0", zulu, sign, oh = "0", om = "0"] = m;
  const fields = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const local = Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5], Number(frac.padEnd(3, "0").slice(0, 3)));
  // Date.UTC rolls Feb 30 into March and 24:00 into tomorrow; a time that does not read back is not one.
  const back = new Date(local);
  const readsBack =
    back.getUTCFullYear() === fields[0] &&
    back.getUTCMonth() === fields[1] - 1 &&
    back.getUTCDate() === fields[2] &&
    back.getUTCHours() === fields[3] &&
    back.getUTCMinutes() === fields[4] &&
    back.getUTCSeconds() === fields[5];
  if (!readsBack || Number(oh) > 23 || Number(om) > 59) return null;
  if (!zulu && !sign) return "no offset";
  const offsetMs = zulu ? 0 : (sign === "-" ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  return local - offsetMs;
}

function invalid(message: string): ScheduleResult {
  return { kind: "invalid", problem: fieldProblem(AT_PATH, message) };
}

/**
 * When to place the call for this event. No schedule: now. `delay_seconds`: that long after
 * `nowMs`. `at`: the template rendered over the payload, read as an ISO 8601 time with an
 * offset, plus `offset_seconds`. An event time already past is filtered, whatever the offset;
 * a computed time already past (the event still ahead) is now. A render that is empty, fails,
 * or is not such a time is invalid, at `schedule.at`.
 *
 * @example
 * triggerSchedule({ start: "2026-03-12T10:30:00Z" }, { at: "{{start}}", offset_seconds: -86_400 }, Date.parse("2026-03-01T00:00:00Z"))
 * // { kind: "at", at: Date.parse("2026-03-11T10:30:00Z") }
 */
export function triggerSchedule(payload: unknown, schedule: TriggerSchedule | undefined, nowMs: number): ScheduleResult {
  if (!schedule) return { kind: "now" };
  if ("delay_seconds" in schedule) {
    return schedule.delay_seconds > 0 ? { kind: "at", at: nowMs + schedule.delay_seconds * 1000 } : { kind: "now" };
  }
  let text: string;
  try {
    text = renderPayloadTemplate(schedule.at, payload).trim();
  } catch (err) {
    return invalid(err instanceof Error ? err.message : String(err));
  }
  const source = `(from the template ${quoted(schedule.at)})`;
  if (text === "") return invalid(`the template ${quoted(schedule.at)} rendered empty`);
  const eventAt = parseOffsetTime(text);
  if (eventAt === "no offset") {
    return invalid(`${quoted(text)} ${source} has no UTC offset, so its time zone would be a guess; it needs Z or ±hh:mm`);
  }
  if (eventAt === null) return invalid(`${quoted(text)} ${source} is not an ISO 8601 time, e.g. 2026-03-12T10:30:00-05:00`);

  // A call about an event that is over has nothing left to say, whatever the offset.
  if (eventAt < nowMs) return { kind: "filtered", reason: `the event time ${text} has passed` };
  const callAt = eventAt + (schedule.offset_seconds ?? 0) * 1000;
  // Too late for the planned moment: still worth a call while the event lies ahead.
  return callAt > nowMs ? { kind: "at", at: callAt } : { kind: "now" };
}
