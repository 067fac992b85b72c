import type { SendResult } from "../types";

/**
 * Epoch ms of 12:00 UTC on a "YYYY-MM-DD" date. Services that take an instant for a
 * date-only due date show it in each user's time zone: midnight UTC would read as the
 * day before across the Americas and 23:59 UTC as the day after from Europe eastwards,
 * while midday UTC stays on the intended day from UTC−11 to UTC+11.
 */
export function middayUtc(date: string): number {
  const ms = Date.parse(`${date}T12:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(ms)) throw new Error(`due_date "${date}" is not YYYY-MM-DD`);
  return ms;
}

/**
 * Seconds until a reset time given as an epoch (seconds or milliseconds) or an ISO 8601
 * timestamp, for rate-limit headers that `retryAfterFrom` does not know by name.
 */
export function secondsUntil(raw: string | null, now: number): number | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  const ms = /^\d+(\.\d+)?$/.test(value) ? (Number(value) > 1e12 ? Number(value) : Number(value) * 1000) : Date.parse(value);
  if (!Number.isFinite(ms) || ms < 1e12) return undefined;
  return Math.max(0, Math.ceil((ms - now) / 1000));
}

/** Replaces the retry delay of a retried result when the provider gave a better one. */
export function withRetryAfter(result: SendResult, seconds: number | undefined): SendResult {
  if (result.outcome !== "retry" || result.retry_after_seconds !== undefined || seconds === undefined) return result;
  return { ...result, retry_after_seconds: seconds };
}

/** "asana 400: <message>", or undefined when the provider said nothing useful. */
export function failure(name: string, status: number, message: string | undefined): string | undefined {
  const text = message?.replace(/\s+/g, " ").trim().slice(0, 300);
  return text ? `${name} ${status}: ${text}` : undefined;
}

/** A non-empty trimmed string from a JSON value, else undefined. */
export const str = (value: unknown): string | undefined =>
  typeof value === "string" && value.trim() ? value.trim() : typeof value === "number" ? String(value) : undefined;
