import { createExecutionContext, env, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { ledgerFor, ledgerStub } from "../../src/ledger/client";
import { bland } from "../../src/platforms/bland";
import type { NormalizedEvent } from "../../src/platforms/types";
import blandCompleted from "../fixtures/platforms/bland/completed.json";
import blandCorrected from "../fixtures/platforms/bland/corrected.json";
import elevenTranscription from "../fixtures/platforms/elevenlabs/transcription.json";
import elevenAudio from "../fixtures/platforms/elevenlabs/post-call-audio.json";
import retellAnalyzed from "../fixtures/platforms/retell/call-analyzed.json";
import retellEnded from "../fixtures/platforms/retell/call-ended.json";
import vapiBusy from "../fixtures/platforms/vapi/busy.json";
import vapiEnded from "../fixtures/platforms/vapi/ended-normally.json";
import vapiStatus from "../fixtures/platforms/vapi/status-update.json";
import { editActions, makeDue, pendingJobs, putAgent, request, uniqueId, watchLedgerSends } from "../helpers";
import { signBland, signElevenLabs, signRetell, signVapi } from "./sign";

const SECRETS = {
  VAPI_WEBHOOK_SECRET: "vapi-secret",
  RETELL_WEBHOOK_KEY: "retell-key",
  BLAND_WEBHOOK_SECRET: "bland-secret",
  ELEVENLABS_WEBHOOK_SECRET: "eleven-secret",
};
const THANKS = { type: "sms", template: "Thanks {{caller_name}}" };
const MISSED = { type: "sms", template: "Sorry we missed you", when: ["no_answer", "busy"] };

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** A fixture with a fresh call id, so every test has a ledger of its own. */
function fresh(platform: "vapi" | "retell" | "bland" | "elevenlabs", fixture: any, callId: string) {
  const body = clone(fixture);
  if (platform === "vapi") body.message.call.id = callId;
  if (platform === "retell") body.call.call_id = callId;
  if (platform === "bland") body.call_id = callId;
  if (platform === "elevenlabs") body.data.conversation_id = callId;
  return JSON.stringify(body);
}

async function signed(platform: "vapi" | "retell" | "bland" | "elevenlabs", body: string, secret: string, at = Date.now()) {
  if (platform === "vapi") return signVapi(secret, body, Math.floor(at / 1000));
  if (platform === "retell") return signRetell(secret, body, at);
  if (platform === "bland") return signBland(secret, body);
  return signElevenLabs(secret, body, Math.floor(at / 1000));
}

/** Posts to the relay with the platform secrets (or `settings`) in its env. */
async function post(path: string, body: string, headers: Record<string, string>, settings: Record<string, string> = SECRETS) {
  const ctx = createExecutionContext();
  const res = await worker.fetch!(
    new Request(`https://relay.test${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body }) as any,
    { ...env, ...settings } as CloudflareBindings,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

const callOf = async (agentId: string, callId: string) =>
  (await (await request("GET", `/calls/${encodeURIComponent(callId)}?agent_id=${agentId}`)).json()) as any;

async function agentWith(actions: unknown[], extra: Record<string, unknown> = {}) {
  const agentId = uniqueId("agent");
  await putAgent(agentId, { name: "Acme", ...extra, voice_tools: { post_call_follow_up: { enabled: true, actions } } });
  return agentId;
}

describe("POST /calls/ended/{platform}", () => {
  const cases = [
    ["vapi", vapiEnded],
    ["retell", retellAnalyzed],
    ["bland", blandCompleted],
    ["elevenlabs", elevenTranscription],
  ] as const;

  it.each(cases)("%s: a signed call-ended webhook is accepted once, normalised, with its raw payload kept", async (platform, fixture) => {
    const agentId = await agentWith([THANKS]);
    const callId = uniqueId("call");
    const body = fresh(platform, fixture, callId);
    const secret = Object.values(SECRETS)[cases.findIndex(([p]) => p === platform)]!;
    const res = await post(`/calls/ended/${platform}?agent_id=${agentId}`, body, await signed(platform, body, secret));
    expect(res.status).toBe(202);
    const again = await post(`/calls/ended/${platform}?agent_id=${agentId}`, body, await signed(platform, body, secret));
    expect(again.status).toBe(200);
    expect(((await again.json()) as any).status).toBe("duplicate");
    const call = await callOf(agentId, callId);
    expect(call.event).toMatchObject({ call_id: callId, agent_id: agentId, outcome: expect.any(String) });
    expect(call.raw).toEqual(JSON.parse(body));
    expect(call.actions.map((a: any) => a.status)).toEqual(["pending"]);
  });

  it.each(cases)("%s: a wrong secret, a tampered body and no signature are 401", async (platform, fixture) => {
    const body = fresh(platform, fixture, uniqueId("call"));
    const wrong = await post(`/calls/ended/${platform}?agent_id=a1`, body, await signed(platform, body, "not-the-secret"));
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("content-type")).toBe("application/problem+json");
    const secret = Object.values(SECRETS)[cases.findIndex(([p]) => p === platform)]!;
    const headers = await signed(platform, body, secret);
    expect((await post(`/calls/ended/${platform}?agent_id=a1`, body.replace("}", ',"x":1}'), headers)).status).toBe(401);
    expect((await post(`/calls/ended/${platform}?agent_id=a1`, body, {})).status).toBe(401);
  });

  it("a stale timestamp is 401 and says so; a rotated secret list accepts either", async () => {
    const body = fresh("retell", retellAnalyzed, uniqueId("call"));
    const stale = await post("/calls/ended/retell?agent_id=a1", body, await signRetell("retell-key", body, Date.now() - 6 * 60_000));
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as any).detail).toMatch(/too old/);
    const agentId = await agentWith([THANKS]);
    const rotated = { ...SECRETS, RETELL_WEBHOOK_KEY: "old-key new-key" };
    const fresher = fresh("retell", retellAnalyzed, uniqueId("call"));
    expect((await post(`/calls/ended/retell?agent_id=${agentId}`, fresher, await signRetell("old-key", fresher, Date.now()), rotated)).status).toBe(202);
  });

  it("without a secret the platform is refused with 503 naming the setting, unless unsigned webhooks are allowed", async () => {
    const agentId = await agentWith([THANKS]);
    const body = fresh("bland", blandCompleted, uniqueId("call"));
    const refused = await post(`/calls/ended/bland?agent_id=${agentId}`, body, {}, {});
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as any).detail).toContain("BLAND_WEBHOOK_SECRET");
    const allowed = await post(`/calls/ended/bland?agent_id=${agentId}`, body, {}, { ALLOW_UNSIGNED_PLATFORM_WEBHOOKS: "true" });
    expect(allowed.status).toBe(202);
  });

  it("events that do not end a call answer 200 ignored and store nothing", async () => {
    for (const [platform, fixture, secret] of [
      ["vapi", vapiStatus, SECRETS.VAPI_WEBHOOK_SECRET],
      ["elevenlabs", elevenAudio, SECRETS.ELEVENLABS_WEBHOOK_SECRET],
    ] as const) {
      const body = JSON.stringify(fixture);
      const res = await post(`/calls/ended/${platform}?agent_id=a1`, body, await signed(platform, body, secret));
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: "ignored", reason: expect.any(String) });
    }
  });

  it("finds the relay agent by platform_ids, and runs only the actions meant for the outcome", async () => {
    const assistant = uniqueId("asst");
    const agentId = await agentWith([THANKS, MISSED], { platform_ids: { vapi: assistant } });
    const callId = uniqueId("call");
    const payload = clone(vapiBusy) as any;
    payload.message.call.id = callId;
    payload.message.call.assistantId = assistant;
    const body = JSON.stringify(payload);
    expect((await post("/calls/ended/vapi", body, await signed("vapi", body, SECRETS.VAPI_WEBHOOK_SECRET))).status).toBe(202);
    const call = await callOf(agentId, callId);
    expect(call.event.outcome).toBe("busy");
    expect(call.actions.map((a: any) => a.status)).toEqual(["skipped", "pending"]);
    expect(call.actions[0].last_error).toMatch(/did not connect/);

    // A second agent cannot claim the same assistant.
    const other = await request("PUT", `/agents/${uniqueId("agent")}`, { platform_ids: { vapi: assistant } });
    expect(other.status).toBe(409);
  });

  it("Retell: call_ended holds the actions for call_analyzed, which releases them with the summary", async () => {
    const agentId = await agentWith([THANKS]);
    const callId = uniqueId("call");
    const ended = fresh("retell", retellEnded, callId);
    expect((await post(`/calls/ended/retell?agent_id=${agentId}`, ended, await signRetell("retell-key", ended, Date.now()))).status).toBe(202);
    const held = await callOf(agentId, callId);
    expect(Date.parse(held.actions[0].next_attempt_at)).toBeGreaterThan(Date.now() + 590_000);
    // A retry of call_ended changes nothing.
    expect((await post(`/calls/ended/retell?agent_id=${agentId}`, ended, await signRetell("retell-key", ended, Date.now()))).status).toBe(200);

    const analyzed = fresh("retell", retellAnalyzed, callId);
    const res = await post(`/calls/ended/retell?agent_id=${agentId}`, analyzed, await signRetell("retell-key", analyzed, Date.now()));
    expect(res.status).toBe(200);
    const released = await callOf(agentId, callId);
    expect(released.event.summary).toBeTruthy();
    expect(Date.parse(released.actions[0].next_attempt_at)).toBeLessThanOrEqual(Date.now());
    expect(released.raw.event).toBe("call_analyzed");
  });

  it("Retell: without call_analyzed the actions run with what call_ended had, once the wait is over", async () => {
    const agentId = await agentWith([THANKS]);
    const callId = uniqueId("call");
    const ended = fresh("retell", retellEnded, callId);
    await post(`/calls/ended/retell?agent_id=${agentId}`, ended, await signRetell("retell-key", ended, Date.now()));
    const [job] = await pendingJobs(agentId, callId);
    expect(await ledgerFor(env, agentId, callId).claim(0, job!.generation)).toMatchObject({ ok: false, reason: "not due" });
    await makeDue(agentId, callId);
    expect((await ledgerFor(env, agentId, callId).claim(0, job!.generation)).ok).toBe(true);
  });

  it("Retell: if the delayed job is lost, the ledger's alarm sends it once the wait is over", async () => {
    const agentId = await agentWith([THANKS]);
    const callId = uniqueId("call");
    const ended = fresh("retell", retellEnded, callId);
    await post(`/calls/ended/retell?agent_id=${agentId}`, ended, await signRetell("retell-key", ended, Date.now()));
    const stub = ledgerStub(env, agentId, callId);
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now() + 600_000);
    // The wait (and the watchdog's margin) has passed and the queue lost the delayed job.
    await runInDurableObject(stub, (_i, state) => editActions(state, () => ({ due_at: Date.now() - 61_000 })));
    const sends = await watchLedgerSends(agentId, callId);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(sends).toHaveBeenCalledTimes(1);
    // A copy of the held job, which a late delivery of the original would also find due.
    expect([...sends.mock.calls[0]![0]].map((m) => (m.body as { generation: number }).generation)).toEqual([1]);
  });

  it("Bland: the corrected transcript posted later replaces the stored one for what is not sent yet", async () => {
    const agentId = await agentWith([THANKS]);
    const callId = uniqueId("call");
    const first = fresh("bland", blandCompleted, callId);
    await post(`/calls/ended/bland?agent_id=${agentId}`, first, await signBland("bland-secret", first));
    const corrected = fresh("bland", blandCorrected, callId);
    const res = await post(`/calls/ended/bland?agent_id=${agentId}`, corrected, await signBland("bland-secret", corrected));
    expect(((await res.json()) as any).status).toBe("duplicate");
    const call = await callOf(agentId, callId);
    const expected = bland.normalize(JSON.parse(corrected), { defaultAgentId: agentId }) as NormalizedEvent;
    const original = bland.normalize(JSON.parse(first), { defaultAgentId: agentId }) as NormalizedEvent;
    expect(expected.correctedTranscript).toBe(true);
    expect(expected.event.transcript).not.toBe(original.event.transcript);
    expect(call.event.transcript).toBe(expected.event.transcript);
    // The delayed payload carries the transcript alone: the rest of the call, and the
    // platform's first payload, stay as they were.
    const { transcript: _, ...rest } = call.event;
    const { transcript: __, ...originalRest } = original.event;
    expect(rest).toEqual(JSON.parse(JSON.stringify(originalRest)));
    expect(call.event.caller_number).toBeTruthy();
    expect(call.raw).toEqual(JSON.parse(first));
  });
});
