import { createExecutionContext, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { mayHavePlacedCalls } from "../../src/ingest/accept-call";
import { localParts, zonedTimeToUtc } from "../../src/outbound/calling-hours";
import { outboundCall } from "../../src/outbound/client";
import type { OutboundState } from "../../src/outbound/state";
import type { Agent } from "../../src/schemas/agent";
import { ADMIN, INGEST, consumeMessages, pendingJobs, postEvent, putAgent, request, stubFetch, uniqueId } from "../helpers";
import { signBland } from "../platforms/sign";

const WEBHOOK_SECRET = "whsec_dGVzdC13ZWJob29rLXNpZ25pbmctc2VjcmV0";
const CALLBACK_URL = "https://crm.example.com/kallyai/callback";
const VAPI = { type: "vapi", assistant_id: "asst_123", phone_number_id: "pn_456" };


afterEach(() => vi.restoreAllMocks());

async function agentWith(outbound: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const agentId = uniqueId("agent");
  await putAgent(agentId, { name: "Acme Dental", ...extra, voice_tools: { outbound_calls: outbound } });
  return agentId;
}

const place = (body: Record<string, unknown>, headers: Record<string, string> = ADMIN) => request("POST", "/outbound-calls", body, headers);

/**
 * Requests a call due in ten minutes, so its alarm fires only when the test runs it (an alarm
 * due now would fire on its own, racing the test).
 */
async function placed(body: Record<string, unknown>) {
  const res = await place("scheduled_at" in body ? body : { delay_seconds: 600, ...body });
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json()) as any;
}

const stateOf = (id: string) => outboundCall(env, id).inspect() as Promise<OutboundState>;
const stub = (id: string) => outboundCall(env, id).stub;

/**
 * Moves the call's next due time (or its attempt's deadline) to now, as if the wait had passed.
 * The alarm stays where it is (later), so it fires only when the test runs it.
 */
async function makeDue(id: string, what: "due" | "deadline" = "due") {
  await runInDurableObject(stub(id), async (instance, state) => {
    const object = instance as unknown as { state: OutboundState };
    const s = object.state;
    const next: OutboundState =
      what === "due" ? { ...s, due_at: Date.now() - 1 } : { ...s, attempts: s.attempts.map((a, i, all) => (i === all.length - 1 ? { ...a, deadline: Date.now() - 1 } : a)) };
    object.state = next;
    await state.storage.put("state", next);
  });
}

/** Runs the call's alarm now, its due time made now first: the next attempt is placed. */
async function dialNow(id: string) {
  await makeDue(id);
  await runDurableObjectAlarm(stub(id));
}

/** Runs the queue consumer over the jobs of the outbound call's hand-over (callback, fallback). */
async function deliverHandOver(agentId: string, id: string) {
  const jobs = await pendingJobs(agentId, id);
  await consumeMessages(jobs);
  return jobs;
}

const vapiCreated = (id: string) => new Response(JSON.stringify({ id, status: "queued" }), { status: 201, headers: { "content-type": "application/json" } });

