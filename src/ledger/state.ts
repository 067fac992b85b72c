import type { AttemptRecord, DeliveryStatus } from "../schemas/delivery";

/**
 * The pure state machine of one action in a call's ledger. Every function takes the stored
 * row and the moment, and returns the row's next value (or why nothing changes); the Durable
 * Object only stores what these decide. Every change bumps `version`, which orders the
 * delivery log's copies.
 */

export const ACTIVE: readonly DeliveryStatus[] = ["pending", "retrying"];
export const isActive = (state: DeliveryStatus) => ACTIVE.includes(state);

/** How long a consumer may hold an action before another copy of its job may take it. */
export const LEASE_MS = 60_000;
/** Claims that ended without a recorded attempt before the action is failed as crashing. */
export const CRASH_BUDGET = 3;
/** A job may arrive this much before its due time (queue delays are not exact). */
const EARLY_TOLERANCE_MS = 1_000;

export type ActionState = {
  idx: number;
  delivery_id: string;
  /** The action's config as accepted (JSON). */
  action: string;
  state: DeliveryStatus;
  /** Attempts over the action's whole life. */
  attempts: number;
  /** Attempts in the current retry budget; a replay starts a new one. */
  round_attempts: number;
  /** When the current budget's first attempt started (epoch ms): idempotency keys expire from there. */
  round_started_at: number | null;
  /** The job generation the ledger will accept; bumped whenever it sends a new job. */
  generation: number;
  replays: number;
  /** Claims since the last recorded attempt: each one that ends without a record is a crash. */
  claims: number;
  /** Identifies the current claim; a write carrying another token is stale. */
  lease_token: number;
  leased_until: number;
  /** 1 while a request to a provider that cannot deduplicate may be on the wire. */
  in_flight: number;
  last_status: number | null;
  last_error: string | null;
  provider: string | null;
  due_at: number;
  version: number;
  updated_at: string;
};

export type Change = Partial<ActionState>;

const touch = (row: ActionState, now: number, change: Change): Change => ({
  ...change,
  version: row.version + 1,
  updated_at: new Date(now).toISOString(),
});

export type ClaimDecision =
  /** Hand the action out: apply `change` (its token is `change.lease_token`) and log `lost` if given. */
  | { kind: "grant"; change: Change; lost?: AttemptRecord }
  /** The job is not wanted (finished, stale, or another copy holds it): drop it. */
  | { kind: "refuse"; reason: string }
  /** A real copy, early: bring it back at `until`. */
  | { kind: "defer"; until: number }
  /** The action ends here without an attempt being made: apply `change` and log `attempt`. */
  | { kind: "settle"; change: Change; attempt: AttemptRecord; reason: string };

/**
 * Whether a job of `generation` may make an attempt now. An attempt that began sending to a
 * provider that cannot deduplicate and never recorded its answer is not repeated: its outcome
 * is unknown, and a second text or email is worse than none (unless the action opts in).
 */
