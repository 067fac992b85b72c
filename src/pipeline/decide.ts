import type { AttemptRecord } from "../schemas/delivery";
import type { SendResult } from "../providers/types";
import { MAX_ATTEMPTS, retryDelaySeconds } from "./retry-policy";

export type Decision =
  | { kind: "ack"; record: AttemptRecord }
  | { kind: "retry"; delaySeconds: number; record: AttemptRecord }
  /** Retries are used up: recorded as failed and handed to the dead-letter queue. */
  | { kind: "dead-letter"; record: AttemptRecord };

/** Turns one attempt's result into what happens next to its queue message. Pure. */
export function decide(
  result: SendResult,
  attempt: number,
  timing: { startedAt: number; finishedAt: number },
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
  return { kind: "retry", delaySeconds, record: { ...base, retry_at: timing.finishedAt + delaySeconds * 1000 } };
}
