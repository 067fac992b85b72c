import { describe, expect, it } from "vitest";
import { atMostOnce, decide } from "../../src/pipeline/decide";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 22, 8);
const busy = { outcome: "retry" as const, status_code: 503, error: "HTTP 503" };
const half = () => 0.5; // no jitter

describe("what follows an attempt", () => {
  it("schedules a retry on the Svix schedule", () => {
    const decision = decide(busy, 1, { startedAt: T0, finishedAt: T0 + 100 }, half);
    expect(decision).toMatchObject({ kind: "retry", delaySeconds: 5, record: { outcome: "retry", retry_at: T0 + 100 + 5_000 } });
  });

  it("makes no attempt after the provider forgets the idempotency key (Resend: 23 h from the first)", () => {
    const keyExpiresAt = T0 + 23 * HOUR;
    // Attempt 5 ends 8 h 35 min in; the next would come 5 h later: still inside the window.
    const fifth = decide(busy, 5, { startedAt: T0 + 8.5 * HOUR, finishedAt: T0 + 8.5 * HOUR, keyExpiresAt }, half);
    expect(fifth.kind).toBe("retry");
    // Attempt 6 ends 13 h 35 min in; the next would come 10 h later, past 23 h: give up now.
    const sixth = decide(busy, 6, { startedAt: T0 + 13.6 * HOUR, finishedAt: T0 + 13.6 * HOUR, keyExpiresAt }, half);
    expect(sixth.kind).toBe("dead-letter");
    expect(sixth.record.outcome).toBe("failed");
    expect(sixth.record.error).toMatch(/forgets its idempotency key.*last: HTTP 503/);
  });

  it("without a key window, retries run to the end of the schedule", () => {
    expect(decide(busy, 6, { startedAt: T0, finishedAt: T0 }, half).kind).toBe("retry");
    expect(decide(busy, 8, { startedAt: T0, finishedAt: T0 }, half)).toMatchObject({
      kind: "dead-letter",
      record: { error: "gave up after 8 attempts; last: HTTP 503" },
    });
  });
});

describe("at most once, where the provider cannot deduplicate", () => {
  const lost = { outcome: "retry" as const, error: "twilio: network error (timeout: no answer within 10 s)", may_have_arrived: true };
  const twilio = { name: "twilio", dedupes: false };

  it("an answer lost after the request may have arrived ends unknown, and is not retried", () => {
    const result = atMostOnce({ ...lost, retry_after_seconds: 30 }, twilio, false);
    expect(result).toEqual({
      outcome: "unknown",
      may_have_arrived: true,
      error: "twilio: network error (timeout: no answer within 10 s); outcome unknown: it may have reached twilio, which cannot deduplicate, so it is not re-sent",
    });
    expect(decide(result, 1, { startedAt: T0, finishedAt: T0 }, half)).toMatchObject({ kind: "ack", record: { outcome: "unknown" } });
  });

  it("is retried when the action sets resend_on_unknown, saying so", () => {
    const result = atMostOnce(lost, twilio, true);
    expect(result.outcome).toBe("retry");
    expect(result.error).toMatch(/may have arrived, and is sent again as the action sets resend_on_unknown$/);
  });

  it("leaves alone a provider that deduplicates, a failure before sending, and every other outcome", () => {
    expect(atMostOnce(lost, { name: "resend", dedupes: true }, false)).toBe(lost);
    const refused = { outcome: "retry" as const, error: "twilio: network error (DNS: the host did not resolve)" };
    expect(atMostOnce(refused, twilio, false)).toBe(refused);
    expect(atMostOnce(busy, twilio, false)).toBe(busy);
    const delivered = { outcome: "delivered" as const, status_code: 201 };
    expect(atMostOnce(delivered, twilio, false)).toBe(delivered);
  });
});
