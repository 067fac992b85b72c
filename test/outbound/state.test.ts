import { describe, expect, it } from "vitest";
import type { Agent, OutboundCallsSettings } from "../../src/schemas/agent";
import { type CallEnd, applyAnswer, applyEnd, expireAttempt, failureReason, newCall, startAttempt } from "../../src/outbound/state";

const T0 = Date.parse("2026-03-10T15:00:00Z");
/** Retell's default wait for call_analyzed after call_ended. */
const ANALYSIS_WAIT_MS = 600_000;

const SETTINGS = {
  platform: { type: "retell", from_number: "+14155550100" },
  redial: { on: ["no_answer", "busy"], max_attempts: 2, interval_seconds: 3600 },
  fallback_actions: [],
  result_timeout_seconds: 300,
} as unknown as OutboundCallsSettings;

/** A new call, its first attempt being placed at `T0`. */
function placingCall() {
  const created = newCall(
    {
      id: "oc_0123456789abcdef01234567",
      agent_id: "agent_a",
      trigger_id: null,
      fingerprint: "f",
      request: { phone_number: "+14155551234", task: "Confirm", caller_name: null, webhook_url: null, metadata: {}, timezone: null },
      relay_origin: null,
      agent: { id: "agent_a" } as unknown as Agent,
      settings: SETTINGS,
      requested_at: new Date(T0).toISOString(),
    },
    T0,
    T0,
  );
  return startAttempt(created, T0)!;
}

/** A call whose first attempt the platform placed as `retell-1`, half a second after `T0`. */
const placedCall = () => applyAnswer(placingCall(), { kind: "placed", platform_call_id: "retell-1", http_status: 201 }, T0 + 500);

const ended = (outcome: string, ended_reason: string | null): CallEnd => ({
  platform_call_id: "retell-1",
  attempt: 1,
  outcome,
  ended_reason,
  ended_at: null,
  duration_seconds: 0,
  summary: null,
  details: null,
  recording_url: null,
});

describe("a provisional end and the result timeout", () => {
  it("keeps the call_ended outcome when the result timeout comes before the analysis wait ends", () => {
    const received = T0 + 45_000;
    const provisional = applyEnd(placedCall(), ended("no_answer", "dial_no_answer"), received, received + ANALYSIS_WAIT_MS);
    const attempt = provisional.attempts[0]!;
    expect(attempt.provisional).toBeDefined();
    expect(attempt.deadline).toBeLessThan(attempt.provisional!.until);
    expect(expireAttempt(provisional, attempt.deadline - 1)).toBeNull();
    // call_analyzed never came; the alarm wakes at the result timeout.
    const woke = expireAttempt(provisional, attempt.deadline)!;
    expect(woke.attempts[0]).toMatchObject({ phase: "ended", outcome: "no_answer", ended_reason: "dial_no_answer" });
    // no_answer re-dials: the timeout did not turn it into an unknown end.
    expect(woke).toMatchObject({ status: "scheduled", outcome: "no_answer" });
  });

  it("ends an attempt with no call-ended event as unknown at its result timeout", () => {
    const placed = placedCall();
    const woke = expireAttempt(placed, placed.attempts[0]!.deadline)!;
    expect(woke.attempts[0]).toMatchObject({ outcome: "unknown", ended_reason: "no call-ended event within result_timeout_seconds" });
  });
});

describe("a call whose outcome is failed", () => {
  it("says why in error, from the platform's ended reason", () => {
    const done = applyEnd(placedCall(), ended("failed", "twilio-failed-to-connect-call"), T0 + 30_000);
    expect(done).toMatchObject({ status: "failed", outcome: "failed", error: "the call failed: twilio-failed-to-connect-call" });
  });

  it("falls back on the attempt's own error, then on a plain reason", () => {
    expect(failureReason({ ended_reason: null, error: "no usable answer to the create-call request: reset" })).toBe("no usable answer to the create-call request: reset");
    expect(failureReason({ ended_reason: "carrier-error", error: "no usable answer to the create-call request: reset" })).toBe("the call failed: carrier-error");
    expect(failureReason({ ended_reason: null, error: null })).toBe("the call failed");
    expect(failureReason(undefined)).toBe("the call failed");
  });
});

describe("a create-call answer that cannot be used", () => {
  it("keeps the status it came with, and waits for the call's end", () => {
    const state = applyAnswer(placingCall(), { kind: "unknown", error: "Retell answered HTTP 504 (gateway timeout)", http_status: 504 }, T0 + 500);
    expect(state.attempts.at(-1)).toMatchObject({ phase: "unknown", http_status: 504, error: "no usable answer to the create-call request: Retell answered HTTP 504 (gateway timeout)" });
    expect(state.status).not.toBe("failed");
  });
});
