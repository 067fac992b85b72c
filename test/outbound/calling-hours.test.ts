import { describe, expect, it } from "vitest";
import { localParts, nextOpening, zonedTimeToUtc } from "../../src/outbound/calling-hours";
import type { CallingHours } from "../../src/schemas/outbound";

const utc = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

const WEEKDAYS_NY: CallingHours = { timezone: "America/New_York", days: ["mon", "tue", "wed", "thu", "fri"], start: "09:00", end: "20:00" };
const EVERY_DAY_NY: CallingHours = { ...WEEKDAYS_NY, days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] };

describe("localParts", () => {
  it("reads the wall clock and weekday in the zone", () => {
    expect(localParts(utc("2026-03-09T13:00:00Z"), "America/New_York")).toEqual({
      year: 2026,
      month: 3,
      day: 9,
      hour: 9,
      minute: 0,
      second: 0,
      weekday: "mon",
    });
  });

  it("crosses the date line backwards into the previous year", () => {
    expect(localParts(utc("2026-01-01T03:04:05Z"), "America/New_York")).toEqual({
      year: 2025,
      month: 12,
      day: 31,
      hour: 22,
      minute: 4,
      second: 5,
      weekday: "wed",
    });
  });

  it("reads midnight as hour 0, not 24", () => {
    expect(localParts(utc("2026-06-10T04:00:00Z"), "America/New_York")).toMatchObject({ day: 10, hour: 0, weekday: "wed" });
  });

  it("refuses a zone the runtime does not know", () => {
    expect(() => localParts(0, "Mars/Olympus_Mons")).toThrow(RangeError);
  });
});

describe("zonedTimeToUtc", () => {
  it.each([
    [2026, 1, 15, 9, 0, "America/New_York", "2026-01-15T14:00:00.000Z"], // EST
    [2026, 7, 15, 9, 0, "America/New_York", "2026-07-15T13:00:00.000Z"], // EDT
    [2026, 7, 15, 9, 0, "Europe/Lisbon", "2026-07-15T08:00:00.000Z"], // WEST
    [2026, 1, 15, 9, 0, "Europe/Lisbon", "2026-01-15T09:00:00.000Z"], // WET
    [2026, 1, 15, 9, 0, "Asia/Kolkata", "2026-01-15T03:30:00.000Z"], // +05:30
    [2026, 1, 1, 0, 15, "Pacific/Auckland", "2025-12-31T11:15:00.000Z"], // +13:00 across the year
    [2026, 3, 8, 1, 59, "America/New_York", "2026-03-08T06:59:00.000Z"], // just before the jump
    [2026, 3, 8, 3, 0, "America/New_York", "2026-03-08T07:00:00.000Z"], // just after it
  ])("%i-%i-%i %i:%i in %s is %s", (y, m, d, h, min, tz, expected) => {
    expect(iso(zonedTimeToUtc(y, m, d, h, min, tz))).toBe(expected);
  });

  it("takes the first instant after a spring-forward gap for a time that never happens", () => {
    // New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist.
    expect(iso(zonedTimeToUtc(2026, 3, 8, 2, 30, "America/New_York"))).toBe("2026-03-08T07:00:00.000Z");
    expect(iso(zonedTimeToUtc(2026, 3, 8, 2, 0, "America/New_York"))).toBe("2026-03-08T07:00:00.000Z");
  });

  it("takes the first of the two instants for a time that happens twice", () => {
    // New York, 2026-11-01: 02:00 EDT falls back to 01:00 EST, so 01:30 happens at 05:30Z and 06:30Z.
    expect(iso(zonedTimeToUtc(2026, 11, 1, 1, 30, "America/New_York"))).toBe("2026-11-01T05:30:00.000Z");
    expect(iso(zonedTimeToUtc(2026, 11, 1, 2, 0, "America/New_York"))).toBe("2026-11-01T07:00:00.000Z");
  });

  it("handles a gap that is not a whole hour (Lord Howe moves by 30 minutes)", () => {
    // Australia/Lord_Howe, 2026-10-04: 02:00 +10:30 jumps to 02:30 +11:00.
    expect(iso(zonedTimeToUtc(2026, 10, 4, 2, 10, "Australia/Lord_Howe"))).toBe("2026-10-03T15:30:00.000Z");
  });
});

