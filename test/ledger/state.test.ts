import { describe, expect, it } from "vitest";
import {
  type ActionState,
  CRASH_BUDGET,
  LEASE_MS,
  decideBeginSend,
  decideBringForward,
  decideClaim,
  decideDeadLetter,
  decideRecord,
  decideReplay,
  decideResend,
  nextAlarm,
} from "../../src/ledger/state";

const NOW = Date.UTC(2026, 10, 22, 12);

const row = (overrides: Partial<ActionState> = {}): ActionState => ({
  idx: 0,
  delivery_id: "dlv_1",
  action: "{}",
  state: "pending",
  attempts: 0,
  round_attempts: 0,
  round_started_at: null,
  generation: 1,
  replays: 0,
  claims: 0,
  lease_token: 0,
  leased_until: 0,
  in_flight: 0,
  last_status: null,
  last_error: null,
  provider: null,
  due_at: NOW,
  version: 1,
  updated_at: new Date(NOW).toISOString(),
  ...overrides,
});

const claim = (r: ActionState, generation = r.generation, resendOnUnknown = false) =>
  decideClaim(r, { generation, now: NOW, resendOnUnknown });
const applied = (r: ActionState, change: Partial<ActionState> | null) => ({ ...r, ...change }) as ActionState;
const attempt = (outcome: "delivered" | "retry" | "failed", extra = {}) => ({
  outcome,
  started_at: new Date(NOW).toISOString(),
  duration_ms: 5,
  ...extra,
});

describe("claiming an action", () => {
  it("grants a due, free action with a new token and a lease", () => {
    const decision = claim(row());
    expect(decision).toMatchObject({ kind: "grant", change: { lease_token: 1, leased_until: NOW + LEASE_MS, claims: 1, version: 2 } });
  });

  it("refuses settled actions, stale generations and held leases", () => {
    expect(claim(row({ state: "delivered" }))).toEqual({ kind: "refuse", reason: "already delivered" });
    expect(claim(row({ generation: 3 }), 2)).toEqual({ kind: "refuse", reason: "stale job" });
    expect(claim(row({ leased_until: NOW + 1 }))).toEqual({ kind: "refuse", reason: "in flight" });
  });

  it("defers a copy that arrives before the action is due, so it cannot burn the budget early", () => {
    expect(claim(row({ state: "retrying", due_at: NOW + 300_000 }))).toEqual({ kind: "defer", until: NOW + 300_000 });
  });

  it("fails an action after the crash budget of claims without a recorded attempt", () => {
    let r = row();
    for (let i = 0; i < CRASH_BUDGET; i++) {
      const decision = claim(r);
      expect(decision.kind).toBe("grant");
      r = applied(r, decision.kind === "grant" ? decision.change : null);
      r = { ...r, leased_until: 0 }; // the lease ran out: the attempt crashed
    }
    const last = claim({ ...r, last_error: "attempt crashed: boom" });
    expect(last).toMatchObject({ kind: "settle", change: { state: "failed" } });
    expect(last.kind === "settle" && last.change.last_error).toBe(`crashed ${CRASH_BUDGET} times without recording an attempt; last: attempt crashed: boom`);
  });

  it("records an attempt cut off mid-send as unknown instead of sending it again", () => {
    const decision = claim(row({ in_flight: 1, claims: 1, lease_token: 4, provider: "twilio" }));
    expect(decision).toMatchObject({ kind: "settle", reason: "outcome unknown", change: { state: "unknown", in_flight: 0, attempts: 1 } });
    expect(decision.kind === "settle" && decision.attempt).toMatchObject({ outcome: "unknown", provider: "twilio" });
    expect(decision.kind === "settle" && decision.attempt.error).toMatch(/not re-sent, as twilio cannot deduplicate/);
  });

  it("sends again after an unknown outcome when the action opts in, logging the lost attempt", () => {
    const decision = claim(row({ in_flight: 1, claims: 1, lease_token: 4 }), 1, true);
    // The claim that sent it ended without a record: it still counts towards the crash budget.
    expect(decision).toMatchObject({ kind: "grant", change: { in_flight: 0, attempts: 1, round_attempts: 1, claims: 2, lease_token: 5 } });
    expect(decision.kind === "grant" && decision.lost?.outcome).toBe("unknown");
  });

  it("with resend_on_unknown, an attempt that crashes after every send still fails after the crash budget", () => {
    let r = row({ provider: "twilio" });
    let sends = 0;
    for (;;) {
      const decision = claim(r, 1, true);
      if (decision.kind !== "grant") {
        expect(decision).toMatchObject({ kind: "settle", change: { state: "failed", in_flight: 0 } });
        expect(decision.kind === "settle" && decision.change.last_error).toBe(
          `crashed ${CRASH_BUDGET} times without recording an attempt, the last after sending to twilio`,
        );
        break;
      }
      r = applied(r, decision.change);
      r = { ...applied(r, decideBeginSend(r, r.lease_token, "twilio", NOW)), leased_until: 0 }; // sent, then crashed
      sends++;
    }
    expect(sends).toBe(CRASH_BUDGET);
  });

  it("a crash settle takes an attempt number of its own, after the attempts made", () => {
    const settled = claim(row({ attempts: 1, claims: CRASH_BUDGET }));
    expect(settled).toMatchObject({ kind: "settle", reason: "crashing", change: { attempts: 2 } });
  });
});

