import { describe, expect, it } from "vitest";
import { bland, blandOutcome } from "../../src/platforms/bland";
import type { NormalizeResult, NormalizedEvent } from "../../src/platforms/types";
import busy from "../fixtures/platforms/bland/busy.json";
import completed from "../fixtures/platforms/bland/completed.json";
import corrected from "../fixtures/platforms/bland/corrected.json";
import failed from "../fixtures/platforms/bland/failed.json";
import inbound from "../fixtures/platforms/bland/inbound.json";
import liveEvent from "../fixtures/platforms/bland/live-event.json";
import noAnswer from "../fixtures/platforms/bland/no-answer.json";
import voicemail from "../fixtures/platforms/bland/voicemail.json";

function eventOf(result: NormalizeResult): NormalizedEvent {
  if (result.kind !== "event") throw new Error(`expected an event, got ${JSON.stringify(result)}`);
  return result;
}

describe("bland normalize: a completed call with analysis", () => {
  const result = eventOf(bland.normalize(completed, { defaultAgentId: "agent_abc123" }));

  it("reads every canonical field from the call object", () => {
    expect(result.event).toEqual({
      call_id: "9d404c1b-6a23-4426-953a-a52c392ff8f1",
      agent_id: "agent_abc123",
      caller_number: "+14155551234",
      duration_seconds: 156,
      summary: "Customer confirmed the appointment.",
      transcript: "Agent: Hi Ana, this is Acme Dental.\nCaller: Yes, Tuesday works.",
      recording_url: "https://server.aws.dialpad.com/recording/9d404c1b.mp3",
      ended_at: "2026-08-21T15:02:40.000Z",
      ended_reason: "completed",
      outcome: "completed",
      details: {
        now: "Friday, August 21, 2026 3:00 PM",
        appointment_status: "yes",
        to: "+14155551234",
        preferred_time: "3 pm",
        disposition_tag: "Confirmed",
      },
      metadata: { first_name: "Ana", caller_name: "Ana Lopez", event_id: "evt_123" },
    });
  });

  it("reports the pathway as the platform's agent, a final stage and no correction", () => {
    expect(result).toMatchObject({ platformAgentId: "a0f0d4ed-f5f5-4f16-b3f9-22166594d7a7", stage: "final", correctedTranscript: false });
  });

  it("uses the pathway as the agent when the URL names none", () => {
    expect(eventOf(bland.normalize(completed, {})).event.agent_id).toBe("a0f0d4ed-f5f5-4f16-b3f9-22166594d7a7");
  });

  it("falls back to concatenated_transcript, and reads the caller's number on inbound calls", () => {
    const { event } = eventOf(bland.normalize({ ...inbound, transcripts: [] }, { defaultAgentId: "a" }));
    expect(event.caller_number).toBe("+14155559876");
    expect(event.transcript).toBe("assistant: Hi Ana, this is Acme Dental. \n user: Yes, Tuesday works.");
  });

  it("accepts a numeric call_id and an end time without an offset (as UTC)", () => {
    const { event } = eventOf(bland.normalize({ ...completed, call_id: 42, end_at: "2026-08-21 15:02:40" }, { defaultAgentId: "a" }));
    expect(event).toMatchObject({ call_id: "42", ended_at: "2026-08-21T15:02:40.000Z" });
  });
});

describe("bland normalize: the delayed corrected payload", () => {
  it("flags the correction and makes the corrected text the transcript", () => {
    const result = eventOf(bland.normalize(corrected, { defaultAgentId: "agent_abc123" }));
    expect(result.correctedTranscript).toBe(true);
    expect(result.event).toEqual({
      call_id: "9d404c1b-6a23-4426-953a-a52c392ff8f1",
      agent_id: "agent_abc123",
      transcript: "Agent: Hi Ana, this is Acme Dental.\nCaller: Yes, Tuesday at three works.",
      outcome: "unknown",
    });
  });

  it("reads a corrected transcript sent as a plain string", () => {
    const result = eventOf(bland.normalize({ ...completed, corrected_transcript: "user: corrected" }, {}));
    expect(result).toMatchObject({ correctedTranscript: true, event: { transcript: "user: corrected", summary: "Customer confirmed the appointment." } });
  });

  it("needs an agent: the delayed payload names no pathway", () => {
    expect(bland.normalize(corrected, {})).toMatchObject({ kind: "invalid", problems: [{ path: "$.pathway_id" }] });
  });
});

describe("bland normalize: outcomes", () => {
  it.each([
    ["no answer", noAnswer, "no_answer", "no-answer"],
    ["busy", busy, "busy", "busy"],
    ["voicemail", voicemail, "voicemail", "completed"],
    ["a failed call", failed, "failed", "Invalid phone number"],
  ])("%s", (_name, payload, outcome, reason) => {
    const { event } = eventOf(bland.normalize(payload, { defaultAgentId: "a" }));
    expect(event).toMatchObject({ outcome, ended_reason: reason });
  });

  it("computes the voicemail call's duration from call_length in minutes", () => {
    expect(eventOf(bland.normalize(voicemail, { defaultAgentId: "a" })).event.duration_seconds).toBe(30);
  });

  it.each([
    [{ status: "no_answer" }, "no_answer"],
    [{ answered_by: "no-answer" }, "no_answer"],
    [{ queue_status: "busy" }, "busy"],
    [{ status: "completed", answered_by: "machine" }, "voicemail"],
    [{ status: "error" }, "failed"],
    [{ completed: true }, "completed"],
    [{ status: "complete" }, "completed"],
    [{ status: "in-progress" }, "unknown"],
  ])("%j → %s", (call, outcome) => {
    expect(blandOutcome(call)).toBe(outcome);
  });
});

describe("bland normalize: other messages", () => {
  it("ignores a live event without call results", () => {
    expect(bland.normalize(liveEvent, {})).toMatchObject({ kind: "ignored", reason: expect.stringMatching(/post-call/) });
  });

  it("refuses a payload that is not an object", () => {
    expect(bland.normalize([completed], {})).toMatchObject({ kind: "invalid", problems: [{ path: "$" }] });
  });
});
