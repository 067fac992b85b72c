import { describe, expect, it } from "vitest";
import { LATENCY_BUCKETS, hourOf, isConnected, latencyBucket, percentileFromBuckets } from "../../src/store/stats";

/** A histogram with `counts` at the given bucket indexes. */
function histogram(at: Record<number, number>): number[] {
  return LATENCY_BUCKETS.map((_, i) => at[i] ?? 0);
}

describe("latency histogram", () => {
  it("puts a latency in the first bucket whose bound it does not exceed", () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(1_000)).toBe(0);
    expect(latencyBucket(1_001)).toBe(1);
    expect(latencyBucket(4_999)).toBe(2);
    expect(latencyBucket(60_000)).toBe(5);
    expect(latencyBucket(86_400_000)).toBe(10);
    expect(latencyBucket(86_400_001)).toBe(11);
    expect(latencyBucket(-50)).toBe(0);
  });

  it("answers a percentile as the upper bound of the bucket holding it (nearest rank)", () => {
    // 10 latencies: 5 ≤ 1 s, 4 in (1 s, 2 s], 1 in (10 s, 30 s].
    const counts = histogram({ 0: 5, 1: 4, 4: 1 });
    expect(percentileFromBuckets(counts, 0.5)).toBe(1_000); // rank 5: the fifth is still ≤ 1 s
    expect(percentileFromBuckets(counts, 0.6)).toBe(2_000);
    expect(percentileFromBuckets(counts, 0.9)).toBe(2_000);
    expect(percentileFromBuckets(counts, 0.95)).toBe(30_000); // rank 10
    expect(percentileFromBuckets(histogram({ 7: 1 }), 0.5)).toBe(1_800_000);
    expect(percentileFromBuckets(histogram({ 2: 1 }), 0.01)).toBe(5_000);
  });

  it("answers null with nothing measured, or beyond the last bound", () => {
    expect(percentileFromBuckets(histogram({}), 0.5)).toBeNull();
    expect(percentileFromBuckets(histogram({ 0: 1, 11: 1 }), 0.5)).toBe(1_000);
    expect(percentileFromBuckets(histogram({ 0: 1, 11: 1 }), 0.95)).toBeNull();
  });
});

describe("rollup dimensions", () => {
  it("names an hour in UTC as YYYY-MM-DDTHH", () => {
    expect(hourOf("2026-03-10T15:59:59.999Z")).toBe("2026-03-10T15");
    expect(hourOf("2026-03-10T23:30:00-02:00")).toBe("2026-03-11T01");
    expect(hourOf(Date.UTC(2026, 0, 1, 7, 5))).toBe("2026-01-01T07");
  });

  it("counts any outcome as connected but no_answer, busy, failed, voicemail and unknown", () => {
    for (const outcome of ["completed", "confirmed", "declined", "reschedule_requested", "custom_value"]) expect(isConnected(outcome)).toBe(true);
    for (const outcome of ["no_answer", "busy", "failed", "voicemail", "unknown", null]) expect(isConnected(outcome)).toBe(false);
  });
});
