import type { AttemptRecord } from "../schemas/delivery";
import type { SendResult } from "../providers/types";
import { MAX_ATTEMPTS, retryDelaySeconds } from "./retry-policy";

export type Decision =
  | { kind: "ack"; record: AttemptRecord }
  /** The ledger sends the next attempt's job, due at `record.retry_at`. */
  | { kind: "retry"; delaySeconds: number; record: AttemptRecord }
  /** Retries are used up: recorded as failed and handed to the dead-letter queue. */
  | { kind: "dead-letter"; record: AttemptRecord };

/**
 * At most once, where a provider cannot deduplicate: an attempt that may have reached it with
 * no answer saying what it did (a timeout, a lost connection, a gateway timeout) ends
 * `unknown` and is not sent again, as an attempt cut off by a crash does, since a second copy
 * could text or email the caller twice. An action with resend_on_unknown is retried instead.
 * Pure.
 *
 * @example
 * atMostOnce({ outcome: "retry", error: "twilio: timeout", may_have_arrived: true }, { name: "twilio", dedupes: false }, false).outcome // "unknown"
 */
export function atMostOnce(result: SendResult, provider: { name: string; dedupes: boolean }, resendOnUnknown: boolean): SendResult {
  if (provider.dedupes || result.outcome !== "retry" || !result.may_have_arrived) return result;
  const error = result.error ?? "no answer";
  if (resendOnUnknown) return { ...result, error: `${error}; it may have arrived, and is sent again as the action sets resend_on_unknown` };
  const { retry_after_seconds: _, ...rest } = result;
  return { ...rest, outcome: "unknown", error: `${error}; outcome unknown: it may have reached ${provider.name}, which cannot deduplicate, so it is not re-sent` };
}

/**
 * Turns one attempt's result into what happens next. Pure. `keyExpiresAt` is when the
 * provider forgets the idempotency key this budget uses: no retry may be made after it, as a
 * repeat would no longer be recognised as one.
 */
export function decide(
  result: SendResult,
  attempt: number,
  timing: { startedAt: number; finishedAt: number; keyExpiresAt?: number },
  random: () => number = Math.random,
): Decision {
  const base: AttemptRecord = {
    outcome: result.outcome,
    started_at: new Date(timing.startedAt).toISOString(),
    duration_ms: Math.max(0, Math.round(timing.finishedAt - timing.startedAt)),
    status_code: result.status_code,
    error: result.error,
    response_body: result.response_body,
    provider_id: result.provider_id,
    provider: result.provider,
    detail: result.detail,
  };
  if (result.outcome !== "retry") return { kind: "ack", record: base };
  const delaySeconds = retryDelaySeconds({ attempt, retryAfterSeconds: result.retry_after_seconds, random });
  if (delaySeconds === null) {
    return {
      kind: "dead-letter",
      record: { ...base, outcome: "failed", error: `gave up after ${MAX_ATTEMPTS} attempts; last: ${result.error ?? "no detail"}` },
    };
  }
  const retryAt = timing.finishedAt + delaySeconds * 1000;
  if (timing.keyExpiresAt !== undefined && retryAt > timing.keyExpiresAt) {
    const hours = Math.round((timing.keyExpiresAt - timing.startedAt) / 3_600_000);
    return {
      kind: "dead-letter",
      record: {
        ...base,
        outcome: "failed",
        error: `gave up after ${attempt} attempts: the next would come after the provider forgets its idempotency key${hours > 0 ? ` (in ${hours} h)` : ""}; last: ${result.error ?? "no detail"}`,
      },
    };
  }
  return { kind: "retry", delaySeconds, record: { ...base, retry_at: retryAt } };
}
