import type { Claim, ClaimedAction } from "../ledger/call-ledger";
import { type LedgerClient, ledgerFor } from "../ledger/client";
import { type Job, jobsIn } from "../ledger/plan";
import type { AttemptRecord } from "../schemas/delivery";
import { afterAttempt } from "./after-attempt";
import { decide } from "./decide";
import { type ExecuteDeps, executeAction } from "./execute";

/** Past the claim's 60 s lease, so the retried copy can take the action again. */
const CRASH_RETRY_SECONDS = 90;
const MAX_QUEUE_DELAY_SECONDS = 43_200;

/** Thrown when the ledger will not let a claimed attempt send: a newer claim owns the action. */
class ClaimLost extends Error {}

/** What became of one job of a message. */
type Outcome =
  /** Nothing more to do for it: refused by the ledger, or its claim was lost. */
  | { kind: "done" }
  /** Wanted, but not now: the message should come back after this many seconds. */
  | { kind: "later"; seconds: number }
  /** Attempted: the result to record. */
  | { kind: "attempted"; job: Job; claim: ClaimedAction; record: AttemptRecord; deadLetter: boolean }
  /** Our own fault (or the ledger unreachable) after the claim. */
  | { kind: "crashed"; job: Job; token: number; error: string };

/**
 * The `actions` queue consumer. A message carries one job, or the jobs of one call due
 * together; each job is one attempt at one action. The ledger says whether each job is still
 * wanted and records the results; a retry comes back as a new job the ledger sends, so a
 * message is settled once its jobs are, and comes back whole only while one of them still has
 * to run (the ledger refuses the others then).
 */
export async function consumeActions(batch: MessageBatch<unknown>, env: CloudflareBindings, deps: ExecuteDeps): Promise<void> {
  await Promise.all(batch.messages.map((message) => consumeMessage(message, env, deps)));
}

async function consumeMessage(message: Message<unknown>, env: CloudflareBindings, deps: ExecuteDeps): Promise<void> {
  const jobs = jobsIn(message.body);
  if (!jobs) {
    // Nothing we sent looks like this; retrying cannot help.
    console.error("consumer: dropping a message that is not a job", { id: message.id });
    message.ack();
    return;
  }
  const ledger = ledgerFor(env, jobs[0]!.agent_id, jobs[0]!.call_id);
  let outcomes: Outcome[];
  try {
    const claims = await ledger.claimAll(jobs.map((j) => ({ index: j.action_index, generation: j.generation })));
    outcomes = await Promise.all(jobs.map((job, i) => attempt(job, claims[i]!, ledger, env, deps)));
  } catch (err) {
    // The claims themselves failed: nothing was taken, so the whole message comes back.
    console.error("consumer: claim failed", { delivery_id: jobs[0]!.delivery_id, error: String(err) });
    message.retry({ delaySeconds: CRASH_RETRY_SECONDS });
    return;
  }
  outcomes = await recordResults(outcomes, ledger);

  const followUps: Promise<void>[] = [];
  for (const o of outcomes) {
    if (o.kind !== "attempted") continue;
    // Bringing a recovered target's retries forward, or alerting on a final failure: started
    // now, awaited only once the message is settled, and they never reject.
    followUps.push(afterAttempt(env, deps.fetch, o.claim, o.record));
    // The ledger has already failed the action; the dead letter only makes it visible there.
    if (o.deadLetter) {
      await env.ACTIONS_DLQ.send(o.job, { contentType: "json" }).catch((err: unknown) => {
        console.error("consumer: could not dead-letter an exhausted job", { delivery_id: o.job.delivery_id, error: String(err) });
      });
    }
  }
  for (const o of outcomes) {
    if (o.kind === "crashed") {
      console.error("consumer: attempt crashed", { delivery_id: o.job.delivery_id, error: o.error });
      await ledger.crashed(o.job.action_index, o.token, o.error).catch(() => {});
    }
  }
  // Coming back once is enough for every job still wanted: the soonest one decides, and a job
  // back too early is deferred again. A crashed attempt is retried after its lease has run
  // out; the ledger counts claims that never recorded an attempt and fails the action after a
  // few. Past max_retries the queue dead-letters the message, recorded as failed there.
  const delays = outcomes.flatMap((o) => (o.kind === "later" ? [o.seconds] : o.kind === "crashed" ? [CRASH_RETRY_SECONDS] : []));
  if (delays.length > 0) message.retry({ delaySeconds: Math.min(...delays) });
  else message.ack();
  await Promise.all(followUps);
}

/** Sends one claimed job's attempt; never throws. */
async function attempt(job: Job, claim: Claim, ledger: LedgerClient, env: CloudflareBindings, deps: ExecuteDeps): Promise<Outcome> {
  if (!claim.ok) {
    if (!("until" in claim)) return { kind: "done" };
    // An early copy of a job that is still wanted: it comes back when it is due.
    const seconds = Math.ceil((claim.until - Date.now()) / 1000);
    return { kind: "later", seconds: Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(1, seconds)) };
  }
  try {
    const startedAt = Date.now();
    const { result, keyWindowSeconds } = await executeAction(claim, env, deps, {
      async beforeSend(provider) {
        if (!(await ledger.beginSend(job.action_index, claim.token, provider))) throw new ClaimLost();
      },
    });
    const keyExpiresAt = keyWindowSeconds ? (claim.round_started_at ?? startedAt) + keyWindowSeconds * 1000 : undefined;
    const decision = decide(result, claim.attempt, { startedAt, finishedAt: Date.now(), keyExpiresAt });
    return { kind: "attempted", job, claim, record: decision.record, deadLetter: decision.kind === "dead-letter" };
  } catch (err) {
    if (err instanceof ClaimLost) return { kind: "done" };
    return { kind: "crashed", job, token: claim.token, error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Records every attempt of the message in one request. A result the ledger ignores (its claim
 * is no longer current) is done; if the request fails, each attempt counts as crashed.
 */
async function recordResults(outcomes: Outcome[], ledger: LedgerClient): Promise<Outcome[]> {
  const attempted = outcomes.filter((o): o is Extract<Outcome, { kind: "attempted" }> => o.kind === "attempted");
  if (attempted.length === 0) return outcomes;
  let recorded: boolean[];
  try {
    recorded = await ledger.recordAll(attempted.map((o) => ({ index: o.job.action_index, token: o.claim.token, attempt: o.record })));
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return outcomes.map((o) => (o.kind === "attempted" ? { kind: "crashed", job: o.job, token: o.claim.token, error } : o));
  }
  const kept = new Set(attempted.filter((_, i) => recorded[i]));
  return outcomes.map((o) => (o.kind !== "attempted" || kept.has(o) ? o : { kind: "done" }));
}

/** The `actions-dlq` consumer: whatever lands here is recorded as failed, never silently dropped. */
export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: CloudflareBindings): Promise<void> {
  for (const message of batch.messages) {
    const jobs = jobsIn(message.body);
    try {
      for (const job of jobs ?? []) {
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
