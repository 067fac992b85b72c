/**
 * Calling hours: when, in the callee's local time, a call may be placed. Pure; local times are
 * read with Intl.DateTimeFormat, so daylight-saving changes follow the runtime's tz data.
 */
import { type CallingHours, WEEKDAYS, type Weekday } from "../schemas/outbound";

/** A wall-clock reading of one instant in one time zone. `month` is 1–12. */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: Weekday;
}

const DAY_MS = 86_400_000;
/** Today plus seven more days: every weekday comes round within that. */
const LOOKAHEAD_DAYS = 8;

// Building a DateTimeFormat is far slower than using one. The key set is small (validated
// zone names), but capped anyway since the names arrive from requests.
const FORMATTERS = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 256;

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = FORMATTERS.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    if (FORMATTERS.size >= MAX_FORMATTERS) FORMATTERS.clear();
    FORMATTERS.set(timeZone, f);
  }
  return f;
}

/** Monday-first weekday of a civil date (Date's getUTCDay counts from Sunday). */
function weekdayOf(year: number, month: number, day: number): Weekday {
  return WEEKDAYS[(new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7]!;
}

/**
 * The wall-clock reading of instant `ms` in `timeZone`. Throws RangeError for a zone the
 * runtime does not know.
 *
 * @example
 * localParts(Date.parse("2026-03-09T13:00:00Z"), "America/New_York")
 * // { year: 2026, month: 3, day: 9, hour: 9, minute: 0, second: 0, weekday: "mon" }
 */
export function localParts(ms: number, timeZone: string): LocalParts {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(ms)) if (p.type !== "literal") parts[p.type] = Number(p.value);
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts;
  return { year, month, day, hour, minute, second, weekday: weekdayOf(year, month, day) };
}

/** How far `timeZone` is ahead of UTC at instant `ms`, in milliseconds (whole seconds). */
function offsetAt(ms: number, timeZone: string): number {
  const p = localParts(ms, timeZone);
  const floored = ms - (((ms % 1000) + 1000) % 1000);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - floored;
}

/**
 * The instant at which the wall clock in `timeZone` reads the given local time (`month` 1–12).
 * A time that happens twice (clocks go back) is its first occurrence; a time that never
 * happens (clocks go forward over it) is the first instant after the gap.
 *
 * @example
 * zonedTimeToUtc(2026, 3, 8, 9, 0, "America/New_York") // Date.parse("2026-03-08T13:00:00Z")
 * zonedTimeToUtc(2026, 3, 8, 2, 30, "America/New_York") // Date.parse("2026-03-08T07:00:00Z"), 03:00 EDT
 */
export function zonedTimeToUtc(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // A day either side of a wall time holds the offsets in force before and after any change
  // near it (zones change offset at most a few times a year).
  const before = wall - offsetAt(wall - DAY_MS, timeZone);
  const after = wall - offsetAt(wall + DAY_MS, timeZone);
  const readsWall = (ms: number) => ms + offsetAt(ms, timeZone) === wall;
  const first = Math.min(before, after);
  const second = Math.max(before, after);
  if (readsWall(first)) return first;
  if (readsWall(second)) return second;
  return endOfGap(first, second, timeZone);
}

/**
 * The moment the clocks jumped, somewhere in (`lo`, `hi`]: the first instant carrying the
 * later offset, found by bisection to the second.
 */
function endOfGap(lo: number, hi: number, timeZone: string): number {
  const later = offsetAt(hi, timeZone);
  let low = lo;
  let high = hi;
  while (high - low > 1000) {
    const mid = low + Math.floor((high - low) / 2000) * 1000;
    if (offsetAt(mid, timeZone) === later) high = mid;
    else low = mid;
  }
  return high;
}

/** "09:30" → [9, 30]; the schema has already checked the shape. */
function hourMinute(hhmm: string): [number, number] {
  const [h = "0", m = "0"] = hhmm.split(":");
  return [Number(h), Number(m)];
}

/**
 * The first instant at or after `atMs` inside the calling hours: from `start` (inclusive) to
 * `end` (exclusive) on the listed days, read in `calleeTimeZone` when given, else in the
 * hours' own zone. No hours: `atMs` itself. Throws RangeError for an unknown zone (both
 * zones are validated before they are stored).
 *
 * @example
 * const hours = { timezone: "America/New_York", days: ["mon", "tue", "wed", "thu", "fri"], start: "09:00", end: "20:00" };
 * nextOpening(Date.parse("2026-03-07T02:00:00Z"), hours) // Fri 21:00 → Date.parse("2026-03-09T13:00:00Z"), Mon 09:00 EDT
 */
export function nextOpening(atMs: number, hours: CallingHours | undefined, calleeTimeZone?: string): number {
  if (!hours) return atMs;
  const timeZone = calleeTimeZone ?? hours.timezone;
  const days = new Set<Weekday>(hours.days);
  const [startH, startM] = hourMinute(hours.start);
  const [endH, endM] = hourMinute(hours.end);
  const today = localParts(atMs, timeZone);
  for (let i = 0; i < LOOKAHEAD_DAYS; i++) {
    // Calendar arithmetic in UTC, where every day is 24 hours long.
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + i));
    const [y, m, d] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    if (!days.has(weekdayOf(y, m, d))) continue;
    const end = zonedTimeToUtc(y, m, d, endH, endM, timeZone);
    if (atMs < end) return Math.max(atMs, zonedTimeToUtc(y, m, d, startH, startM, timeZone));
  }
  // Only hours listing no day get here (the schema requires one): never open, so no wait helps.
  return atMs;
}
