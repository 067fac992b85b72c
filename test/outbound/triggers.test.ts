import { SELF } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ADMIN, putAgent, request, uniqueId } from "../helpers";

const SEED_PAYLOAD = {
  phone_number: "+14155551234",
  task: "Confirm the appointment for Dental cleaning on March 12 at 10:30.",
  caller_name: "Ana Silva",
  webhook_url: "https://yourapp.com/kallyai/callback",
  metadata: { event_id: "evt_123", calendar_id: "cal_9" },
};

// Calls placed here are due now, so their objects dial at once: Vapi's answer is played here.
beforeEach(() => {
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response(JSON.stringify({ id: crypto.randomUUID() }), { status: 201 }));
});
afterEach(() => vi.restoreAllMocks());

async function agent() {
  const agentId = uniqueId("agent");
  await putAgent(agentId, { name: "Acme Dental", voice_tools: { outbound_calls: { platform: { type: "vapi", assistant_id: "asst_1", phone_number_id: "pn_1" } } } });
  return agentId;
}

async function createTrigger(config: Record<string, unknown>) {
  const res = await request("POST", "/triggers", { name: "Test trigger", ...config });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; url: string; secret: string };
}

function hook(triggerId: string, body: string, headers: Record<string, string>, query = "") {
  return SELF.fetch(`https://relay.test/hooks/${triggerId}${query}`, { method: "POST", headers, body });
}
const json = (secret: string) => ({ "content-type": "application/json", authorization: `Bearer ${secret}` });
const form = (secret: string) => ({ "content-type": "application/x-www-form-urlencoded", authorization: `Bearer ${secret}` });

describe("/triggers", () => {
  it("creates a trigger with its URL and a secret shown once, lists it without the secret", async () => {
    const agentId = await agent();
    const trigger = await createTrigger({ agent_id: agentId });
    expect(trigger.url).toBe(`https://relay.test/hooks/${trigger.id}`);
    expect(trigger.secret).toMatch(/^whsec_/);
    const listed = (await (await request("GET", `/triggers?agent_id=${agentId}`)).json()) as any;
    expect(listed.triggers).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(trigger.secret);
    const patched = await request("PATCH", `/triggers/${trigger.id}`, { enabled: false });
    expect(((await patched.json()) as any).enabled).toBe(false);
    expect((await request("DELETE", `/triggers/${trigger.id}`)).status).toBe(204);
    expect((await request("GET", `/triggers/${trigger.id}`)).status).toBe(404);
  });

  it("refuses a trigger for an unknown agent or with a broken template, naming the field", async () => {
    const unknown = await request("POST", "/triggers", { name: "x", agent_id: "agent_nobody" });
    expect(unknown.status).toBe(422);
    expect(((await unknown.json()) as any).errors[0].path).toBe("$.agent_id");
    const broken = await request("POST", "/triggers", { name: "x", agent_id: await agent(), call: { task: "{{#open}}" } });
    expect(broken.status).toBe(422);
    expect(((await broken.json()) as any).errors[0].path).toBe("$.call.task");
  });

  it("a trigger whose agent was deleted answers its events 409, and can still be switched off", async () => {
    const agentId = await agent();
    const trigger = await createTrigger({ agent_id: agentId });
    expect((await request("DELETE", `/agents/${agentId}`)).status).toBe(204);
    const fired = await hook(trigger.id, JSON.stringify(SEED_PAYLOAD), json(trigger.secret));
    expect(fired.status).toBe(409);
    expect(fired.headers.get("content-type")).toBe("application/problem+json");
    expect(((await fired.json()) as any).detail).toMatch(/agent ".+" no longer exists/);
    const off = await request("PATCH", `/triggers/${trigger.id}`, { enabled: false });
    expect(off.status, await off.clone().text()).toBe(200);
    // Switched on again, it must name an agent that exists.
    expect((await request("PATCH", `/triggers/${trigger.id}`, { enabled: true })).status).toBe(422);
  });
});

