import { describe, expect, it } from "vitest";
import type { NormalizeResult, NormalizedEvent } from "../../src/platforms/types";
import { VAPI_OUTCOMES, vapi } from "../../src/platforms/vapi";
import { outcomeByRules } from "../../src/platforms/outcome";
import busy from "../fixtures/platforms/vapi/busy.json";
import ended from "../fixtures/platforms/vapi/ended-normally.json";
import failed from "../fixtures/platforms/vapi/failed.json";
import noAnswer from "../fixtures/platforms/vapi/no-answer.json";
import sipNoAnswer from "../fixtures/platforms/vapi/sip-no-answer.json";
import statusUpdate from "../fixtures/platforms/vapi/status-update.json";
import voicemail from "../fixtures/platforms/vapi/voicemail.json";

function eventOf(result: NormalizeResult): NormalizedEvent {
  if (result.kind !== "event") throw new Error(`expected an event, got ${JSON.stringify(result)}`);
  return result;
}
const clone = <T>(value: T): T => structuredClone(value);

describe("vapi normalize: a call that ended normally, with structured data", () => {
  const result = eventOf(vapi.normalize(ended, {}));

  it("reads every canonical field from its documented place", () => {
    expect(result.event).toEqual({
      call_id: "73a6da0f-c455-4bb6-bf4a-5f0634871430",
      agent_id: "asst_5d2e1a",
      caller_number: "+14155551234",
      duration_seconds: 158.75,
      summary: "Customer confirmed the appointment for Tuesday.",
      transcript: "Agent: Hi Ana, this is Sam from Acme Dental. Does Tuesday at 3 pm still work?\nCaller: Yes, Tuesday works.",
      recording_url: "https://storage.vapi.ai/73a6da0f-stereo.wav",
      ended_at: "2026-08-21T15:02:41.870Z",
      ended_reason: "customer-ended-call",
      outcome: "completed",
      details: { appointment_status: "yes", appointment_day: "Tuesday" },
      metadata: {
        caller_name: "Ana L.",
        caller_email: "ana@example.com",
        first_name: "Ana",
        event_id: "evt_123",
        order_id: "12345",
      },
    });
  });

  it("reports the assistant id, a final stage, nothing dropped, and keeps the raw payload", () => {
    expect(result).toMatchObject({ platformAgentId: "asst_5d2e1a", stage: "final", correctedTranscript: false, dropped: [] });
    expect(result.raw).toBe(ended);
  });

  it("lets the webhook URL's agent_id win over the assistant id", () => {
    const own = eventOf(vapi.normalize(ended, { defaultAgentId: "agent_abc123" }));
    expect(own.event.agent_id).toBe("agent_abc123");
    expect(own.platformAgentId).toBe("asst_5d2e1a");
  });

  it("leaves out system prompts and tool calls, and reads the 'assistant' role as the agent too", () => {
    const payload = clone(ended);
    payload.message.artifact.messages[1]!.role = "assistant";
    expect(eventOf(vapi.normalize(payload, {})).event.transcript).toMatch(/^Agent: Hi Ana/);
    expect(result.event.transcript).not.toContain("scheduling assistant");
  });

  it("falls back to artifact.transcript as a string, or as an array of turns", () => {
    const asString = clone(ended);
    asString.message.artifact.messages = [];
    expect(eventOf(vapi.normalize(asString, {})).event.transcript).toBe("AI: Hi Ana, this is Sam from Acme Dental.\nUser: Yes, Tuesday works.");
    const asTurns: any = clone(asString);
    asTurns.message.artifact.transcript = [
      { role: "assistant", message: "Hello!" },
      { role: "user", message: "Hi" },
    ];
    expect(eventOf(vapi.normalize(asTurns, {})).event.transcript).toBe("Agent: Hello!\nCaller: Hi");
  });

  it("takes the mono recording or the deprecated recordingUrl when there is no stereo one", () => {
    const mono: any = clone(ended);
    delete mono.message.artifact.recording.stereoUrl;
    expect(eventOf(vapi.normalize(mono, {})).event.recording_url).toBe("https://storage.vapi.ai/73a6da0f-mono.wav");
    const old: any = clone(ended);
    old.message.artifact.recording = undefined;
    old.message.artifact.recordingUrl = "https://storage.vapi.ai/old.wav";
    expect(eventOf(vapi.normalize(old, {})).event.recording_url).toBe("https://storage.vapi.ai/old.wav");
  });

  it("uses a top-level durationSeconds only when startedAt is missing", () => {
    const payload: any = clone(ended);
    payload.message.durationSeconds = 999;
    expect(eventOf(vapi.normalize(payload, {})).event.duration_seconds).toBe(158.75);
    delete payload.message.startedAt;
    expect(eventOf(vapi.normalize(payload, {})).event.duration_seconds).toBe(999);
  });

  it("uses a squad's id when the call has no assistant", () => {
    const payload: any = clone(ended);
    delete payload.message.call.assistantId;
    payload.message.call.squadId = "squad_1";
    expect(eventOf(vapi.normalize(payload, {})).platformAgentId).toBe("squad_1");
  });
});