describe("POST /outbound-calls", () => {
  it("normalises a national number with the default country and queues the call", async () => {
    const agentId = await agentWith({ platform: VAPI, default_country: "US" });
    stubFetch(() => vapiCreated("vapi-call-0"));
    const res = await place({ agent_id: agentId, phone_number: "(415) 555-1234", task: "Confirm", caller_name: "Ana Silva", metadata: { event_id: "evt_1" } });
    expect(res.status).toBe(202);
    const call = (await res.json()) as any;
    expect(call).toMatchObject({ status: "queued", phone_number: "+14155551234", agent_id: agentId, platform: "vapi", attempts: [], metadata: { event_id: "evt_1" } });
    expect(call.id).toMatch(/^oc_[0-9a-f]{24}$/);
    const got = await request("GET", `/outbound-calls/${call.id}`);
    expect(await got.json()).toMatchObject({ id: call.id, phone_number: "+14155551234" });
  });

  it("refuses what cannot be placed with a 422 naming the field", async () => {
    const agentId = await agentWith({ platform: VAPI });
    const bad = await place({ agent_id: agentId, phone_number: "555-1234" });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as any).errors[0].path).toBe("$.phone_number");
    const ssrf = await place({ agent_id: agentId, phone_number: "+14155551234", webhook_url: "http://127.0.0.1/hook" });
    expect(ssrf.status).toBe(422);
    expect(((await ssrf.json()) as any).errors[0].path).toBe("$.webhook_url");
    const both = await place({ agent_id: agentId, phone_number: "+14155551234", scheduled_at: "2030-01-01T00:00:00Z", delay_seconds: 5 });
    expect(both.status).toBe(422);
    const noSettings = uniqueId("agent");
    await putAgent(noSettings, { name: "No calls" });
    const none = await place({ agent_id: noSettings, phone_number: "+14155551234" });
    expect(none.status).toBe(422);
    expect(((await none.json()) as any).errors[0].path).toBe("$.agent_id");
  });

  it("answers 503 naming the setting when the platform has no API key", async () => {
    const agentId = await agentWith({ platform: { type: "retell", from_number: "+14155550100" } });
    const res = await place({ agent_id: agentId, phone_number: "+14155551234" });
    expect(res.status).toBe(503);
    expect(((await res.json()) as any).detail).toContain("RETELL_API_KEY");
  });

  it("moves a due time outside calling hours to the next opening in the callee's time zone", async () => {
    const hours = { timezone: "America/New_York", days: ["mon", "tue", "wed", "thu", "fri"], start: "09:00", end: "17:00" };
    const agentId = await agentWith({ platform: VAPI, calling_hours: hours });
    // A Saturday a week or two ahead; the call moves to the Monday after it.
    const day = new Date(Date.now() + 8 * 86_400_000);
    while (localParts(day.getTime(), "America/New_York").weekday !== "sat") day.setUTCDate(day.getUTCDate() + 1);
    const sat = localParts(day.getTime(), "America/New_York");
    const saturdayNoon = zonedTimeToUtc(sat.year, sat.month, sat.day, 12, 0, "America/New_York");
    const monday = localParts(saturdayNoon + 2 * 86_400_000, "America/New_York");
    const call = await placed({ agent_id: agentId, phone_number: "+14155551234", scheduled_at: new Date(saturdayNoon).toISOString() });
    expect(call.status).toBe("scheduled");
    expect(call.scheduled_for).toBe(new Date(zonedTimeToUtc(monday.year, monday.month, monday.day, 9, 0, "America/New_York")).toISOString());
    // The callee in Lisbon: Monday 09:00 there.
    const lisbon = await placed({ agent_id: agentId, phone_number: "+351912345678", scheduled_at: new Date(saturdayNoon).toISOString(), timezone: "Europe/Lisbon" });
    expect(lisbon.scheduled_for).toBe(new Date(zonedTimeToUtc(monday.year, monday.month, monday.day, 9, 0, "Europe/Lisbon")).toISOString());
  });

  it("refuses a call more than a year ahead", async () => {
    const agentId = await agentWith({ platform: VAPI });
    const res = await place({ agent_id: agentId, phone_number: "+14155551234", scheduled_at: new Date(Date.now() + 400 * 86_400_000).toISOString() });
    expect(res.status).toBe(422);
    expect(((await res.json()) as any).errors[0].path).toBe("$.scheduled_at");
  });

  it("answers the same Idempotency-Key with the first answer, and a changed body with 422", async () => {
    const agentId = await agentWith({ platform: VAPI });
    const body = { agent_id: agentId, phone_number: "+14155551234", task: "Confirm", delay_seconds: 600 };
    const key = { ...ADMIN, "idempotency-key": uniqueId("key") };
    const answers = await Promise.all([1, 2, 3, 4].map(() => place(body, key)));
    const ids = new Set<string>();
    for (const res of answers) {
      expect(res.status).toBe(202);
      ids.add(((await res.json()) as any).id);
    }
    expect(ids.size).toBe(1);
    expect(answers.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(3);
    const changed = await place({ ...body, task: "Something else" }, key);
    expect(changed.status).toBe(422);
    const listed = await request("GET", `/outbound-calls?agent_id=${agentId}`);
    expect(((await listed.json()) as any).outbound_calls).toHaveLength(1);
  });
});

