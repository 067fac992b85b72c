import type { ClaimedAction } from "../ledger/call-ledger";
import { targetOf } from "../ledger/plan";
import type { AttemptRecord } from "../schemas/delivery";
import { alertOnFinalFailure } from "./alerts";
import { bringForwardTarget, noteWaiting } from "./recovery";

/**
 * What follows a recorded attempt, off the delivery's own path: a webhook that answered 2xx
 * brings its target's waiting retries forward; a delivery that failed for good (failed or
 * gone) raises an alert. Never rejects: whatever goes wrong here is logged, and the attempt,
 * already recorded, stands as it is.
 */
export async function afterAttempt(
  env: CloudflareBindings,
  fetcher: typeof fetch,
  claim: ClaimedAction,
  record: AttemptRecord,
): Promise<void> {
  try {
    const target = targetOf(claim.action);
    if (record.outcome === "retry" && claim.action.type === "webhook" && target) noteWaiting(target);
    if (record.outcome === "delivered" && claim.action.type === "webhook" && target) {
      await bringForwardTarget(env, target, claim.delivery_id);
    } else if (record.outcome === "failed" || record.outcome === "gone") {
      await alertOnFinalFailure(env, fetcher, {
        delivery_id: claim.delivery_id,
        agent_id: claim.event.agent_id,
        call_id: claim.event.call_id,
        action_type: claim.action.type,
        target,
        outcome: record.outcome,
        status_code: record.status_code,
        error: record.error,
        at: Date.now(),
      });
    }
  } catch (err) {
    console.error("consumer: follow-up of a recorded attempt failed", { delivery_id: claim.delivery_id, error: String(err) });
  }
}