describe("vapi normalize: calls that did not connect", () => {
  it.each([
    ["no answer", noAnswer, "no_answer", "customer-did-not-answer"],
    ["SIP 480", sipNoAnswer, "no_answer", "call.in-progress.error-providerfault-outbound-sip-480-temporarily-unavailable"],
    ["busy", busy, "busy", "customer-busy"],
    ["voicemail", voicemail, "voicemail", "voicemail"],
    ["a connection failure", failed, "failed", "call.in-progress.error-sip-outbound-call-failed-to-connect"],
  ])("%s", (_name, payload, outcome, reason) => {
    const { event } = eventOf(vapi.normalize(payload, {}));
    expect(event).toMatchObject({ outcome, ended_reason: reason, ended_at: "2026-08-21T15:00:31.000Z" });
    expect(event.summary).toBeUndefined();
    expect(event.transcript).toBeUndefined();
    expect(event.details).toBeUndefined();
  });

  it("computes no duration without a start time, and one with it", () => {
    expect(eventOf(vapi.normalize(noAnswer, {})).event.duration_seconds).toBeUndefined();
    expect(eventOf(vapi.normalize(voicemail, {})).event.duration_seconds).toBe(28);
  });
});

describe("vapi normalize: other messages and bad payloads", () => {
  it("ignores status updates, even the 'ended' one", () => {
    expect(vapi.normalize(statusUpdate, {})).toEqual({
      kind: "ignored",
      reason: 'Vapi "status-update" message: only end-of-call-report ends a call',
    });
    expect(vapi.normalize({ message: {} }, {})).toMatchObject({ kind: "ignored" });
  });

  it("refuses a payload without the message envelope", () => {
    expect(vapi.normalize({ type: "end-of-call-report" }, {})).toMatchObject({ kind: "invalid", problems: [{ path: "$.message" }] });
    expect(vapi.normalize("hello", {})).toMatchObject({ kind: "invalid" });
  });

  it("names the platform's field when the call id is missing", () => {
    const payload: any = clone(ended);
    delete payload.message.call.id;
    expect(vapi.normalize(payload, {})).toEqual({
      kind: "invalid",
      problems: [{ path: "$.message.call.id", pointer: "/message/call/id", message: "missing: the call's id is required" }],
    });
  });

  it("explains what to do when no agent can be named", () => {
    const payload: any = clone(ended);
    delete payload.message.call.assistantId;
    const result = vapi.normalize(payload, {});
    expect(result).toMatchObject({ kind: "invalid", problems: [{ path: "$.message.call.assistantId" }] });
    if (result.kind === "invalid") expect(result.problems[0]!.message).toMatch(/\?agent_id=/);
    expect(vapi.normalize(payload, { defaultAgentId: "agent_abc123" })).toMatchObject({ kind: "event" });
  });

  it("treats an empty agent_id query value as absent", () => {
    expect(eventOf(vapi.normalize(ended, { defaultAgentId: "" })).event.agent_id).toBe("asst_5d2e1a");
  });

  it("refuses an agent_id query value the canonical schema cannot hold", () => {
    expect(vapi.normalize(ended, { defaultAgentId: "has spaces" })).toMatchObject({ kind: "invalid", problems: [{ path: "$.agent_id" }] });
  });

  it("keeps the call when an optional field is unusable, and says what was left out", () => {
    const payload: any = clone(ended);
    payload.message.artifact.recording.stereoUrl = "ftp://storage.vapi.ai/x.wav";
    payload.message.analysis.summary = "x".repeat(70_000);
    const result = eventOf(vapi.normalize(payload, {}));
    expect(result.event.recording_url).toBeUndefined();
    expect(result.event.summary).toBeUndefined();
    expect(result.dropped.map((p) => p.path).sort()).toEqual(["$.recording_url", "$.summary"]);
  });

  it("leaves out a field the schema refuses twice over only once", () => {
    const payload: any = clone(ended);
    payload.message.artifact.recording.stereoUrl = `ftp://${"x".repeat(3000)}`;
    const result = eventOf(vapi.normalize(payload, {}));
    expect(result.event.recording_url).toBeUndefined();
    expect(result.dropped.map((p) => p.path)).toEqual(["$.recording_url"]);
    expect(result.event.summary).toBe("Customer confirmed the appointment for Tuesday.");
  });
});

describe("vapi ended reasons", () => {
  it.each([
    ["assistant-said-end-call-phrase", "completed"],
    ["customer-ended-call-after-warm-transfer-attempt", "completed"],
    ["silence-timed-out", "completed"],
    ["exceeded-max-duration", "completed"],
    ["call.in-progress.error-providerfault-outbound-sip-408-request-timeout", "no_answer"],
    ["twilio-reported-customer-misdialed", "failed"],
    ["call.start.error-subscription-concurrency-limit-reached", "failed"],
    ["call-start-error-neither-assistant-nor-server-set", "failed"],
    ["pipeline-error-openai-llm-failed", "failed"],
    ["assistant-request-returned-error", "failed"],
    ["assistant-request-returned-forwarding-phone-number", "unknown"],
    ["scheduled-call-deleted", "failed"],
    ["manually-canceled", "unknown"],
    ["something-new", "unknown"],
  ])("%s → %s", (reason, outcome) => {
    expect(outcomeByRules(reason, VAPI_OUTCOMES)).toBe(outcome);
  });
});