describe("placing through Vapi", () => {
  it("sends the documented create-call request with our id in the metadata", async () => {
    const agentId = await agentWith({ platform: VAPI });
    const call = await placed({ agent_id: agentId, phone_number: "+14155551234", task: "Confirm", caller_name: "Ana", metadata: { event_id: "evt_9" } });
    const seen = stubFetch(() => vapiCreated("vapi-call-1"));
    await dialNow(call.id);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe("https://api.vapi.ai/call");
    expect(seen[0]!.headers.get("authorization")).toBe("Bearer test-vapi-key");
    const body = JSON.parse(seen[0]!.body);
    expect(body).toMatchObject({ assistantId: "asst_123", phoneNumberId: "pn_456", customer: { number: "+14155551234" } });
    expect(body.assistantOverrides.metadata).toMatchObject({ outbound_call_id: call.id, event_id: "evt_9" });
    const state = await stateOf(call.id);
    expect(state.status).toBe("in_progress");
    expect(state.attempts[0]).toMatchObject({ number: 1, platform_call_id: "vapi-call-1", http_status: 201 });
  });

  it("reads the call id from an answer that echoes 16 KiB of non-Latin metadata", async () => {
    const agentId = await agentWith({ platform: VAPI });
    // 16 KiB of JSON as the request counts it: three times as many bytes as UTF-8.
    const note = "予約確認".repeat(3_500);
    const call = await placed({ agent_id: agentId, phone_number: "+14155551234", task: "Confirm", metadata: { note } });
    stubFetch((req) => {
      const sent = JSON.parse(req.body);
      // Vapi answers with the Call, which repeats the overrides it was given.
      const answer = JSON.stringify({ id: `vapi-${call.id}`, status: "queued", assistantOverrides: sent.assistantOverrides });
      expect(new TextEncoder().encode(answer).byteLength).toBeGreaterThan(65_536);
      return new Response(answer, { status: 201, headers: { "content-type": "application/json" } });
    });
    await dialNow(call.id);
    const state = await stateOf(call.id);
    expect(state.status).toBe("in_progress");
    expect(state.attempts[0]).toMatchObject({ platform_call_id: `vapi-${call.id}`, http_status: 201, error: null });
  });

  it("re-dials a no-answer, then completes and sends the signed callback with the request's metadata", async () => {
    const agentId = await agentWith({ platform: VAPI, redial: { on: ["no_answer", "busy"], max_attempts: 2, interval_seconds: 3600 } });
    const metadata = { event_id: "evt_123", calendar_id: "cal_9" };
    const call = await placed({ agent_id: agentId, phone_number: "+14155551234", caller_name: "Ana Silva", webhook_url: CALLBACK_URL, metadata });
    let n = 0;
    stubFetch(() => vapiCreated(`vapi-${call.id}-${++n}`));
    await dialNow(call.id);
    // The platform's call id alone finds the outbound call.
    expect((await postEvent({ call_id: `vapi-${call.id}-1`, agent_id: agentId, outcome: "no_answer" })).status).toBe(202);
    let state = await stateOf(call.id);
    expect(state.status).toBe("scheduled");
    expect(state.due_at! - Date.now()).toBeGreaterThan(3_500_000);
    await dialNow(call.id);
    expect((await stateOf(call.id)).attempts[1]!.platform_call_id).toBe(`vapi-${call.id}-2`);
    // Our id in the metadata finds it too.
    const end = { call_id: `vapi-${call.id}-2`, agent_id: agentId, outcome: "confirmed", duration_seconds: 158, summary: "Confirmed.", metadata: { outbound_call_id: call.id } };
    expect((await postEvent(end)).status).toBe(202);
    state = await stateOf(call.id);
    expect(state).toMatchObject({ status: "completed", outcome: "confirmed", handed_over: true });

    vi.restoreAllMocks();
    const seen = stubFetch(() => new Response("ok"));
    await deliverHandOver(agentId, call.id);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe(CALLBACK_URL);
    const headers = Object.fromEntries(seen[0]!.headers);
    const payload = new Webhook(WEBHOOK_SECRET).verify(seen[0]!.body, headers) as any;
    expect(payload).toMatchObject({
      event: "outbound_call.completed",
      id: call.id,
      agent_id: agentId,
      phone_number: "+14155551234",
      caller_name: "Ana Silva",
      outcome: "confirmed",
      attempts: 2,
      call_id: `vapi-${call.id}-2`,
      platform: "vapi",
      duration_seconds: 158,
      summary: "Confirmed.",
    });
    expect(payload.metadata).toEqual(metadata);
    const detail = (await (await request("GET", `/outbound-calls/${call.id}`)).json()) as any;
    expect(detail.callback).toMatchObject({ status: "delivered", attempts: 1 });
    expect(detail.attempts.map((a: any) => a.outcome)).toEqual(["no_answer", "confirmed"]);
  });

  it("runs the fallback once re-dials are exhausted", async () => {
    const fallback = [
      { type: "sms", template: "Sorry we missed you, {{caller_name}}." },
      // Runs only for the outcomes it lists: not for this call's no_answer.
      { type: "sms", template: "The line was busy.", when: ["busy"] },
    ];
    const agentId = await agentWith({ platform: VAPI, redial: { max_attempts: 2 }, fallback_actions: fallback });
    const call = await placed({ agent_id: agentId, phone_number: "+14155551234", caller_name: "Ana", webhook_url: CALLBACK_URL });
    let n = 0;
    stubFetch(() => vapiCreated(`v-${call.id}-${++n}`));
    await dialNow(call.id);
    await postEvent({ call_id: `v-${call.id}-1`, agent_id: agentId, outcome: "busy" });
    await makeDue(call.id);
    await dialNow(call.id);
    await postEvent({ call_id: `v-${call.id}-2`, agent_id: agentId, outcome: "no_answer" });
    const state = await stateOf(call.id);
    expect(state).toMatchObject({ status: "completed", outcome: "no_answer", handed_actions: 2 });
    const jobs = await pendingJobs(agentId, call.id);
    expect(jobs).toHaveLength(2);
    vi.restoreAllMocks();
    stubFetch(() => new Response("ok"));
    await deliverHandOver(agentId, call.id);
    const outbox = (await (await request("GET", `/outbox?call_id=${call.id}`)).json()) as any;
    expect(JSON.stringify(outbox)).toContain("Sorry we missed you, Ana.");
  });

  it("fails at once on a 4xx refusal, with the platform's status and message", async () => {
    const agentId = await agentWith({ platform: VAPI });
    const call = await placed({ agent_id: agentId, phone_number: "+14155551234", webhook_url: CALLBACK_URL });
    stubFetch(() => new Response(JSON.stringify({ message: "assistantId must be a UUID" }), { status: 400 }));
    await dialNow(call.id);
    const detail = (await (await request("GET", `/outbound-calls/${call.id}`)).json()) as any;
    expect(detail).toMatchObject({ status: "failed", outcome: "failed" });
    expect(detail.attempts[0]).toMatchObject({ http_status: 400 });
    expect(detail.error).toContain("assistantId must be a UUID");
    const [job] = await pendingJobs(agentId, call.id);
    expect(job).toBeDefined();
  });

  it("retries a 429 or 5xx on the delivery schedule as the same attempt", async () => {
    const agentId = await agentWith({ platform: VAPI });
    const call = await placed({ agent_id: agentId, phone_number: "+14155551234" });
    const seen = stubFetch((_req, n) => (n === 1 ? new Response("slow down", { status: 429, headers: { "retry-after": "30" } }) : n === 2 ? new Response("oops", { status: 500 }) : vapiCreated("vapi-ok")));
    await dialNow(call.id);
    let state = await stateOf(call.id);
    expect(state.status).toBe("scheduled");
    expect(state.attempts).toHaveLength(1);
    expect(Math.round((state.due_at! - Date.now()) / 1000)).toBeGreaterThanOrEqual(28);
    await dialNow(call.id);
    await dialNow(call.id);
    state = await stateOf(call.id);
    expect(seen).toHaveLength(3);
    expect(state.attempts).toHaveLength(1);
    expect(state.attempts[0]).toMatchObject({ retries: 2, platform_call_id: "vapi-ok", http_status: 201 });
  });

  it("never repeats a create-call whose answer was lost; the result timeout ends it as unknown", async () => {
    const agentId = await agentWith({ platform: VAPI });
    const call = await placed({ agent_id: agentId, phone_number: "+14155551234", webhook_url: CALLBACK_URL });
    const seen = stubFetch(() => {
      throw new TypeError("Network connection lost.");
    });
    await dialNow(call.id);
    let state = await stateOf(call.id);
    expect(state.status).toBe("dialing");
    expect(state.attempts[0]!.error).toContain("may or may not have been placed");
    await runDurableObjectAlarm(stub(call.id));
    expect(seen).toHaveLength(1);
    await makeDue(call.id, "deadline");
    await runDurableObjectAlarm(stub(call.id));
    state = await stateOf(call.id);
    expect(seen).toHaveLength(1);
    expect(state).toMatchObject({ status: "completed", outcome: "unknown", handed_over: true });
  });

  it("takes the outcome of a late call-ended event correlated by our id when the create answer was lost", async () => {
    const agentId = await agentWith({ platform: VAPI });
    const call = await placed({ agent_id: agentId, phone_number: "+14155551234" });
    stubFetch(() => {
      throw new TypeError("Network connection lost.");
    });
    await dialNow(call.id);
    await postEvent({ call_id: "vapi-late", agent_id: agentId, outcome: "declined", metadata: { outbound_call_id: call.id } });
    const state = await stateOf(call.id);
    expect(state).toMatchObject({ status: "completed", outcome: "declined" });
    expect(state.attempts[0]!.platform_call_id).toBe("vapi-late");
  });

  it("survives a crash between storing the attempt and sending it: the alarm waits, never dials twice", async () => {
    const agentId = await agentWith({ platform: VAPI });
    const call = await placed({ agent_id: agentId, phone_number: "+14155551234" });
    // The object died right after storing the open attempt: no answer was ever recorded.
    await runInDurableObject(stub(call.id), async (instance, storage) => {
      const object = instance as unknown as { state: OutboundState };
      const { startAttempt } = await import("../../src/outbound/state");
      const next = startAttempt({ ...object.state, due_at: Date.now() }, Date.now())!;
      object.state = next;
      await storage.storage.put("state", next);
      await storage.storage.setAlarm(next.attempts[0]!.deadline);
    });
    const seen = stubFetch(() => vapiCreated("never"));
    await runDurableObjectAlarm(stub(call.id));
    expect(seen).toHaveLength(0);
    expect((await stateOf(call.id)).status).toBe("dialing");
  });
});