export function decideClaim(
  row: ActionState,
  input: { generation: number; now: number; resendOnUnknown: boolean },
): ClaimDecision {
  const { generation, now } = input;
  if (!isActive(row.state)) return { kind: "refuse", reason: `already ${row.state}` };
  if (row.generation !== generation) return { kind: "refuse", reason: "stale job" };
  if (row.leased_until > now) return { kind: "refuse", reason: "in flight" };
  if (row.due_at > now + EARLY_TOLERANCE_MS) return { kind: "defer", until: row.due_at };

  let base: Change = {};
  let lost: AttemptRecord | undefined;
  if (row.in_flight) {
    const attempt: AttemptRecord = {
      outcome: "unknown",
      started_at: new Date(now).toISOString(),
      duration_ms: 0,
      error: "outcome unknown: the attempt was cut off before the provider's answer was recorded",
      ...(row.provider ? { provider: row.provider } : {}),
    };
    if (!input.resendOnUnknown) {
      const error = `${attempt.error}; not re-sent, as ${row.provider ?? "the provider"} cannot deduplicate`;
      return {
        kind: "settle",
        reason: "outcome unknown",
        attempt: { ...attempt, error },
        change: touch(row, now, { state: "unknown", in_flight: 0, claims: 0, attempts: row.attempts + 1, last_error: error, leased_until: 0 }),
      };
    }
    // resend_on_unknown: note the lost attempt and send again within the same budget. The claim
    // that sent it still counts as one that ended without a record, or an attempt that always
    // crashes after sending would text the caller again on every watchdog round.
    base = { in_flight: 0, attempts: row.attempts + 1, round_attempts: row.round_attempts + 1 };
    lost = attempt;
  }
  if (row.claims >= CRASH_BUDGET) {
    const sent = row.in_flight ? `, the last after sending to ${row.provider ?? "the provider"}` : "";
    const error = `crashed ${row.claims} times without recording an attempt${sent}${row.last_error ? `; last: ${row.last_error}` : ""}`;
    return {
      kind: "settle",
      reason: "crashing",
      attempt: { outcome: "failed", started_at: new Date(now).toISOString(), duration_ms: 0, error },
      // An attempt number of its own, so the log keeps the real attempts before it.
      change: touch(row, now, { state: "failed", in_flight: 0, last_error: error, leased_until: 0, attempts: row.attempts + 1 }),
    };
  }
  const claims = row.claims + 1;
  return {
    kind: "grant",
    change: touch(row, now, { ...base, claims, lease_token: row.lease_token + 1, leased_until: now + LEASE_MS }),
    ...(lost ? { lost } : {}),
  };
}

/** Marks the claimed attempt as about to send to a provider that cannot deduplicate. */
export function decideBeginSend(row: ActionState, token: number, provider: string, now: number): Change | null {
  if (!holds(row, token)) return null;
  return touch(row, now, { in_flight: 1, provider });
}

/** The claim's attempt came to `record`; null when the claim is no longer the current one. */
export function decideRecord(row: ActionState, token: number, record: AttemptRecord, now: number): Change | null {
  if (!holds(row, token)) return null;
  const { outcome } = record;
  const retry = outcome === "retry";
  return touch(row, now, {
    state: outcome === "retry" ? "retrying" : outcome,
    attempts: row.attempts + 1,
    round_attempts: row.round_attempts + 1,
    round_started_at: row.round_started_at ?? Date.parse(record.started_at),
    claims: 0,
    in_flight: 0,
    leased_until: 0,
    last_status: record.status_code ?? null,
    last_error: record.error ?? null,
    provider: record.provider ?? row.provider,
    // The next attempt is a new job: copies of this one become stale.
    ...(retry ? { generation: row.generation + 1, due_at: record.retry_at ?? now } : {}),
  });
}

/** A claim that crashed: keep its error for the "crashed N times" message; the lease runs out by itself. */
export function decideCrash(row: ActionState, token: number, error: string, now: number): Change | null {
  if (!holds(row, token)) return null;
  return touch(row, now, { last_error: `attempt crashed: ${error}` });
}

/** A job of `generation` reached the dead-letter queue: the action fails, unless a newer job owns it. */
export function decideDeadLetter(row: ActionState, generation: number, reason: string, now: number): Change | null {
  if (!isActive(row.state) || row.generation !== generation) return null;
  return touch(row, now, { state: "failed", last_error: reason, leased_until: 0, in_flight: 0 });
}

/** What an erasure leaves of an attempt: its outcome, status and timing, nothing sent or answered. */
export function erasedAttempt(r: AttemptRecord): AttemptRecord {
  return {
    outcome: r.outcome,
    started_at: r.started_at,
    duration_ms: r.duration_ms,
    ...(r.status_code === undefined ? {} : { status_code: r.status_code }),
    ...(r.provider === undefined ? {} : { provider: r.provider }),
  };
}

/**
 * The call's data is being erased: an action not yet delivered is failed (there is nothing
 * left to send), and any error text, which may quote the caller's data, is cleared.
 */