describe("writes carry the claim's token", () => {
  const held = row({ lease_token: 2, leased_until: NOW + LEASE_MS, claims: 1 });

  it("records a result from the current claim and resets the crash count", () => {
    const change = decideRecord(held, 2, attempt("delivered", { status_code: 200, provider: "webhook" }), NOW);
    expect(change).toMatchObject({ state: "delivered", attempts: 1, round_attempts: 1, claims: 0, leased_until: 0, in_flight: 0, last_status: 200 });
    expect(change!.round_started_at).toBe(NOW);
  });

  it("ignores a result from an older claim", () => {
    expect(decideRecord(held, 1, attempt("failed"), NOW)).toBeNull();
    expect(decideBeginSend(held, 1, "twilio", NOW)).toBeNull();
  });

  it("ignores an attempt that outlived its lease once a replay started the action over", () => {
    const expired = { ...held, leased_until: NOW - 1 };
    const replayed = applied(expired, (decideReplay(expired, NOW) as { ok: true; change: Partial<ActionState> }).change);
    expect(replayed).toMatchObject({ state: "pending", generation: 2, replays: 1, round_attempts: 0 });
    expect(decideRecord(replayed, 2, attempt("failed"), NOW)).toBeNull();
    expect(decideBeginSend(replayed, 2, "twilio", NOW)).toBeNull();
  });

  it("ignores an attempt that outlived its lease once the watchdog re-sent the job", () => {
    const expired = { ...held, leased_until: NOW - 1, due_at: NOW - 120_000 };
    const resent = applied(expired, decideResend(expired, NOW, 60_000));
    expect(decideRecord(resent, 2, attempt("delivered"), NOW)).toBeNull();
  });

  it("a retry moves the action to a new generation, due when the retry is", () => {
    const change = decideRecord(held, 2, attempt("retry", { retry_at: NOW + 5_000 }), NOW);
    expect(change).toMatchObject({ state: "retrying", generation: 2, due_at: NOW + 5_000 });
  });

  it("a dead letter of an older generation does not fail the action a newer job is delivering", () => {
    expect(decideDeadLetter(row({ generation: 3 }), 2, "dead-lettered", NOW)).toBeNull();
    expect(decideDeadLetter(row({ generation: 3 }), 3, "dead-lettered", NOW)).toMatchObject({ state: "failed" });
    expect(decideDeadLetter(row({ state: "delivered" }), 1, "dead-lettered", NOW)).toBeNull();
  });

  it("every change bumps the version", () => {
    expect(decideRecord(held, 2, attempt("delivered"), NOW)!.version).toBe(held.version + 1);
    expect(decideResend(row({ due_at: NOW - 120_000 }), NOW, 60_000)!.version).toBe(2);
  });
});

describe("bringing a retry forward", () => {
  it("only a retry waiting out its backoff, unheld, gets a new job due now", () => {
    expect(decideBringForward(row({ state: "retrying", due_at: NOW + 300_000 }), NOW)).toMatchObject({ generation: 2, due_at: NOW, lease_token: 1 });
    expect(decideBringForward(row({ state: "retrying", due_at: NOW - 1 }), NOW)).toBeNull();
    expect(decideBringForward(row({ state: "pending", due_at: NOW + 300_000 }), NOW)).toBeNull();
    expect(decideBringForward(row({ state: "retrying", due_at: NOW + 300_000, leased_until: NOW + 1 }), NOW)).toBeNull();
  });
});

describe("the alarm", () => {
  const input = { now: NOW, marginMs: 60_000, logLagging: false, logRetryMs: 30_000, settledAt: null, retentionMs: 86_400_000 };

  it("fires a margin after the earliest due action, or when its lease ends", () => {
    expect(nextAlarm([row({ due_at: NOW + 5_000 }), row({ due_at: NOW + 1_000 })], input)).toBe(NOW + 61_000);
    expect(nextAlarm([row({ leased_until: NOW + 90_000 })], input)).toBe(NOW + 90_000);
  });

  it("keeps firing while the delivery log lags", () => {
    expect(nextAlarm([row({ state: "delivered" })], { ...input, logLagging: true })).toBe(NOW + 30_000);
  });

  it("fires once more when retention ends, then nothing", () => {
    expect(nextAlarm([row({ state: "delivered" })], { ...input, settledAt: NOW })).toBe(NOW + 86_400_000);
    expect(nextAlarm([row({ state: "delivered" })], input)).toBeNull();
  });

  it("re-sends only an active, unheld action overdue by more than the margin", () => {
    const resent = decideResend(row({ due_at: NOW - 61_000 }), NOW, 60_000);
    expect(resent).toMatchObject({ due_at: NOW, lease_token: 1 });
    // A copy of the same job, so the late original is still taken when it arrives.
    expect(resent).not.toHaveProperty("generation");
    expect(claim(applied(row({ due_at: NOW - 61_000 }), resent), 1).kind).toBe("grant");
    expect(decideResend(row({ due_at: NOW - 59_000 }), NOW, 60_000)).toBeNull();
    expect(decideResend(row({ due_at: NOW - 61_000, leased_until: NOW + 1 }), NOW, 60_000)).toBeNull();
    expect(decideResend(row({ due_at: NOW - 61_000, state: "failed" }), NOW, 60_000)).toBeNull();
  });
});