describe("DELETE /outbound-calls/{id}", () => {
  it("cancels a scheduled call and refuses once it is dialling", async () => {
    const agentId = await agentWith({ platform: VAPI });
    const later = await placed({ agent_id: agentId, phone_number: "+14155551234", delay_seconds: 3600 });
    expect(later.status).toBe("scheduled");
    const cancelled = await request("DELETE", `/outbound-calls/${later.id}`);
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as any).status).toBe("cancelled");
    expect((await request("DELETE", `/outbound-calls/${later.id}`)).status).toBe(409);

    stubFetch(() => vapiCreated("vapi-x"));
    const now = await placed({ agent_id: agentId, phone_number: "+14155551234" });
    await dialNow(now.id);
    const refused = await request("DELETE", `/outbound-calls/${now.id}`);
    expect(refused.status).toBe(409);
    expect((await request("DELETE", "/outbound-calls/oc_000000000000000000000000")).status).toBe(404);
  });
});

describe("the simulator", () => {
  it("ends its call through ingest with the outcome the request names", async () => {
    const agentId = await agentWith({ platform: { type: "simulator" } });
    const call = await placed({ agent_id: agentId, phone_number: "+14155551234", webhook_url: CALLBACK_URL, metadata: { simulate_outcome: "reschedule_requested" } });
    await dialNow(call.id);
    expect((await stateOf(call.id)).status).toBe("in_progress");
    await runInDurableObject(stub(call.id), async (instance, storage) => {
      const object = instance as unknown as { state: OutboundState };
      object.state = { ...object.state, simulate_end_at: Date.now() - 1 };
      await storage.storage.put("state", object.state);
    });
    await runDurableObjectAlarm(stub(call.id));
    const state = await stateOf(call.id);
    expect(state).toMatchObject({ status: "completed", outcome: "reschedule_requested", handed_over: true });
    // The simulated call went through the relay's ingest like a platform's own webhook.
    const platformCall = state.attempts[0]!.platform_call_id!;
    const logged = await request("GET", `/calls/${platformCall}?agent_id=${agentId}`);
    expect(logged.status).toBe(200);
  });

  it("is refused on save unless ALLOW_SIMULATOR=true", async () => {
    const res = await worker.fetch!(
      new Request(`https://relay.test/agents/${uniqueId("agent")}`, {
        method: "PUT",
        headers: { ...ADMIN, "content-type": "application/json" },
        body: JSON.stringify({ voice_tools: { outbound_calls: { platform: { type: "simulator" } } } }),
      }) as any,
      { ...env, ALLOW_SIMULATOR: "false" },
      createExecutionContext(),
    );
    expect(res.status).toBe(422);
    expect(JSON.stringify(await res.json())).toContain("ALLOW_SIMULATOR");
  });
});

