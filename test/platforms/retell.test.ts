import { describe, expect, it } from "vitest";
import { outcomeByRules } from "../../src/platforms/outcome";
import { RETELL_OUTCOMES, retell } from "../../src/platforms/retell";
import type { NormalizeResult, NormalizedEvent } from "../../src/platforms/types";
import busy from "../fixtures/platforms/retell/busy.json";
import analyzed from "../fixtures/platforms/retell/call-analyzed.json";
import ended from "../fixtures/platforms/retell/call-ended.json";
import started from "../fixtures/platforms/retell/call-started.json";
import declined from "../fixtures/platforms/retell/declined.json";
import failed from "../fixtures/platforms/retell/failed.json";
import inbound from "../fixtures/platforms/retell/inbound-voicemail-flag.json";
import noAnswer from "../fixtures/platforms/retell/no-answer.json";
import voicemail from "../fixtures/platforms/retell/voicemail.json";

function eventOf(result: NormalizeResult): NormalizedEvent {
  if (result.kind !== "event") throw new Error(`expected an event, got ${JSON.stringify(result)}`);
  return result;
}

describe("retell normalize: call_analyzed of a connected call, with custom analysis data", () => {
  const result = eventOf(retell.normalize(analyzed, {}));

  it("reads every canonical field from its documented place", () => {
    expect(result.event).toEqual({
      call_id: "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6",
      agent_id: "oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD",
      caller_number: "+14155551234",
      duration_seconds: 21.522,
      summary: "Ana asked to move her appointment to Thursday.",
      transcript: "Agent: Hi Ana, does Tuesday at 3 pm still work?\nCaller: I need to move it to Thursday.",
      recording_url: "https://dxc03zgurdly9.cloudfront.net/Jabr9TXY/recording.wav",
      ended_at: "2026-08-21T15:00:24.642Z",
      ended_reason: "user_hangup",
      outcome: "completed",
      details: { appointment_status: "reschedule", new_day: "Thursday" },
      metadata: { first_name: "Ana", caller_name: "Ana Lopez", event_id: "evt_123", caller_email: "ana@example.com" },
    });
  });

  it("is the final event for the call", () => {
    expect(result).toMatchObject({ stage: "final", platformAgentId: "oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD", dropped: [] });
    expect(result.raw).toBe(analyzed);
  });
});

describe("retell normalize: call_ended before call_analyzed", () => {
  const result = eventOf(retell.normalize(ended, {}));

  it("is preliminary: the same call without summary or details", () => {
    expect(result.stage).toBe("preliminary");
    expect(result.event.call_id).toBe("Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6");
    expect(result.event.summary).toBeUndefined();
    expect(result.event.details).toBeUndefined();
    expect(result.event.transcript).toContain("Caller: I need to move it to Thursday.");
    expect(result.event.outcome).toBe("completed");
  });

  it("reads the deprecated `data` property when `call` is absent", () => {
    const legacy = { event: "call_ended", data: ended.call };
    expect(eventOf(retell.normalize(legacy, {})).event).toEqual(result.event);
  });

  it("falls back to the transcript string and to end − start", () => {
    const { transcript_object: _t, duration_ms: _d, ...call } = ended.call;
    const { event } = eventOf(retell.normalize({ event: "call_ended", call }, {}));
    expect(event.transcript).toBe("Agent: Hi Ana, does Tuesday at 3 pm still work?\nUser: I need to move it to Thursday.");
    expect(event.duration_seconds).toBe(21.522);
  });
});

describe("retell normalize: outcomes", () => {
  it.each([
    ["no answer", noAnswer, "no_answer", "dial_no_answer"],
    ["busy", busy, "busy", "dial_busy"],
    ["voicemail", voicemail, "voicemail", "voicemail_reached"],
    ["a failed dial", failed, "failed", "dial_failed"],
    ["a declined call", declined, "declined", "user_declined"],
  ])("%s", (_name, payload, outcome, reason) => {
    const { event } = eventOf(retell.normalize(payload, {}));
    expect(event).toMatchObject({ outcome, ended_reason: reason });
    expect(event.transcript).toBeUndefined();
    expect(event.summary).toBeUndefined();
  });

  it("reads in_voicemail over an ordinary hang-up, and the caller's number on inbound calls", () => {
    const { event } = eventOf(retell.normalize(inbound, {}));
    expect(event).toMatchObject({ outcome: "voicemail", ended_reason: "agent_hangup", caller_number: "+14155559876" });
  });

  it.each([
    ["agent_hangup", "completed"],
    ["call_transfer", "completed"],
    ["inactivity", "completed"],
    ["max_duration_reached", "completed"],
    ["invalid_destination", "failed"],
    ["telephony_provider_unavailable", "failed"],
    ["concurrency_limit_reached", "failed"],
    ["error_llm_websocket_open", "failed"],
    ["registered_call_timeout", "failed"],
    ["ivr_reached", "unknown"],
    ["manual_stopped", "unknown"],
  ])("%s → %s", (reason, outcome) => {
    expect(outcomeByRules(reason, RETELL_OUTCOMES)).toBe(outcome);
  });
});

describe("retell normalize: other events and bad payloads", () => {
  it("ignores call_started, transcript_updated and the transfer events", () => {
    expect(retell.normalize(started, {})).toEqual({
      kind: "ignored",
      reason: 'Retell "call_started" event: only call_ended and call_analyzed end a call',
    });
    for (const event of ["transcript_updated", "transfer_started", "transfer_bridged"]) {
      expect(retell.normalize({ event, call: analyzed.call }, {})).toMatchObject({ kind: "ignored" });
    }
    expect(retell.normalize({}, {})).toMatchObject({ kind: "ignored" });
  });

  it("refuses a call_analyzed without its call, and names a missing call id", () => {
    expect(retell.normalize({ event: "call_analyzed" }, {})).toMatchObject({ kind: "invalid", problems: [{ path: "$.call" }] });
    const { call_id: _id, ...call } = analyzed.call;
    expect(retell.normalize({ event: "call_analyzed", call }, {})).toMatchObject({ kind: "invalid", problems: [{ path: "$.call.call_id" }] });
  });

  it("leaves metadata that is not an object to the raw payload", () => {
    const payload = { event: "call_analyzed", call: { ...analyzed.call, metadata: "order 12345" } };
    expect(eventOf(retell.normalize(payload, {})).event.metadata).toEqual({ first_name: "Ana", caller_name: "Ana Lopez" });
  });
});
