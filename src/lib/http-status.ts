/**
 * Reading a remote HTTP answer: what a status means for a delivery, and when a server says
 * to come back. Shared by providers, webhooks and the retry policy.
 */

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