describe("ingest", () => {
  it("refuses call ids of the relay's own outbound calls", async () => {
    const res = await postEvent({ call_id: "oc_0123456789abcdef01234567", agent_id: "agent_x" }, INGEST);
    expect(res.status).toBe(422);
  });
});

describe("a platform's own webhook", () => {
  it("ends a Bland call the relay placed, routed by the metadata it sent, with no ?agent_id", async () => {
    const agentId = await agentWith({ platform: { type: "bland", from: "+14155550100" } });
    const settings = { BLAND_API_KEY: "sk-bland-test", BLAND_WEBHOOK_SECRET: "bland-webhook-secret" };
    // Bland is not configured in the test settings: place the call through the app with its key.
    const ctx = createExecutionContext();
    const res = await worker.fetch!(
      new Request("https://relay.test/outbound-calls", {
        method: "POST",
        headers: { ...ADMIN, "content-type": "application/json" },
        body: JSON.stringify({ agent_id: agentId, phone_number: "+14155551234", task: "Confirm", delay_seconds: 600 }),
      }) as any,
      { ...env, ...settings } as CloudflareBindings,
      ctx,
    );
    expect(res.status).toBe(202);
    const call = (await res.json()) as any;
    // The object reads its own env: give it Bland's key for the dial.
    await runInDurableObject(stub(call.id), (instance) => {
      Object.assign((instance as unknown as { env: Record<string, unknown> }).env, settings);
    });
    const seen = stubFetch(() => new Response(JSON.stringify({ status: "success", call_id: "bland-oc-1" }), { status: 200 }));
    await dialNow(call.id);
    const sent = JSON.parse(seen[0]!.body);
    expect(sent.webhook).toBe("https://relay.test/calls/ended/bland");
    vi.restoreAllMocks();

    // What Bland posts back: its call, echoing request_data and metadata.
    const body = JSON.stringify({
      call_id: "bland-oc-1",
      to: "+14155551234",
      completed: false,
      status: "no-answer",
      call_length: 0,
      request_data: sent.request_data,
      metadata: sent.metadata,
    });
    const posted = await worker.fetch!(
      new Request("https://relay.test/calls/ended/bland", {
        method: "POST",
        headers: { "content-type": "application/json", ...(await signBland(settings.BLAND_WEBHOOK_SECRET, body)) },
        body,
      }) as any,
      { ...env, ...settings } as CloudflareBindings,
      createExecutionContext(),
    );
    expect(posted.status, await posted.clone().text()).toBe(202);
    expect(await stateOf(call.id)).toMatchObject({ status: "completed", outcome: "no_answer" });
  });
});

