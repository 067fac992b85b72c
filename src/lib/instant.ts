/**
 * Reading points in time that arrive in the many shapes voice platforms and no-code tools
 * send, and writing them as ISO 8601 UTC. Pure; anything unclear comes back as null so the
 * caller decides whether that is an error.
 */

/**
 * Epoch values below this are seconds, at or above it milliseconds. 1e11 seconds is the
 * year 5138 and 1e11 milliseconds is March 1973, so no plausible call time is ambiguous.
 */
const MS_THRESHOLD = 1e11;

/** Calls this relay handles happen between these years; outside them a number is not a time. */
const EARLIEST = Date.UTC(2000, 0, 1);
const LATEST = Date.UTC(2100, 0, 1);

const DIGITS = /^\d+(?:\.\d+)?$/;
/** `YYYY-MM-DD HH:MM:SS[.fff]`, as spreadsheets and Zapier's date formatting write it. */
const SPACED = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;
/** ISO 8601 date-time with `Z` or a numeric offset (what the canonical schema accepts). */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i;
/** ISO 8601 date-time without an offset: valid only where a platform documents UTC. */
const ISO_LOCAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;

const inRange = (ms: number) => Number.isFinite(ms) && ms >= EARLIEST && ms < LATEST;

/**
 * An epoch number (seconds or milliseconds, told apart by size) as epoch milliseconds,
 * or null when it is not a plausible call time.
 *
 * @example
 * epochToMs(1739537297) // 1739537297000
 * epochToMs(1703302428855) // 1703302428855
 */
export function epochToMs(value: number): number | null {
  if (!Number.isFinite(value) || value <= 0) return null;
  const ms = value < MS_THRESHOLD ? value * 1000 : value;
  return inRange(ms) ? Math.round(ms) : null;
}

/** `YYYY-MM-DD HH:MM:SS` read as UTC, as epoch milliseconds; null when not that shape or not a real date. */
export function spacedUtcToMs(text: string): number | null {
  const m = SPACED.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac = "0"] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(frac.padEnd(3, "0").slice(0, 3)));
  // Date.UTC rolls 2026-02-30 over into March; a date that does not round-trip is not a date.
  const back = new Date(ms);
  if (back.getUTCMonth() !== Number(mo) - 1 || back.getUTCDate() !== Number(d) || back.getUTCHours() !== Number(h)) return null;
  return inRange(ms) ? ms : null;
}

const toIso = (ms: number) => new Date(ms).toISOString();

/**
 * An ISO 8601 UTC string for a value a platform sent as a time: epoch seconds or
 * milliseconds (number or digit string), an ISO string with an offset, or `YYYY-MM-DD
 * HH:MM:SS` read as UTC. With `assumeUtc`, an ISO string without an offset is read as UTC
 * too (for platforms that document UTC but leave the `Z` off). Anything else: null.
 *
 * @example
 * toInstant(1739537297) // "2025-02-14T12:48:17.000Z"
 * toInstant("2026-03-10 15:04:05") // "2026-03-10T15:04:05.000Z"
 * toInstant("yesterday") // null
 */
export function toInstant(value: unknown, options: { assumeUtc?: boolean } = {}): string | null {
  if (typeof value === "number") {
    const ms = epochToMs(value);
    return ms === null ? null : toIso(ms);
  }
  if (typeof value !== "string") return null;
  const text = value.trim();
  if (DIGITS.test(text)) return toInstant(Number(text));
  const spaced = spacedUtcToMs(text);
  if (spaced !== null) return toIso(spaced);
  const local = ISO_LOCAL.test(text);
  if (!ISO_WITH_OFFSET.test(text) && !(local && options.assumeUtc)) return null;
  const ms = Date.parse(local ? `${text}Z` : text);
  return inRange(ms) ? toIso(ms) : null;
}

/** Milliseconds between two instants as seconds, or null when either is missing or they run backwards. */
export function secondsBetween(start: string | null, end: string | null): number | null {
  if (start === null || end === null) return null;
  const seconds = (Date.parse(end) - Date.parse(start)) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
}
