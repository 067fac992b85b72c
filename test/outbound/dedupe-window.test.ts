import { SELF, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { OUTBOUND_CALL_ID, generationId, objectNameOf, outboundCall } from "../../src/outbound/client";
import type { OutboundState } from "../../src/outbound/state";
import { consumeMessages, pendingJobs, postEvent, putAgent, request, stubFetch, uniqueId } from "../helpers";

afterEach(() => vi.restoreAllMocks());

const CALLBACK_URL = "https://crm.example.com/callback";
const DAY_MS = 86_400_000;
const stub = (id: string) => outboundCall(env, id).stub;
const stateOf = (id: string) => outboundCall(env, id).inspect() as Promise<OutboundState | null>;
const vapiCreated = (id: string) => new Response(JSON.stringify({ id }), { status: 201, headers: { "content-type": "application/json" } });

/** Changes the stored state of the object `id` lives in, as time passing would. */
async function edit(id: string, change: (s: OutboundState) => OutboundState) {
  await runInDurableObject(stub(id), async (instance, storage) => {
    const object = instance as unknown as { state: OutboundState };
    object.state = change(object.state);
    await storage.storage.put("state", object.state);
  });
}

async function dialNow(id: string) {
  await edit(id, (s) => ({ ...s, due_at: Date.now() - 1 }));
  await runDurableObjectAlarm(stub(id));
}

/** Runs the queue consumer over the call's pending hand-over jobs. */
async function deliver(agentId: string, id: string) {
  const jobs = await pendingJobs(agentId, id);
  await consumeMessages(jobs);
  return jobs;
}

/** Places, ends and delivers the first call of a trigger's dedupe key, then lets 31 days pass. */
async function keyPastItsWindow() {
  const agentId = uniqueId("agent");
  await putAgent(agentId, { name: "Acme", voice_tools: { outbound_calls: { platform: { type: "vapi", assistant_id: "a", phone_number_id: "p" } } } });
  const created = await request("POST", "/triggers", {
    name: "Appointment confirmation",
    agent_id: agentId,
    dedupe_key: "{{event_id}}",
    schedule: { delay_seconds: 600 },
    call: { phone_number: "{{phone}}", webhook_url: CALLBACK_URL, metadata: { event_id: "{{event_id}}" } },
  });
  const trigger = (await created.json()) as { id: string; secret: string };
  const fire = () =>
    SELF.fetch(`https://relay.test/hooks/${trigger.id}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${trigger.secret}` },
      body: JSON.stringify({ phone: "+14155551234", event_id: "evt_same" }),
    });

  const first = await fire();
  expect(first.status).toBe(202);
  const firstId = ((await first.json()) as { id: string }).id;
  const platformCall = uniqueId("vapi-first");
  stubFetch(() => vapiCreated(platformCall));
  await dialNow(firstId);
  expect((await postEvent({ call_id: platformCall, agent_id: agentId, outcome: "completed" })).status).toBe(202);
  vi.restoreAllMocks();
  stubFetch(() => new Response("ok"));
  expect(await deliver(agentId, firstId)).toHaveLength(1);
  vi.restoreAllMocks();
  await edit(firstId, (s) => ({ ...s, requested_at: new Date(Date.now() - 31 * DAY_MS).toISOString() }));
  return { agentId, triggerId: trigger.id, firstId, fire };
}

describe("a trigger's dedupe key reused after its 30-day window", () => {
  it("places a new call with an id of its own, whose callback is handed over and sent", async () => {
    const { agentId, firstId, fire } = await keyPastItsWindow();
    const second = await fire();
    expect(second.status, await second.clone().text()).toBe(202);
    const call = (await second.json()) as { id: string; status: string };
    expect(call).toMatchObject({ id: `${firstId}-g2`, status: "scheduled" });

    const platformCall = uniqueId("vapi-second");
    stubFetch(() => vapiCreated(platformCall));
    await dialNow(call.id);
    // The platform's call id alone finds the new call.
    expect((await postEvent({ call_id: platformCall, agent_id: agentId, outcome: "confirmed" })).status).toBe(202);
    expect(await stateOf(call.id)).toMatchObject({ status: "completed", outcome: "confirmed", handed_over: true, handed_actions: 1 });
    vi.restoreAllMocks();
    const seen = stubFetch(() => new Response("ok"));
    expect(await deliver(agentId, call.id)).toHaveLength(1);
    expect(JSON.parse(seen[0]!.body)).toMatchObject({ id: call.id, outcome: "confirmed" });
  });

  it("lists both calls, the old as it ended and the new as it is", async () => {
    const { triggerId, firstId, fire } = await keyPastItsWindow();
    const call = (await (await fire()).json()) as { id: string };
    const listed = (await (await request("GET", `/outbound-calls?trigger_id=${triggerId}`)).json()) as { outbound_calls: { id: string; status: string }[] };
    expect(listed.outbound_calls.map((c) => [c.id, c.status])).toEqual([
      [call.id, "scheduled"],
      [firstId, "completed"],
    ]);
    // The object holds the new call only; the old one's deliveries stay in the log under its id.
    expect(await stateOf(firstId)).toBeNull();
    expect((await request("GET", `/outbound-calls/${call.id}`)).status).toBe(200);
  });

  it("lets a late event of the old call end nothing, and answers a repeat with the new call", async () => {
    const { agentId, firstId, fire } = await keyPastItsWindow();
    const call = (await (await fire()).json()) as { id: string };
    stubFetch(() => vapiCreated(uniqueId("vapi-second")));
    await dialNow(call.id);
    vi.restoreAllMocks();
    // Named by the old call's id and its attempt number, which the new call's attempt shares.
    const late = { call_id: uniqueId("vapi-late"), agent_id: agentId, outcome: "declined", metadata: { outbound_call_id: firstId, attempt: 1 } };
    expect((await postEvent(late)).status).toBe(202);
    expect((await stateOf(call.id))!.status).toBe("in_progress");
    const repeat = await fire();
    expect(repeat.status).toBe(200);
    expect(await repeat.json()).toMatchObject({ status: "duplicate", id: call.id });
  });

  it("keeps the old call while its callback is still to be handed over", async () => {
    const { firstId, fire } = await keyPastItsWindow();
    await edit(firstId, (s) => ({ ...s, handed_over: false }));
    const repeat = await fire();
    expect(repeat.status).toBe(200);
    expect(await repeat.json()).toMatchObject({ status: "duplicate", id: firstId });
  });
});

describe("generation ids", () => {
  it("keep the first call's id and suffix later ones, all living in the first one's object", () => {
    const id = "oc_5f2c9a1e7b3d4c6a8e0f1b2c";
    expect(generationId(id, 1)).toBe(id);
    expect(generationId(id, 2)).toBe(`${id}-g2`);
    expect(generationId(`${id}-g2`, 3)).toBe(`${id}-g3`);
    expect(objectNameOf(`${id}-g12`)).toBe(id);
    expect(objectNameOf(id)).toBe(id);
    for (const valid of [id, `${id}-g2`, `${id}-g10`]) expect(OUTBOUND_CALL_ID.test(valid)).toBe(true);
    for (const invalid of [`${id}-g`, `${id}-g0`, `${id}-x2`, `${id}g2`]) expect(OUTBOUND_CALL_ID.test(invalid)).toBe(false);
  });
});
