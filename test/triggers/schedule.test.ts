import { describe, expect, it } from "vitest";
import { fieldProblem } from "../../src/errors";
import { parseOffsetTime, triggerSchedule } from "../../src/triggers/schedule";

const NOW = Date.parse("2026-03-01T12:00:00Z");
const DAY = 86_400;

describe("parseOffsetTime", () => {
  it.each([
    ["2026-03-12T10:30:00Z", "2026-03-12T10:30:00.000Z"],
    ["2026-03-12t10:30:00z", "2026-03-12T10:30:00.000Z"],
    ["2026-03-12T10:30Z", "2026-03-12T10:30:00.000Z"],
    ["2026-03-12T10:30:00.123456Z", "2026-03-12T10:30:00.123Z"],
    ["2026-03-12T10:30:00.5-05:00", "2026-03-12T15:30:00.500Z"],
    ["2026-03-12T10:30:00+0530", "2026-03-12T05:00:00.000Z"],
    ["2026-03-12T10:30:00+02", "2026-03-12T08:30:00.000Z"],
    ["2026-03-12 10:30:00-05:00", "2026-03-12T15:30:00.000Z"],
    ["2026-03-12T00:30:00+01:00", "2026-03-11T23:30:00.000Z"],
  ])("reads %s", (text, iso) => {
    const ms = parseOffsetTime(text);
    expect(typeof ms === "number" ? new Date(ms).toISOString() : ms).toBe(iso);
  });

  it.each([["2026-03-12T10:30:00"], ["2026-03-12 10:30"], ["2026-03-12T10:30:00.000"]])("names the missing offset of %s", (text) => {
    expect(parseOffsetTime(text)).toBe("no offset");
  });

  it.each([
    ["tomorrow"],
    ["2026-03-12"],
    ["1773311400"],
    ["2026-02-30T10:00:00Z"],
    ["2026-13-01T10:00:00Z"],
    ["2026-03-12T24:00:00Z"],
    ["2026-03-12T10:60:00Z"],
    ["2026-03-12T10:30:00+25:00"],
    ["2026-03-12T10:30:00+05:75"],
    ["Thu, 12 Mar 2026 10:30:00 GMT"],
    [" 2026-03-12T10:30:00Z"],
  ])("refuses %j", (text) => {
    expect(parseOffsetTime(text)).toBeNull();
  });
});

describe("triggerSchedule", () => {
  it("places the call now without a schedule", () => {
    expect(triggerSchedule({}, undefined, NOW)).toEqual({ kind: "now" });
  });

  it("waits the delay, and places the call now for a delay of 0", () => {
    expect(triggerSchedule({}, { delay_seconds: 900 }, NOW)).toEqual({ kind: "at", at: NOW + 900_000 });
    expect(triggerSchedule({}, { delay_seconds: 0 }, NOW)).toEqual({ kind: "now" });
  });

  it("reads the time from the payload and applies the offset", () => {
    const payload = { event: { start: "2026-03-12T10:30:00-05:00" } };
    expect(triggerSchedule(payload, { at: "{{event.start}}", offset_seconds: -DAY }, NOW)).toEqual({
      kind: "at",
      at: Date.parse("2026-03-11T15:30:00Z"),
    });
    expect(triggerSchedule(payload, { at: " {{event.start}} ", offset_seconds: 0 }, NOW)).toEqual({ kind: "at", at: Date.parse("2026-03-12T15:30:00Z") });
  });

  it("places the call now when the computed time has passed but the event has not", () => {
    // The event is in an hour; a day before it is already past.
    const payload = { start: "2026-03-01T13:00:00Z" };
    expect(triggerSchedule(payload, { at: "{{start}}", offset_seconds: -DAY }, NOW)).toEqual({ kind: "now" });
    expect(triggerSchedule({ start: "2026-03-01T12:00:00Z" }, { at: "{{start}}", offset_seconds: -60 }, NOW)).toEqual({ kind: "now" });
  });

  it("filters an event whose time has passed", () => {
    const payload = { start: "2026-03-01T11:59:59Z" };
    expect(triggerSchedule(payload, { at: "{{start}}", offset_seconds: -DAY }, NOW)).toEqual({
      kind: "filtered",
      reason: "the event time 2026-03-01T11:59:59Z has passed",
    });
    expect(triggerSchedule(payload, { at: "{{start}}", offset_seconds: 0 }, NOW)).toEqual({
      kind: "filtered",
      reason: "the event time 2026-03-01T11:59:59Z has passed",
    });
  });

  it("filters an event already past whatever the offset", () => {
    // The meeting began ten minutes ago; the call would be an hour after its start.
    const payload = { start: "2026-03-01T11:50:00Z" };
    expect(triggerSchedule(payload, { at: "{{start}}", offset_seconds: 3600 }, NOW)).toEqual({
      kind: "filtered",
      reason: "the event time 2026-03-01T11:50:00Z has passed",
    });
    expect(triggerSchedule(payload, { at: "{{start}}", offset_seconds: 600 }, NOW)).toEqual({
      kind: "filtered",
      reason: "the event time 2026-03-01T11:50:00Z has passed",
    });
  });

  it("refuses an empty render, naming the template", () => {
    expect(triggerSchedule({ start: "" }, { at: "{{start}}", offset_seconds: 0 }, NOW)).toEqual({
      kind: "invalid",
      problem: fieldProblem(["schedule", "at"], 'the template "{{start}}" rendered empty'),
    });
  });

  it("refuses a time without an offset, since its zone would be a guess", () => {
    expect(triggerSchedule({ start: "2026-03-12T10:30:00" }, { at: "{{start}}", offset_seconds: 0 }, NOW)).toEqual({
      kind: "invalid",
      problem: {
        path: "$.schedule.at",
        pointer: "/schedule/at",
        message: '"2026-03-12T10:30:00" (from the template "{{start}}") has no UTC offset, so its time zone would be a guess; it needs Z or ±hh:mm',
      },
    });
  });

  it("refuses text that is not a time", () => {
    expect(triggerSchedule({ start: "next Tuesday" }, { at: "{{start}}", offset_seconds: 0 }, NOW)).toEqual({
      kind: "invalid",
      problem: fieldProblem(["schedule", "at"], '"next Tuesday" (from the template "{{start}}") is not an ISO 8601 time, e.g. 2026-03-12T10:30:00-05:00'),
    });
  });

  it("refuses a template that cannot be rendered", () => {
    expect(triggerSchedule({}, { at: "{{> start}}", offset_seconds: 0 }, NOW)).toEqual({
      kind: "invalid",
      problem: fieldProblem(["schedule", "at"], 'partials are not supported ("{{> start}}")'),
    });
  });

  it("reads a date and time built from several payload fields", () => {
    const payload = { date: "2026-03-12", time: "10:30", tz: "+01:00" };
    expect(triggerSchedule(payload, { at: "{{date}}T{{time}}:00{{tz}}", offset_seconds: -3600 }, NOW)).toEqual({
      kind: "at",
      at: Date.parse("2026-03-12T08:30:00Z"),
    });
  });
});
