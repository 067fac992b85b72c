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