describe("nextOpening", () => {
  it("returns the time itself when there are no calling hours", () => {
    expect(nextOpening(123_456, undefined)).toBe(123_456);
    expect(nextOpening(123_456, undefined, "Europe/Lisbon")).toBe(123_456);
  });

  it("keeps a time inside the hours", () => {
    const at = utc("2026-03-10T15:27:13.250Z"); // Tue 11:27 EDT
    expect(nextOpening(at, WEEKDAYS_NY)).toBe(at);
  });

  it("keeps the exact start (inclusive)", () => {
    const at = utc("2026-03-10T13:00:00Z"); // Tue 09:00 EDT
    expect(nextOpening(at, WEEKDAYS_NY)).toBe(at);
  });

  it("moves a time before the start to the start the same day", () => {
    expect(iso(nextOpening(utc("2026-03-10T10:00:00Z"), WEEKDAYS_NY))).toBe("2026-03-10T13:00:00.000Z"); // Tue 06:00 → 09:00
  });

  it("moves a time after the end to the next allowed day", () => {
    expect(iso(nextOpening(utc("2026-03-11T01:00:00Z"), WEEKDAYS_NY))).toBe("2026-03-11T13:00:00.000Z"); // Tue 21:00 → Wed 09:00
  });

  it("treats the end as closed (exclusive)", () => {
    expect(iso(nextOpening(utc("2026-03-11T00:00:00Z"), WEEKDAYS_NY))).toBe("2026-03-11T13:00:00.000Z"); // Tue 20:00 → Wed 09:00
    expect(iso(nextOpening(utc("2026-03-10T23:59:59.999Z"), WEEKDAYS_NY))).toBe("2026-03-10T23:59:59.999Z");
  });

  it("skips the weekend: Friday 21:00 in New York opens Monday 09:00 (after the clocks changed)", () => {
    // Fri 2026-03-06 21:00 EST = Sat 02:00Z; Mon 2026-03-09 09:00 is EDT by then.
    expect(iso(nextOpening(utc("2026-03-07T02:00:00Z"), WEEKDAYS_NY))).toBe("2026-03-09T13:00:00.000Z");
  });

  it("skips the weekend from a Saturday afternoon", () => {
    expect(iso(nextOpening(utc("2026-06-13T18:00:00Z"), WEEKDAYS_NY))).toBe("2026-06-15T13:00:00.000Z");
  });

  it("reaches a single allowed weekday six days ahead", () => {
    const sundays: CallingHours = { ...WEEKDAYS_NY, days: ["sun"] };
    // Mon 2026-06-15 10:00 EDT → Sun 2026-06-21 09:00 EDT.
    expect(iso(nextOpening(utc("2026-06-15T14:00:00Z"), sundays))).toBe("2026-06-21T13:00:00.000Z");
    // Sun after the end → the next Sunday, seven days on.
    expect(iso(nextOpening(utc("2026-06-22T01:00:00Z"), sundays))).toBe("2026-06-28T13:00:00.000Z");
  });

  it("reads the hours in the callee's time zone when one is given", () => {
    const at = utc("2026-06-10T12:00:00Z"); // Wed: 08:00 in New York, 13:00 in Lisbon
    expect(iso(nextOpening(at, WEEKDAYS_NY))).toBe("2026-06-10T13:00:00.000Z");
    expect(nextOpening(at, WEEKDAYS_NY, "Europe/Lisbon")).toBe(at);
    // 19:30Z: 15:30 in New York (open), 20:30 in Lisbon (closed until Thu 09:00 WEST = 08:00Z).
    const evening = utc("2026-06-10T19:30:00Z");
    expect(nextOpening(evening, WEEKDAYS_NY)).toBe(evening);
    expect(iso(nextOpening(evening, WEEKDAYS_NY, "Europe/Lisbon"))).toBe("2026-06-11T08:00:00.000Z");
  });

  it("opens at 09:00 EDT the morning the clocks spring forward", () => {
    // Sat 2026-03-07 23:00 EST → Sun 2026-03-08 09:00 EDT = 13:00Z (not 14:00Z).
    expect(iso(nextOpening(utc("2026-03-08T04:00:00Z"), EVERY_DAY_NY))).toBe("2026-03-08T13:00:00.000Z");
  });

  it("opens at 09:00 EST the morning the clocks fall back", () => {
    // Sat 2026-10-31 21:00 EDT → Sun 2026-11-01 09:00 EST = 14:00Z (not 13:00Z).
    expect(iso(nextOpening(utc("2026-11-01T01:00:00Z"), EVERY_DAY_NY))).toBe("2026-11-01T14:00:00.000Z");
  });

  it("opens when the gap ends for a start that falls inside it", () => {
    const night: CallingHours = { ...EVERY_DAY_NY, start: "02:30", end: "05:00" };
    // Sun 2026-03-08 00:00 EST: 02:30 never happens that night, so the first instant after the gap, 03:00 EDT.
    expect(iso(nextOpening(utc("2026-03-08T05:00:00Z"), night))).toBe("2026-03-08T07:00:00.000Z");
    // 03:10 EDT is inside the hours.
    expect(iso(nextOpening(utc("2026-03-08T07:10:00Z"), night))).toBe("2026-03-08T07:10:00.000Z");
    // 05:00 EDT has closed: Monday 02:30 EDT.
    expect(iso(nextOpening(utc("2026-03-08T09:00:00Z"), night))).toBe("2026-03-09T06:30:00.000Z");
  });
});
