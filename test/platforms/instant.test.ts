import { describe, expect, it } from "vitest";
import { epochToMs, secondsBetween, spacedUtcToMs, toInstant } from "../../src/lib/instant";

describe("toInstant", () => {
  it.each([
    [1739537297, "2025-02-14T12:48:17.000Z"],
    [1739537297123, "2025-02-14T12:48:17.123Z"],
    ["1739537297", "2025-02-14T12:48:17.000Z"],
    ["1739537297123", "2025-02-14T12:48:17.123Z"],
    ["2026-03-10 15:04:05", "2026-03-10T15:04:05.000Z"],
    ["2026-03-10 15:04:05.5", "2026-03-10T15:04:05.500Z"],
    ["2026-03-10T15:04:05Z", "2026-03-10T15:04:05.000Z"],
    ["2026-03-10T17:04:05+02:00", "2026-03-10T15:04:05.000Z"],
  ])("reads %j", (value, iso) => {
    expect(toInstant(value)).toBe(iso);
  });

  it.each([["yesterday"], [""], [5], [-1], [Number.NaN], ["2026-02-30 10:00:00"], ["2026-03-10 25:00:00"], [null], [{}], ["2026-03-10T15:04:05"]])(
    "refuses %j",
    (value) => {
      expect(toInstant(value)).toBeNull();
    },
  );

  it("reads an ISO time without an offset only when told the platform means UTC", () => {
    expect(toInstant("2026-03-10T15:04:05", { assumeUtc: true })).toBe("2026-03-10T15:04:05.000Z");
  });
});

describe("helpers", () => {
  it("tells epoch seconds from milliseconds by size", () => {
    expect(epochToMs(1_700_000_000)).toBe(1_700_000_000_000);
    expect(epochToMs(1_700_000_000_000)).toBe(1_700_000_000_000);
    expect(epochToMs(99)).toBeNull();
  });

  it("reads the spaced form as UTC and checks the date exists", () => {
    expect(spacedUtcToMs("2026-01-31 23:59:59")).toBe(Date.UTC(2026, 0, 31, 23, 59, 59));
    expect(spacedUtcToMs("2026-04-31 00:00:00")).toBeNull();
  });

  it("measures durations and refuses ones that run backwards", () => {
    expect(secondsBetween("2026-01-01T00:00:00.000Z", "2026-01-01T00:02:30.500Z")).toBe(150.5);
    expect(secondsBetween("2026-01-01T00:01:00.000Z", "2026-01-01T00:00:00.000Z")).toBeNull();
    expect(secondsBetween(null, "2026-01-01T00:00:00.000Z")).toBeNull();
  });
});
