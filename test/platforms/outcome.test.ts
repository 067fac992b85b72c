import { describe, expect, it } from "vitest";
import { isKnownOutcome, outcomeByRules, resolveOutcome } from "../../src/platforms/outcome";

const agent = { outcome_field: "appointment_status", outcome_map: { yes: "confirmed", reschedule: "reschedule_requested", no: "declined" } };

describe("resolveOutcome", () => {
  it("maps the extracted value of a connected call through outcome_map", () => {
    expect(resolveOutcome({ outcome: "completed", details: { appointment_status: "yes" } }, agent)).toEqual({ outcome: "confirmed", source: "details" });
    expect(resolveOutcome({ outcome: "unknown", details: { appointment_status: "reschedule" } }, agent)).toEqual({
      outcome: "reschedule_requested",
      source: "details",
    });
    expect(resolveOutcome({ details: { appointment_status: "no" } }, agent)).toEqual({ outcome: "declined", source: "details" });
  });

  it("matches map keys ignoring case and surrounding spaces", () => {
    expect(resolveOutcome({ outcome: "completed", details: { appointment_status: " YES " } }, agent).outcome).toBe("confirmed");
  });

  it("keeps an extracted value the map does not name, as given", () => {
    expect(resolveOutcome({ outcome: "completed", details: { appointment_status: "callback_booked" } }, agent)).toEqual({
      outcome: "callback_booked",
      source: "details",
    });
    expect(resolveOutcome({ outcome: "completed", details: { appointment_status: "confirmed" } }, { outcome_field: "appointment_status" }).outcome).toBe(
      "confirmed",
    );
  });

  it("reads booleans and numbers, and dotted paths into nested details", () => {
    const map = { outcome_field: "booking.confirmed", outcome_map: { true: "confirmed", false: "declined" } };
    expect(resolveOutcome({ outcome: "completed", details: { booking: { confirmed: true } } }, map).outcome).toBe("confirmed");
    expect(resolveOutcome({ outcome: "completed", details: { score: 3 } }, { outcome_field: "score", outcome_map: { "3": "confirmed" } }).outcome).toBe(
      "confirmed",
    );
    // An exact key wins over a path.
    expect(resolveOutcome({ outcome: "completed", details: { "booking.confirmed": "no", booking: { confirmed: true } } }, map).outcome).toBe("no");
  });

  it("leaves calls that did not connect, and outcomes a sender chose, alone", () => {
    for (const outcome of ["no_answer", "busy", "voicemail", "failed", "declined", "confirmed", "callback_booked"]) {
      expect(resolveOutcome({ outcome, details: { appointment_status: "yes" } }, agent)).toEqual({ outcome, source: "event" });
    }
  });

  it("keeps the event's outcome without a field, a value, or details", () => {
    expect(resolveOutcome({ outcome: "completed", details: { appointment_status: "yes" } }, {})).toEqual({ outcome: "completed", source: "event" });
    expect(resolveOutcome({ outcome: "completed", details: {} }, agent)).toEqual({ outcome: "completed", source: "event" });
    expect(resolveOutcome({ outcome: "completed", details: { appointment_status: "  " } }, agent).source).toBe("event");
    expect(resolveOutcome({ outcome: "completed", details: { appointment_status: { nested: 1 } } }, agent).source).toBe("event");
    expect(resolveOutcome({ outcome: null, details: null }, agent)).toEqual({ outcome: null, source: "event" });
    expect(resolveOutcome({}, agent)).toEqual({ outcome: null, source: "event" });
  });

  it("never reads the map's prototype", () => {
    expect(resolveOutcome({ outcome: "completed", details: { appointment_status: "constructor" } }, agent).outcome).toBe("constructor");
  });

  it("cuts an over-long value to the outcome's 128 characters", () => {
    expect(resolveOutcome({ outcome: "completed", details: { appointment_status: "x".repeat(300) } }, agent).outcome).toHaveLength(128);
  });
});

describe("outcomeByRules", () => {
  it("takes the first matching rule, exact strings and patterns alike", () => {
    const rules = [["a-1", "busy"], [/^a-/, "failed"]] as const;
    expect(outcomeByRules("a-1", rules)).toBe("busy");
    expect(outcomeByRules("a-2", rules)).toBe("failed");
    expect(outcomeByRules("b", rules)).toBe("unknown");
    expect(outcomeByRules(null, rules)).toBe("unknown");
  });

  it("knows the canonical vocabulary", () => {
    expect(isKnownOutcome("reschedule_requested")).toBe(true);
    expect(isKnownOutcome("canceled")).toBe(false);
  });
});
