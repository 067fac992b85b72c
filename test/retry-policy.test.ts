import { describe, expect, it } from "vitest";
import {
  MAX_ATTEMPTS,
  MAX_DELAY_SECONDS,
  MIN_RETRY_AFTER_SECONDS,
  RETRY_SCHEDULE_SECONDS,
  retryDelaySeconds,
} from "../src/pipeline/retry-policy";
import { type Outcome, classifyStatus, parseRetryAfter } from "../src/lib/http-status";

describe("classifyStatus", () => {
  const table: Array<[number, Outcome]> = [
    [200, "delivered"],
    [201, "delivered"],
    [204, "delivered"],
    [299, "delivered"],
    [100, "failed"],
    [101, "failed"],
    [301, "failed"],
    [302, "failed"],
    [304, "failed"],
    [307, "failed"],
    [308, "failed"],
    [400, "failed"],
    [401, "failed"],
    [403, "failed"],
    [404, "failed"],
    [409, "failed"],
    [413, "failed"],
    [422, "failed"],
    [408, "retry"],
    [425, "retry"],
    [429, "retry"],
    [410, "gone"],
    [500, "retry"],
    [502, "retry"],
    [503, "retry"],
    [504, "retry"],
    [599, "retry"],
    [0, "failed"],
    [600, "failed"],
    [999, "failed"],
  ];
  it.each(table)("%i → %s", (status, outcome) => {
    expect(classifyStatus(status)).toBe(outcome);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.UTC(2026, 0, 15, 12, 0, 0);

  it("reads delta-seconds", () => {
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter(" 30 ", now)).toBe(30);
  });

  it("reads an IMF-fixdate in the future as seconds from now", () => {
    expect(parseRetryAfter("Thu, 15 Jan 2026 12:01:30 GMT", now)).toBe(90);
  });

  it("reads the obsolete RFC 850 and asctime forms", () => {
    expect(parseRetryAfter("Thursday, 15-Jan-26 12:02:00 GMT", now)).toBe(120);
    expect(parseRetryAfter("Thu Jan 15 12:00:10 2026", now)).toBe(10);
    expect(parseRetryAfter("Thu Jan  1 00:00:00 2026", now)).toBe(0);
  });

  it("rounds a partial second up so the target's deadline is respected", () => {
    expect(parseRetryAfter("Thu, 15 Jan 2026 12:00:05 GMT", now - 500)).toBe(6);
  });

  it("returns 0 for a date in the past", () => {
    expect(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now)).toBe(0);
    expect(parseRetryAfter("Thu, 15 Jan 2026 11:59:59 GMT", now)).toBe(0);
  });

  it.each([
    ["absent", undefined],
    ["null", null],
    ["empty", ""],
    ["negative", "-5"],
    ["fractional", "1.5"],
    ["exponent", "1e3"],
    ["hex", "0x10"],
    ["words", "soon"],
    ["ISO date", "2026-01-15T12:01:00Z"],
    ["date without GMT", "Thu, 15 Jan 2026 12:01:30"],
    ["impossible day", "Sat, 31 Feb 2026 12:00:00 GMT"],
    ["impossible hour", "Thu, 15 Jan 2026 25:00:00 GMT"],
    ["unknown month", "Thu, 15 Foo 2026 12:00:00 GMT"],
  ])("returns undefined for %s", (_label, value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe("retryDelaySeconds", () => {
  it("has seven retries on the Svix-like schedule", () => {
    expect(RETRY_SCHEDULE_SECONDS).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect(MAX_ATTEMPTS).toBe(8);
  });

  it("follows the schedule exactly at the jitter midpoint (random = 0.5)", () => {
    const delays = RETRY_SCHEDULE_SECONDS.map((_, i) => retryDelaySeconds({ attempt: i + 1, random: () => 0.5 }));
    expect(delays).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
  });

  it("takes 20% off at the low end of the jitter (random = 0)", () => {
    const delays = RETRY_SCHEDULE_SECONDS.map((_, i) => retryDelaySeconds({ attempt: i + 1, random: () => 0 }));
    expect(delays).toEqual([4, 240, 1440, 5760, 14400, 28800, 28800]);
  });

  it("adds just under 20% at the high end of the jitter (random = 0.999)", () => {
    const delays = RETRY_SCHEDULE_SECONDS.map((_, i) => retryDelaySeconds({ attempt: i + 1, random: () => 0.999 }));
    expect(delays).toEqual([6, 360, 2159, 8637, 21593, 43186, 43186]);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(MAX_DELAY_SECONDS);
  });

  it("stays within ±20% for arbitrary random values", () => {
    for (let i = 0; i < 200; i++) {
      const attempt = (i % RETRY_SCHEDULE_SECONDS.length) + 1;
      const base = RETRY_SCHEDULE_SECONDS[attempt - 1] ?? 0;
      const delay = retryDelaySeconds({ attempt });
      expect(delay).not.toBeNull();
      expect(delay!).toBeGreaterThanOrEqual(Math.round(base * 0.8));
      expect(delay!).toBeLessThanOrEqual(Math.round(base * 1.2));
    }
  });

  it("is exhausted once MAX_ATTEMPTS attempts have been made", () => {
    expect(retryDelaySeconds({ attempt: MAX_ATTEMPTS - 1, random: () => 0.5 })).toBe(36000);
    expect(retryDelaySeconds({ attempt: MAX_ATTEMPTS, random: () => 0.5 })).toBeNull();
    expect(retryDelaySeconds({ attempt: MAX_ATTEMPTS + 5, random: () => 0.5 })).toBeNull();
    expect(retryDelaySeconds({ attempt: MAX_ATTEMPTS, retryAfterSeconds: 10 })).toBeNull();
  });

  it("rejects attempt numbers that cannot happen", () => {
    expect(() => retryDelaySeconds({ attempt: 0 })).toThrow(RangeError);
    expect(() => retryDelaySeconds({ attempt: 1.5 })).toThrow(RangeError);
  });

  it("lets Retry-After win over the schedule, without jitter", () => {
    expect(retryDelaySeconds({ attempt: 1, retryAfterSeconds: 120, random: () => 0 })).toBe(120);
    expect(retryDelaySeconds({ attempt: 6, retryAfterSeconds: 60, random: () => 0.999 })).toBe(60);
  });

  it("clamps a huge Retry-After to the queue's maximum delay", () => {
    expect(retryDelaySeconds({ attempt: 1, retryAfterSeconds: 10_000_000 })).toBe(MAX_DELAY_SECONDS);
    expect(retryDelaySeconds({ attempt: 1, retryAfterSeconds: Infinity })).toBe(MAX_DELAY_SECONDS);
  });

  it("clamps a zero Retry-After up to the minimum", () => {
    expect(MIN_RETRY_AFTER_SECONDS).toBe(1);
    expect(retryDelaySeconds({ attempt: 1, retryAfterSeconds: 0 })).toBe(MIN_RETRY_AFTER_SECONDS);
    expect(retryDelaySeconds({ attempt: 1, retryAfterSeconds: -3 })).toBe(MIN_RETRY_AFTER_SECONDS);
  });

  it("feeds parseRetryAfter output straight through", () => {
    const now = Date.UTC(2026, 0, 15, 12, 0, 0);
    const retryAfterSeconds = parseRetryAfter("Thu, 15 Jan 2026 12:10:00 GMT", now);
    expect(retryDelaySeconds({ attempt: 2, retryAfterSeconds })).toBe(600);
    // Unparseable header: back to the schedule.
    expect(retryDelaySeconds({ attempt: 2, retryAfterSeconds: parseRetryAfter("soon", now), random: () => 0.5 })).toBe(300);
  });
});