export function decideErase(row: ActionState, now: number): Change {
  if (isActive(row.state)) {
    return touch(row, now, {
      state: "failed",
      last_error: "erased before it was delivered",
      leased_until: 0,
      in_flight: 0,
      generation: row.generation + 1,
      lease_token: row.lease_token + 1,
    });
  }
  return touch(row, now, { last_error: null });
}

/** Starts the action over with a fresh budget and a new idempotency key, whatever state it ended in. */
export function decideReplay(row: ActionState, now: number): { ok: true; change: Change } | { ok: false; reason: string } {
  if (row.leased_until > now) return { ok: false, reason: "an attempt is in flight" };
  return {
    ok: true,
    change: touch(row, now, {
      state: "pending",
      round_attempts: 0,
      round_started_at: null,
      claims: 0,
      in_flight: 0,
      generation: row.generation + 1,
      replays: row.replays + 1,
      due_at: now,
      leased_until: 0,
      // An attempt still running from before the replay must not write over it.
      lease_token: row.lease_token + 1,
    }),
  };
}

/**
 * A held call got its final event: an action not attempted yet is planned again for the new
 * outcome, and runs now (a new job) or is skipped with `skip` as the reason.
 */
export function decideRelease(row: ActionState, skip: string | undefined, now: number): Change | null {
  const untouched = row.attempts === 0 && row.leased_until <= now && (row.state === "pending" || (row.state === "skipped" && row.claims === 0));
  if (!untouched) return null;
  if (skip) return row.state === "skipped" && row.last_error === skip ? null : touch(row, now, { state: "skipped", last_error: skip });
  return touch(row, now, { state: "pending", last_error: null, generation: row.generation + 1, due_at: now, lease_token: row.lease_token + 1 });
}

/**
 * Brings a retry waiting out its backoff forward to now (its target has recovered): a new job
 * of the next generation, so the delayed one becomes stale. Null when it is not waiting.
 */
export function decideBringForward(row: ActionState, now: number): Change | null {
  if (row.state !== "retrying" || row.leased_until > now || row.due_at <= now) return null;
  return touch(row, now, { generation: row.generation + 1, due_at: now, lease_token: row.lease_token + 1 });
}

/**
 * The watchdog's view: an active action nobody holds, overdue by more than the margin, is sent
 * again. The copy keeps the job's generation, so whichever copy reaches the consumer first makes
 * the attempt: a queue running more than the margin behind delivers its late copy instead of
 * finding it superseded by the next re-send, round after round. The lease keeps the two copies
 * from both attempting, and the new token shuts out an attempt that outlived its lease.
 */
export function decideResend(row: ActionState, now: number, marginMs: number): Change | null {
  if (!isActive(row.state) || row.leased_until > now || row.due_at + marginMs > now) return null;
  return touch(row, now, { due_at: now, lease_token: row.lease_token + 1 });
}

/**
 * When the ledger's alarm must next fire: the earliest time an active action would be overdue
 * (or its lease runs out), a retry of the delivery log while it lags, or, once everything is
 * settled and logged, the moment the call's retention ends. Null when nothing is left to do.
 */
export function nextAlarm(
  rows: readonly ActionState[],
  input: { now: number; marginMs: number; logLagging: boolean; logRetryMs: number; settledAt: number | null; retentionMs: number },
): number | null {
  let next = Number.POSITIVE_INFINITY;
  for (const row of rows) {
    if (isActive(row.state)) next = Math.min(next, Math.max(row.due_at + input.marginMs, row.leased_until));
  }
  if (input.logLagging) next = Math.min(next, input.now + input.logRetryMs);
  if (!Number.isFinite(next) && input.settledAt !== null) next = input.settledAt + input.retentionMs;
  return Number.isFinite(next) ? next : null;
}

function holds(row: ActionState, token: number): boolean {
  return isActive(row.state) && row.lease_token === token;
}

/** The key providers deduplicate on: the delivery id, and a new one after each replay. */
export const idempotencyKey = (row: Pick<ActionState, "delivery_id" | "replays">) =>
  row.replays === 0 ? row.delivery_id : `${row.delivery_id}-r${row.replays}`;