describe("correlation by the platform's call id", () => {
  it("still ends a call placed before the agent stopped placing calls: the call keeps its settings", async () => {
    const agentId = await agentWith({ platform: VAPI });
    const call = await placed({ agent_id: agentId, phone_number: "+14155551234" });
    stubFetch(() => vapiCreated(`vapi-${call.id}`));
    await dialNow(call.id);
    expect((await stateOf(call.id)).status).toBe("in_progress");
    const patched = await request("PATCH", `/agents/${agentId}`, { voice_tools: { outbound_calls: null } });
    expect(patched.status, await patched.clone().text()).toBe(200);
    // The event names the platform's call id only, as an http dialer's may.
    expect((await postEvent({ call_id: `vapi-${call.id}`, agent_id: agentId, outcome: "completed" })).status).toBe(202);
    expect(await stateOf(call.id)).toMatchObject({ status: "completed", outcome: "completed" });
  });

  it("is looked up only for agents that place calls or have changed since they were created", () => {
    const outbound_calls = {} as NonNullable<Agent["voice_tools"]["outbound_calls"]>;
    const created = "2026-03-01T09:00:00.000Z";
    const agent = (voice_tools: Agent["voice_tools"], updated_at = created) => ({ voice_tools, created_at: created, updated_at });
    const followUp = {} as Agent["voice_tools"]["post_call_follow_up"];
    expect(mayHavePlacedCalls(agent({ post_call_follow_up: followUp, outbound_calls }))).toBe(true);
    expect(mayHavePlacedCalls(agent({ post_call_follow_up: followUp }, "2026-03-10T14:00:00.000Z"))).toBe(true);
    expect(mayHavePlacedCalls(agent({ post_call_follow_up: followUp }))).toBe(false);
    expect(mayHavePlacedCalls(null)).toBe(false);
  });
});

