import type { Job } from "../ledger/plan";
import { ledgerFor } from "../ledger/client";
import { afterAttempt } from "./after-attempt";
import { decide } from "./decide";
import { type ExecuteDeps, executeAction } from "./execute";

/** Past the claim's 60 s lease, so the retried copy can take the action again. */
const CRASH_RETRY_SECONDS = 90;
const MAX_QUEUE_DELAY_SECONDS = 43_200;

function isJob(body: unknown): body is Job {
  const j = body as Partial<Job> | null;
  return (
    typeof j === "object" && j !== null &&
    typeof j.agent_id === "string" && typeof j.call_id === "string" &&
    typeof j.action_index === "number" && typeof j.generation === "number"
  );
}

/** Thrown when the ledger will not let a claimed attempt send: a newer claim owns the action. */
class ClaimLost extends Error {}

/**
 * The `actions` queue consumer: one message is one attempt at one action. The ledger says
 * whether the job is still wanted and records the result; a retry comes back as a new job
 * the ledger sends, so this message is settled either way.
 */
export async function consumeActions(batch: MessageBatch<unknown>, env: CloudflareBindings, deps: ExecuteDeps): Promise<void> {
  await Promise.all(batch.messages.map((message) => consumeOne(message, env, deps)));
}

async function consumeOne(message: Message<unknown>, env: CloudflareBindings, deps: ExecuteDeps): Promise<void> {
  const job = message.body;
  if (!isJob(job)) {
    // Nothing we sent looks like this; retrying cannot help.
    console.error("consumer: dropping a message that is not a job", { id: message.id });
    message.ack();
    return;
  }
  const ledger = ledgerFor(env, job.agent_id, job.call_id);
  let token: number | undefined;
  try {
    const claim = await ledger.claim(job.action_index, job.generation);
    if (!claim.ok) {
      if ("until" in claim) {
        // An early copy of a job that is still wanted: bring it back when it is due.
        const seconds = Math.ceil((claim.until - Date.now()) / 1000);
        message.retry({ delaySeconds: Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(1, seconds)) });
      } else {
        message.ack();
      }
      return;
    }
    token = claim.token;
    const startedAt = Date.now();
    const { result, keyWindowSeconds } = await executeAction(claim, env, deps, {
      async beforeSend(provider) {
        if (!(await ledger.beginSend(job.action_index, claim.token, provider))) throw new ClaimLost();
      },
    });
    const keyExpiresAt = keyWindowSeconds ? (claim.round_started_at ?? startedAt) + keyWindowSeconds * 1000 : undefined;
    const decision = decide(result, claim.attempt, { startedAt, finishedAt: Date.now(), keyExpiresAt });
    const recorded = await ledger.record(job.action_index, claim.token, decision.record);
    // Bringing a recovered target's retries forward, or alerting on a final failure: started
    // now, awaited only once the message is acked, and it never rejects.
    const followUp = recorded ? afterAttempt(env, deps.fetch, claim, decision.record) : undefined;
    if (decision.kind === "dead-letter") await env.ACTIONS_DLQ.send(job, { contentType: "json" });
    message.ack();
    await followUp;
  } catch (err) {
    if (err instanceof ClaimLost) {
      message.ack();
      return;
    }
    // Our own fault (or the ledger unreachable): let the queue retry after the claim's lease has
    // run out. The ledger counts claims that never recorded an attempt and fails the action
    // after a few; an attempt that may have reached a provider that cannot deduplicate is not
    // repeated. Past max_retries the queue dead-letters the job, recorded as failed there.
    const error = err instanceof Error ? err.message : String(err);
    console.error("consumer: attempt crashed", { delivery_id: job.delivery_id, error });
    if (token !== undefined) await ledger.crashed(job.action_index, token, error).catch(() => {});
    message.retry({ delaySeconds: CRASH_RETRY_SECONDS });
  }
}

/** The `actions-dlq` consumer: whatever lands here is recorded as failed, never silently dropped. */
export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: CloudflareBindings): Promise<void> {
  for (const message of batch.messages) {
    const job = message.body;
    try {
      if (isJob(job)) {
        await ledgerFor(env, job.agent_id, job.call_id).deadLetter(job.action_index, job.generation, "dead-lettered: retries exhausted");
        console.warn("dlq: action failed for good", { delivery_id: job.delivery_id, call_id: job.call_id });
      }
      message.ack();
    } catch (err) {
      console.error("dlq: could not record a dead letter", { id: message.id, error: String(err) });
      message.retry({ delaySeconds: CRASH_RETRY_SECONDS });
    }
  }
}
