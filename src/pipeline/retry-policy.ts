/**
 * Pure retry decisions for outbound webhook deliveries.
 * The schedule follows Svix: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
 */

export const RETRY_SCHEDULE_SECONDS = [5, 300, 1800, 7200, 18000, 36000, 36000] as const;
/** First try plus one retry per schedule entry. */
export const MAX_ATTEMPTS = RETRY_SCHEDULE_SECONDS.length + 1;
/** Cloudflare Queues refuses retry delays above 12 h. */
export const MAX_DELAY_SECONDS = 43_200;
/** A zero Retry-After would hot-loop a failing target. */
export const MIN_RETRY_AFTER_SECONDS = 1;

const JITTER = 0.2;

export type Outcome = "delivered" | "retry" | "failed" | "gone";

/**
 * Maps a target's HTTP status to what happens next.
 * Redirects count as failures: following them would send a signed payload to a URL
 * the owner never registered (and past the SSRF check).
 */
export function classifyStatus(status: number): Outcome {
  if (status >= 200 && status <= 299) return "delivered";
  if (status === 410) return "gone";
  if (status === 408 || status === 425 || status === 429) return "retry";
  if (status >= 500 && status <= 599) return "retry";
  return "failed";
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAY = "(?:mon|tue|wed|thu|fri|sat|sun)";
const LONG_DAY = "(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)";
const MONTH = "(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)";
const TIME = "(\\d{2}):(\\d{2}):(\\d{2})";
// RFC 9110 §5.6.7: recipients must accept IMF-fixdate and both obsolete forms.
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`, "i");
const RFC850_DATE = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`, "i");
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`, "i");

/** Builds a UTC timestamp in ms from HTTP-date fields, or null if any field is out of range. */
function utcMs(year: number, month: string, day: number, h: number, m: number, s: number): number | null {
  const monthIndex = MONTHS.indexOf(month.toLowerCase());
  if (monthIndex === -1 || h > 23 || m > 59 || s > 60) return null;
  const ms = Date.UTC(year, monthIndex, day, h, m, Math.min(s, 59));
  // Date.UTC rolls 31 Feb over into March; treat that as garbage.
  if (new Date(ms).getUTCDate() !== day) return null;
  return ms;
}

/** Parses an HTTP-date (RFC 9110) to epoch ms, or null. Date.parse is avoided: it accepts far too much. */
export function parseHttpDate(value: string, nowMs: number): number | null {
  let match = IMF_FIXDATE.exec(value);
  if (match) {
    const [, d, mon, y, h, m, s] = match;
    return utcMs(Number(y), mon ?? "", Number(d), Number(h), Number(m), Number(s));
  }
  match = RFC850_DATE.exec(value);
  if (match) {
    const [, d, mon, yy, h, m, s] = match;
    // Two-digit years more than 50 years ahead belong to the previous century (RFC 9110).
    const currentYear = new Date(nowMs).getUTCFullYear();
    let year = Math.floor(currentYear / 100) * 100 + Number(yy);
    if (year > currentYear + 50) year -= 100;
    return utcMs(year, mon ?? "", Number(d), Number(h), Number(m), Number(s));
  }
  match = ASCTIME_DATE.exec(value);
  if (match) {
    const [, mon, d, h, m, s, y] = match;
    return utcMs(Number(y), mon ?? "", Number(d), Number(h), Number(m), Number(s));
  }
  return null;
}

/**
 * Reads a Retry-After header as whole seconds from now.
 * Accepts delta-seconds and HTTP-date; garbage or negative gives undefined, a past date 0.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value == null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const seconds = Number(trimmed);
    return Number.isFinite(seconds) ? seconds : undefined;
  }
  const dateMs = parseHttpDate(trimmed, nowMs);
  if (dateMs === null) return undefined;
  return Math.max(0, Math.ceil((dateMs - nowMs) / 1000));
}

/**
 * Seconds to wait before the next attempt, or null when attempts are exhausted.
 * `attempt` counts attempts already made (1 after the first try). A target's Retry-After
 * wins over the schedule, clamped so it can neither hot-loop nor exceed the queue's limit.
 */
export function retryDelaySeconds(input: {
  attempt: number;
  retryAfterSeconds?: number;
  random?: () => number;
}): number | null {
  const { attempt } = input;
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be a positive integer, got ${attempt}`);
  }
  if (attempt >= MAX_ATTEMPTS) return null;

  const retryAfter = input.retryAfterSeconds;
  if (retryAfter !== undefined && !Number.isNaN(retryAfter)) {
    return Math.min(MAX_DELAY_SECONDS, Math.max(MIN_RETRY_AFTER_SECONDS, Math.ceil(retryAfter)));
  }

  const base = RETRY_SCHEDULE_SECONDS[attempt - 1];
  if (base === undefined) return null;
  // ±20% jitter spreads out retries from many deliveries that failed together.
  const random = input.random ?? Math.random;
  const factor = 1 + (random() * 2 - 1) * JITTER;
  return Math.min(MAX_DELAY_SECONDS, Math.max(1, Math.round(base * factor)));
}