describe("POST /calls/{call_id}/rerun", () => {
  it("refuses an outbound call's callback: its deliveries are replayed one by one", async () => {
    const res = await request("POST", "/calls/oc_0123456789abcdef01234567/rerun");
    expect(res.status).toBe(409);
  });
});

describe("crash windows of the hand-over", () => {
  it("a hand-over interrupted before it was recorded runs again from the alarm and delivers once", async () => {
    const agentId = await agentWith({ platform: VAPI, fallback_actions: [{ type: "sms", template: "Missed you." }] });
    const call = await placed({ agent_id: agentId, phone_number: "+14155551234", webhook_url: CALLBACK_URL });
    stubFetch(() => vapiCreated(`v-${call.id}`));
    await dialNow(call.id);
    await postEvent({ call_id: `v-${call.id}`, agent_id: agentId, outcome: "failed" });
    const first = await pendingJobs(agentId, call.id);
    expect(first).toHaveLength(2);
    // The object died after the ledger accepted the hand-over but before it recorded so.
    await runInDurableObject(stub(call.id), async (instance, storage) => {
      const object = instance as unknown as { state: OutboundState };
      object.state = { ...object.state, handed_over: false, handed_actions: 0 };
      await storage.storage.put("state", object.state);
      await storage.storage.setAlarm(Date.now() + 60_000);
    });
    await runDurableObjectAlarm(stub(call.id));
    const state = await stateOf(call.id);
    expect(state).toMatchObject({ handed_over: true, handed_actions: 2 });
    // The ledger took the call once: the same two deliveries, not four.
    const again = await pendingJobs(agentId, call.id);
    expect(again.map((j) => j.delivery_id)).toEqual(first.map((j) => j.delivery_id));
  });
});
