import { type Claim, ledgerFor } from "../ledger/call-ledger";
import type { Job } from "../ledger/plan";
import { decide } from "./decide";
import { type ExecuteDeps, executeAction } from "./execute";

const CRASH_RETRY_SECONDS = 90;

function isJob(body: unknown): body is Job {
  const j = body as Partial<Job> | null;
  return (
    typeof j === "object" && j !== null &&
    typeof j.agent_id === "string" && typeof j.call_id === "string" &&
    typeof j.action_index === "number" && typeof j.generation === "number"
  );
}

/**
 * The `actions` queue consumer: one message is one attempt at one action. The ledger says
 * whether the job is still wanted; the attempt's result decides ack, delayed retry or
 * dead-letter, and the ledger records it before the message is settled.
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
  try {
    const ledger = ledgerFor(env, job.agent_id, job.call_id);
    // RPC stubs blur discriminated unions; the ledger's own type is the contract.
    const claim = (await ledger.claim(job.action_index, job.generation)) as Claim;
    if (!claim.ok) {
      message.ack();
      return;
    }
    const startedAt = Date.now();
    const { result } = await executeAction(claim, env, deps, { beforeSend: async () => {} });
    const decision = decide(result, claim.attempt, { startedAt, finishedAt: Date.now() });
    await ledger.record(job.action_index, decision.record);
    if (decision.kind === "retry") {
      message.retry({ delaySeconds: decision.delaySeconds });
      return;
    }
    if (decision.kind === "dead-letter") await env.ACTIONS_DLQ.send(job, { contentType: "json" });
    message.ack();
  } catch (err) {
    // Our own fault (or the ledger unreachable): let the queue retry, after the claim's lease
    // has run out; past max_retries it goes to the dead-letter queue, recorded as failed there.
    console.error("consumer: attempt crashed", { delivery_id: job.delivery_id, error: String(err) });
    message.retry({ delaySeconds: CRASH_RETRY_SECONDS });
  }
}

/** The `actions-dlq` consumer: whatever lands here is recorded as failed, never silently dropped. */
export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: CloudflareBindings): Promise<void> {
  for (const message of batch.messages) {
    const job = message.body;
    try {
      if (isJob(job)) {
        await ledgerFor(env, job.agent_id, job.call_id).deadLetter(job.action_index, "dead-lettered: retries exhausted");
        console.warn("dlq: action failed for good", { delivery_id: job.delivery_id, call_id: job.call_id });
      }
      message.ack();
    } catch (err) {
      console.error("dlq: could not record a dead letter", { id: message.id, error: String(err) });
      message.retry({ delaySeconds: CRASH_RETRY_SECONDS });
    }
  }
}
