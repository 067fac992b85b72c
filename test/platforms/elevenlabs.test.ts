import { describe, expect, it } from "vitest";
import { elevenlabs, failureOutcome } from "../../src/platforms/elevenlabs";
import type { NormalizeResult, NormalizedEvent } from "../../src/platforms/types";
import failed from "../fixtures/platforms/elevenlabs/failed.json";
import busy from "../fixtures/platforms/elevenlabs/initiation-failure-busy.json";
import noAnswer from "../fixtures/platforms/elevenlabs/initiation-failure-no-answer.json";
import initUnknown from "../fixtures/platforms/elevenlabs/initiation-failure-unknown.json";
import audio from "../fixtures/platforms/elevenlabs/post-call-audio.json";
import transcription from "../fixtures/platforms/elevenlabs/transcription.json";
import voicemail from "../fixtures/platforms/elevenlabs/voicemail.json";

function eventOf(result: NormalizeResult): NormalizedEvent {
  if (result.kind !== "event") throw new Error(`expected an event, got ${JSON.stringify(result)}`);
  return result;
}

describe("elevenlabs normalize: post_call_transcription with data collection", () => {
  const result = eventOf(elevenlabs.normalize(transcription, {}));

  it("reads every canonical field from its documented place", () => {
    expect(result.event).toEqual({
      call_id: "conv_01jxk",
      agent_id: "agent_7101k2x",
      caller_number: "+14155551234",
      duration_seconds: 158,
      summary: "Customer confirmed Tuesday.",
      transcript: "Agent: Hi Ana, does Tuesday at 3 pm still work?\nCaller: Yes, Tuesday works.",
      ended_at: "2026-08-21T15:02:41.000Z",
      ended_reason: "Call ended by remote party",
      outcome: "completed",
      details: { appointment_status: "yes", callback_number: null },
      metadata: { user_id: "lead_789", first_name: "Ana", event_id: "evt_123" },
    });
  });

  it("has no recording (that comes in post_call_audio) and is final", () => {
    expect(result.event.recording_url).toBeUndefined();
    expect(result).toMatchObject({ stage: "final", platformAgentId: "agent_7101k2x", dropped: [] });
  });

  it("reads data_collection_results_list when the map is absent", () => {
    const payload: any = structuredClone(transcription);
    delete payload.data.analysis.data_collection_results;
    payload.data.analysis.data_collection_results_list = [{ data_collection_id: "appointment_status", value: "no", rationale: "" }];
    expect(eventOf(elevenlabs.normalize(payload, {})).event.details).toEqual({ appointment_status: "no" });
  });

  it("falls back to the system caller variables when the phone call has no external number", () => {
    const payload: any = structuredClone(transcription);
    delete payload.data.metadata.phone_call.external_number;
    expect(eventOf(elevenlabs.normalize(payload, {})).event.caller_number).toBe("+14155551234");
    payload.data.metadata.phone_call.direction = "inbound";
    expect(eventOf(elevenlabs.normalize(payload, {})).event.caller_number).toBe("+14155550100");
  });

  it("reads a termination reason that mentions voicemail as voicemail", () => {
    expect(eventOf(elevenlabs.normalize(voicemail, {})).event).toMatchObject({ outcome: "voicemail", duration_seconds: 21 });
  });

  it("reads a failed conversation as failed", () => {
    const { event } = eventOf(elevenlabs.normalize(failed, {}));
    expect(event).toMatchObject({ outcome: "failed", call_id: "conv_failed" });
    expect(event.transcript).toBeUndefined();
    expect(event.ended_reason).toBeUndefined();
  });
});

describe("elevenlabs normalize: call_initiation_failure", () => {
  it.each([
    ["busy", busy, "busy", "conv_busy"],
    ["no-answer", noAnswer, "no_answer", "conv_no_answer"],
    ["unknown", initUnknown, "failed", "conv_unknown"],
  ])("failure_reason %s", (reason, payload, outcome, callId) => {
    const { event } = eventOf(elevenlabs.normalize(payload, {}));
    expect(event).toEqual({
      call_id: callId,
      agent_id: "agent_7101k2x",
      caller_number: "+14155551234",
      ended_at: "2026-08-21T15:01:10.000Z",
      ended_reason: reason,
      outcome,
      metadata: { first_name: "Ana", event_id: "evt_123" },
    });
  });

  it("uses the provider's call id when no conversation id is given", () => {
    const payload: any = structuredClone(busy);
    delete payload.data.conversation_id;
    expect(eventOf(elevenlabs.normalize(payload, {})).event.call_id).toBe("CA9b1e");
  });

  it("maps failure reasons", () => {
    expect(failureOutcome("busy")).toBe("busy");
    expect(failureOutcome("no_answer")).toBe("no_answer");
    expect(failureOutcome(null)).toBe("failed");
  });
});

describe("elevenlabs normalize: other webhooks", () => {
  it("ignores post_call_audio", () => {
    expect(elevenlabs.normalize(audio, {})).toEqual({
      kind: "ignored",
      reason: 'ElevenLabs "post_call_audio" webhook: only post_call_transcription and call_initiation_failure end a call',
    });
  });

  it("refuses a transcription without data, and keeps data_collection ids off the prototype", () => {
    expect(elevenlabs.normalize({ type: "post_call_transcription" }, {})).toMatchObject({ kind: "invalid", problems: [{ path: "$.data" }] });
    const payload: any = structuredClone(transcription);
    delete payload.data.analysis.data_collection_results;
    payload.data.analysis.data_collection_results_list = [{ data_collection_id: "__proto__", value: { polluted: true } }];
    const { event } = eventOf(elevenlabs.normalize(payload, {}));
    expect(event.details).toBeUndefined();
    expect(({} as any).polluted).toBeUndefined();
  });
});
