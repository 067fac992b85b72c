import { describe, expect, it } from "vitest";
import { DIALERS } from "../../src/outbound/dialers";
import type { DialRequest } from "../../src/outbound/dialers/types";
import { bland } from "../../src/platforms/bland";
import { elevenlabs } from "../../src/platforms/elevenlabs";
import { retell } from "../../src/platforms/retell";
import type { NormalizeResult, NormalizedEvent } from "../../src/platforms/types";
import { vapi } from "../../src/platforms/vapi";
import blandCompleted from "../fixtures/platforms/bland/completed.json";
import elevenlabsBusy from "../fixtures/platforms/elevenlabs/initiation-failure-busy.json";
import elevenlabsTranscription from "../fixtures/platforms/elevenlabs/transcription.json";
import retellAnalyzed from "../fixtures/platforms/retell/call-analyzed.json";
import vapiEnded from "../fixtures/platforms/vapi/ended-normally.json";

/**
 * Round trips: what a dialer sends in its create-call request, echoed where each platform
 * echoes it in the call-ended webhook, must come out of the normalizer as the event's
 * metadata, so the event finds its outbound call by `outbound_call_id`.
 */

const REQUEST: DialRequest = {
  outbound_call_id: "oc_5f2c9a1e7b3d4c6a8e0f1b2c",
  attempt: 2,
  agent_id: "agent_abc123",
  phone_number: "+14155551234",
  task: "Confirm the appointment.",
  caller_name: "Ana Silva",
  metadata: { event_id: "evt_123", calendar_id: "cal_9" },
  relay_origin: null,
};
const CORRELATION = { outbound_call_id: "oc_5f2c9a1e7b3d4c6a8e0f1b2c", relay_agent_id: "agent_abc123", attempt: 2 };
const ENV = { VAPI_API_KEY: "k", RETELL_API_KEY: "k", BLAND_API_KEY: "k", ELEVENLABS_API_KEY: "k" };

function sentBody(result: ReturnType<(typeof DIALERS)["vapi"]["build"]>): any {
  if (!result.ok) throw new Error(result.error);
  return JSON.parse(result.request.body);
}

function eventOf(result: NormalizeResult): NormalizedEvent {
  if (result.kind !== "event") throw new Error(`expected an event, got ${JSON.stringify(result)}`);
  return result;
}

describe("outbound correlation survives each platform's echo", () => {
  it("vapi: call.assistantOverrides (variableValues and metadata)", () => {
    const sent = sentBody(DIALERS.vapi.build({ type: "vapi", assistant_id: "asst_5d2e1a", phone_number_id: "pn_77" }, REQUEST, ENV));
    const payload: any = structuredClone(vapiEnded);
    payload.message.call.assistantOverrides = sent.assistantOverrides;
    payload.message.call.customer = sent.customer;
    const { event } = eventOf(vapi.normalize(payload, {}));
    expect(event.metadata).toMatchObject({ ...CORRELATION, event_id: "evt_123", calendar_id: "cal_9", caller_name: "Ana Silva", task: "Confirm the appointment." });
  });

  it("vapi: call.metadata, where a payload carries it at the top of the call", () => {
    const payload: any = structuredClone(vapiEnded);
    delete payload.message.call.assistantOverrides;
    payload.message.call.metadata = { ...CORRELATION };
    expect(eventOf(vapi.normalize(payload, {})).event.metadata).toMatchObject(CORRELATION);
  });

  it("retell: call.metadata and call.retell_llm_dynamic_variables, the metadata's typed values winning", () => {
    const sent = sentBody(DIALERS.retell.build({ type: "retell", from_number: "+14155550100" }, REQUEST, ENV));
    const payload: any = structuredClone(retellAnalyzed);
    payload.call.metadata = sent.metadata;
    payload.call.retell_llm_dynamic_variables = sent.retell_llm_dynamic_variables;
    const { event } = eventOf(retell.normalize(payload, {}));
    expect(event.metadata).toMatchObject({ ...CORRELATION, event_id: "evt_123", caller_name: "Ana Silva" });
    // Only the dynamic variables, had the metadata been lost: the id still correlates.
    delete payload.call.metadata;
    expect(eventOf(retell.normalize(payload, {})).event.metadata).toMatchObject({ ...CORRELATION, attempt: "2" });
  });

  it("bland: metadata and request_data", () => {
    const sent = sentBody(DIALERS.bland.build({ type: "bland" }, REQUEST, ENV));
    const payload: any = { ...structuredClone(blandCompleted), metadata: sent.metadata, request_data: sent.request_data };
    const { event } = eventOf(bland.normalize(payload, {}));
    expect(event.metadata).toMatchObject({ ...CORRELATION, event_id: "evt_123", calendar_id: "cal_9", caller_name: "Ana Silva" });
  });

  it("elevenlabs: data.conversation_initiation_client_data.dynamic_variables, after a call and after a failed dial", () => {
    const sent = sentBody(
      DIALERS.elevenlabs.build({ type: "elevenlabs", agent_id: "agent_7101k2x", agent_phone_number_id: "phnum_456" }, REQUEST, ENV),
    );
    // ElevenLabs adds its own system__ variables to the ones it was given.
    const echoed = { ...sent.conversation_initiation_client_data.dynamic_variables, system__call_sid: "CA5d0d" };
    for (const fixture of [elevenlabsTranscription, elevenlabsBusy]) {
      const payload: any = structuredClone(fixture);
      delete payload.data.user_id;
      payload.data.conversation_initiation_client_data = { dynamic_variables: echoed };
      const { event } = eventOf(elevenlabs.normalize(payload, {}));
      expect(event.metadata).toEqual({ ...CORRELATION, event_id: "evt_123", calendar_id: "cal_9", caller_name: "Ana Silva", task: "Confirm the appointment." });
    }
  });
});