describe("POST /hooks/{trigger_id}", () => {
  it("places the seed payload as is, answering 202 with the outbound call", async () => {
    const agentId = await agent();
    const trigger = await createTrigger({ agent_id: agentId });
    const res = await hook(trigger.id, JSON.stringify(SEED_PAYLOAD), json(trigger.secret));
    expect(res.status, await res.clone().text()).toBe(202);
    const call = (await res.json()) as any;
    expect(call).toMatchObject({ trigger_id: trigger.id, agent_id: agentId, phone_number: "+14155551234", caller_name: "Ana Silva", metadata: SEED_PAYLOAD.metadata });
    const listed = (await (await request("GET", `/outbound-calls?trigger_id=${trigger.id}`)).json()) as any;
    expect(listed.outbound_calls.map((c: any) => c.id)).toEqual([call.id]);
  });

  it("reads form bodies in Zapier's, PHP's and n8n's nesting styles", async () => {
    const trigger = await createTrigger({ agent_id: await agent() });
    for (const key of ["metadata__event_id", "metadata[event_id]", "metadata.event_id"]) {
      const body = new URLSearchParams({ phone_number: "+14155551234", caller_name: "Ana", [key]: "evt_form" }).toString();
      const res = await hook(trigger.id, body, form(trigger.secret));
      expect(res.status, key).toBe(202);
      expect(((await res.json()) as any).metadata, key).toEqual({ event_id: "evt_form" });
    }
  });

  it("places a form body whose metadata nests objects, and stores them", async () => {
    const trigger = await createTrigger({ agent_id: await agent() });
    const body = "phone_number=%2B14155551234&metadata__attendee__email=a%40b.c&metadata[attendee][tags][]=vip";
    const res = await hook(trigger.id, body, form(trigger.secret));
    expect(res.status, await res.clone().text()).toBe(202);
    const call = (await res.json()) as any;
    const stored = (await (await request("GET", `/outbound-calls/${call.id}`)).json()) as any;
    expect(stored.metadata).toEqual({ attendee: { email: "a@b.c", tags: ["vip"] } });
  });

  it("maps fields with templates and says which template rendered an empty phone number", async () => {
    const trigger = await createTrigger({
      agent_id: await agent(),
      call: { phone_number: "{{attendee.phone}}", task: "Confirm {{event_title}}", caller_name: "{{attendee.name}}", metadata: { event_id: "{{event_id}}" } },
    });
    const ok = await hook(trigger.id, JSON.stringify({ attendee: { phone: "+14155551234", name: "Ana" }, event_title: "Cleaning", event_id: "e1" }), json(trigger.secret));
    expect(ok.status).toBe(202);
    expect(await ok.json()).toMatchObject({ task: "Confirm Cleaning", caller_name: "Ana", metadata: { event_id: "e1" } });
    const empty = await hook(trigger.id, JSON.stringify({ attendee: { name: "Ana" } }), json(trigger.secret));
    expect(empty.status).toBe(422);
    const problem = (await empty.json()) as any;
    expect(problem.errors[0].path).toBe("$.call.phone_number");
    expect(problem.errors[0].message).toContain("{{attendee.phone}}");
  });

  it("authenticates by bearer, by Standard Webhooks signature and by ?key=, and refuses anything else", async () => {
    const trigger = await createTrigger({ agent_id: await agent() });
    const body = JSON.stringify(SEED_PAYLOAD);
    expect((await hook(trigger.id, body, { "content-type": "application/json" })).status).toBe(401);
    expect((await hook(trigger.id, body, json("whsec_wrong"))).status).toBe(401);
    expect((await hook(trigger.id, body, { "content-type": "application/json" }, `?key=${encodeURIComponent(trigger.secret)}`)).status).toBe(202);
    // Pasted as is: a base64 `+` must not turn into a space.
    expect((await hook(trigger.id, body, { "content-type": "application/json" }, `?key=${trigger.secret}`)).status).toBe(202);
    const id = uniqueId("msg");
    const timestamp = new Date();
    const signature = new Webhook(trigger.secret).sign(id, timestamp, body);
    const signed = { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)), "webhook-signature": signature };
    expect((await hook(trigger.id, body, signed)).status).toBe(202);
    const stale = { ...signed, "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000) - 3600) };
    expect((await hook(trigger.id, body, stale)).status).toBe(401);
  });

  it("keeps the old secret valid after a rotation", async () => {
    const trigger = await createTrigger({ agent_id: await agent() });
    const rotated = (await (await request("POST", `/triggers/${trigger.id}/rotate-secret`)).json()) as any;
    expect(rotated.secret).not.toBe(trigger.secret);
    expect((await hook(trigger.id, JSON.stringify(SEED_PAYLOAD), json(trigger.secret))).status).toBe(202);
    expect((await hook(trigger.id, JSON.stringify(SEED_PAYLOAD), json(rotated.secret))).status).toBe(202);
  });

  it("answers 200 filtered when a condition fails, with the reason", async () => {
    const trigger = await createTrigger({ agent_id: await agent(), filter: [{ field: "deal.stage", op: "eq", value: "won" }] });
    const res = await hook(trigger.id, JSON.stringify({ ...SEED_PAYLOAD, deal: { stage: "lost" } }), json(trigger.secret));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "filtered" });
    const disabled = await createTrigger({ agent_id: await agent(), enabled: false });
    expect(await (await hook(disabled.id, JSON.stringify(SEED_PAYLOAD), json(disabled.secret))).json()).toMatchObject({ status: "filtered" });
  });

  it("places nothing for a second event with the same dedupe key", async () => {
    const trigger = await createTrigger({ agent_id: await agent(), dedupe_key: "{{metadata.event_id}}" });
    const first = await hook(trigger.id, JSON.stringify(SEED_PAYLOAD), json(trigger.secret));
    expect(first.status).toBe(202);
    const id = ((await first.json()) as any).id;
    const again = await hook(trigger.id, JSON.stringify({ ...SEED_PAYLOAD, task: "changed" }), json(trigger.secret));
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: "duplicate", id, reason: expect.stringContaining(id) });
  });

  it("schedules from the event's time with an offset, and filters an event already past", async () => {
    const trigger = await createTrigger({ agent_id: await agent(), schedule: { at: "{{event_start}}", offset_seconds: -86_400 } });
    const start = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 30 * 86_400_000);
    const res = await hook(trigger.id, JSON.stringify({ ...SEED_PAYLOAD, event_start: start.toISOString() }), json(trigger.secret));
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: "scheduled", scheduled_for: new Date(start.getTime() - 86_400_000).toISOString() });
    const past = await hook(trigger.id, JSON.stringify({ ...SEED_PAYLOAD, event_start: "2020-01-01T10:00:00Z" }), json(trigger.secret));
    expect(past.status).toBe(200);
    expect(await past.json()).toMatchObject({ status: "filtered" });
  });

  it("answers 404 for an unknown trigger and 415 for an unsupported body", async () => {
    expect((await hook("trg_nope", "{}", json("x"))).status).toBe(404);
    const trigger = await createTrigger({ agent_id: await agent() });
    expect((await hook(trigger.id, "hello", { "content-type": "text/plain", authorization: `Bearer ${trigger.secret}` })).status).toBe(415);
  });
});

describe("admin only", () => {
  it("keeps /triggers and /outbound-calls behind the admin key", async () => {
    for (const path of ["/triggers", "/outbound-calls"]) {
      expect((await SELF.fetch(`https://relay.test${path}`)).status).toBe(401);
      expect((await request("GET", path, undefined, ADMIN)).status).toBe(200);
    }
  });
});
