import { SELF, createExecutionContext, createMessageBatch, env, getQueueResult, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { timeBoundOf } from "../../src/dashboard/activity/shared";
import worker from "../../src/index";
import { ledgerStub } from "../../src/ledger/client";
import type { Job } from "../../src/ledger/plan";
import { CALL_ENDED_EXAMPLE } from "../../src/schemas/call-event";
import { callEvent, pendingJobs, postEvent, putAgent, request, stubFetch, uniqueId } from "../helpers";
import { type Session, page, signIn, submit } from "./session";

const HOOK_URL = "https://crm.example.com/api/call-completed";
const SCRIPT_NAME = "<script>alert(1)</script>";

afterEach(() => vi.restoreAllMocks());

/** Runs jobs through the real queue consumer, as test/consumer.test.ts does. */
async function consume(jobs: Job[]) {
  const batch = createMessageBatch<Job>("actions", jobs.map((body, i) => ({ id: `msg-${i}`, timestamp: new Date(), attempts: 1, body })));
  const ctx = createExecutionContext();
  await worker.queue!(batch as MessageBatch, env, ctx);
  return getQueueResult(batch, ctx);
}

/** Waits for the delivery log (the ledger mirrors itself into D1 just after it answers). */
async function waitForLog(path: string, ready: (body: any) => boolean) {
  for (let i = 0; i < 50; i++) {
    const body = await (await request("GET", path)).json();
    if (ready(body)) return body;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the log never showed ${path}`);
}

/**
 * A call whose webhook failed (the CRM answered 400), with an SMS and an HTML email in the
 * outbox, from a caller whose name is a script tag.
 */
async function failedCall() {
  const agentId = uniqueId("agent");
  await putAgent(agentId, {
    name: "Acme Support",
    voice_tools: {
      post_call_follow_up: {
        enabled: true,
        actions: [
          { type: "webhook", url: HOOK_URL },
          { type: "sms", template: "Thanks {{caller_name}}, your reference is {{call_id}}." },
          { type: "email", to: "{{caller_email}}", subject: "Your call summary", body_template: "call_summary" },
        ],
      },
    },
  });
  const event = callEvent({ agent_id: agentId, metadata: { ...CALL_ENDED_EXAMPLE.metadata, caller_name: SCRIPT_NAME } });
  expect((await postEvent(event)).status).toBe(202);
  stubFetch(() => new Response("bad request", { status: 400 }));
  const jobs = await pendingJobs(agentId, event.call_id);
  await consume(jobs);
  vi.restoreAllMocks();
  const webhook = jobs.find((j) => j.action_index === 0)!;
  await waitForLog(`/deliveries?call_id=${event.call_id}`, (b) => b.deliveries.length === 3 && b.deliveries.every((d: any) => d.attempts === 1));
  return { agentId, callId: event.call_id, deliveryId: webhook.delivery_id };
}

async function simulatorAgent() {
  const agentId = uniqueId("agent");
  await putAgent(agentId, { name: "Acme Dental", voice_tools: { outbound_calls: { platform: { type: "simulator" } } } });
  return agentId;
}

const html = async (res: Response) => {
  const text = await res.text();
  return text;
};

/** The path a dashboard redirect leads to, and its notice. */
function redirected(res: Response) {
  expect(res.status).toBe(303);
  const url = new URL(res.headers.get("location")!, "https://relay.test");
  return { path: url.pathname, notice: url.searchParams.get("notice"), bad: url.searchParams.has("bad"), location: res.headers.get("location")! };
}

describe("dashboard: calls and deliveries", () => {
  it("lists calls with filters and shows a call's timeline, escaping what the caller sent", async () => {
    const session = await signIn();
    const { agentId, callId, deliveryId } = await failedCall();

    const list = await page(session, `/dashboard/calls?agent_id=${agentId}&status=accepted&since=2000-01-01T00:00`);
    expect(list.status).toBe(200);
    const listed = await html(list);
    expect(listed).toContain(`/dashboard/calls/${callId}?agent_id=${agentId}`);
    const none = await html(await page(session, `/dashboard/calls?agent_id=${agentId}&status=unrouted`));
    expect(none).not.toContain(callId);
    const ignored = await html(await page(session, "/dashboard/calls?status=bogus"));
    expect(ignored).toContain("Ignored: status");

    const timeline = await page(session, `/dashboard/calls/${callId}?agent_id=${agentId}`);
    expect(timeline.status).toBe(200);
    const body = await html(timeline);
    expect(body).toContain("Event received");
    expect(body).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(body).not.toContain(SCRIPT_NAME);
    expect(body).toContain(CALL_ENDED_EXAMPLE.summary);
    // The failed webhook: its attempt's status code and error, and a Replay button.
    expect(body).toContain(deliveryId);
    expect(body).toMatch(/<td>400<\/td>/);
    expect(body).toContain(`action="/dashboard/deliveries/${deliveryId}/retry"`);
    // Without ?agent_id the call is found by its id, as GET /calls/{id} finds it.
    expect((await page(session, `/dashboard/calls/${callId}`)).status).toBe(200);
    expect((await page(session, "/dashboard/calls/call_nobody")).status).toBe(404);
  });

  it("filters the delivery log, lists the dead letters, and replays one", async () => {
    const session = await signIn();
    const { agentId, callId, deliveryId } = await failedCall();

    const log = await page(session, `/dashboard/deliveries?agent_id=${agentId}&type=webhook`);
    expect(log.status).toBe(200);
    const logged = await html(log);
    expect(logged).toContain(deliveryId);
    expect(logged).toContain(HOOK_URL);

    const dead = await html(await page(session, `/dashboard/deliveries?status=failed&agent_id=${agentId}`));
    expect(dead).toContain("Dead-lettered deliveries");
    expect(dead).toContain(deliveryId);
    const unfiltered = await html(await page(session, "/dashboard/deliveries"));
    expect(unfiltered).toContain('id="dead-heading"');
    const delivered = await html(await page(session, `/dashboard/deliveries?status=delivered&agent_id=${agentId}`));
    expect(delivered).not.toContain(deliveryId);

    const back = `/dashboard/calls/${callId}?agent_id=${agentId}`;
    const replay = redirected(await submit(session, `/dashboard/deliveries/${deliveryId}/retry`, { back }));
    expect(replay.path).toBe(`/dashboard/calls/${callId}`);
    expect(replay.notice).toMatch(/queued again/);
    expect(replay.bad).toBe(false);
    const after = (await (await request("GET", `/deliveries/${deliveryId}`)).json()) as { status: string };
    expect(after.status).toBe("pending");
    // Shown on the page it came back to.
    expect(await html(await page(session, replay.location))).toContain("queued again");

    // No open redirect, and an unknown delivery is a notice.
    const elsewhere = redirected(await submit(session, "/dashboard/deliveries/dlv_nobody/retry", { back: "//evil.example/x" }));
    expect(elsewhere.path).toBe("/dashboard/deliveries");
    expect(elsewhere.bad).toBe(true);
  });

  it("pages the delivery log with a cursor, keeping the filters, and refuses a cursor it cannot read", async () => {
    const session = await signIn();
    const agentId = uniqueId("agent");
    const actions = Array.from({ length: 20 }, (_, i) => ({ type: "webhook", url: `${HOOK_URL}/${i}` }));
    await putAgent(agentId, { name: "Busy", voice_tools: { post_call_follow_up: { enabled: true, actions } } });
    for (let i = 0; i < 3; i++) {
      const event = callEvent({ agent_id: agentId });
      expect((await postEvent(event)).status).toBe(202);
      // Nothing consumes the jobs here: the ledger's alarm logs the call (run now).
      await runDurableObjectAlarm(ledgerStub(env, agentId, event.call_id));
    }
    await waitForLog(`/deliveries?agent_id=${agentId}&limit=100`, (b) => b.deliveries.length === 60);
    const first = await html(await page(session, `/dashboard/deliveries?agent_id=${agentId}`));
    const rows = (text: string) => (text.match(/<a class="mono" href="\/dashboard\/calls\//g) ?? []).length;
    expect(rows(first)).toBe(50);
    const older = first.match(/href="(\/dashboard\/deliveries\?agent_id=[^"]*&amp;cursor=[^"]+)"/)![1]!.replaceAll("&amp;", "&");
    const second = await html(await page(session, older));
    expect(rows(second)).toBe(10);
    expect(second).not.toMatch(/cursor=[^"]+">Older/);
    expect((await page(session, "/dashboard/deliveries?cursor=not-a-cursor")).status).toBe(422);
    expect((await page(session, "/dashboard/calls?cursor=not-a-cursor")).status).toBe(422);
  });
});

describe("dashboard: outbound calls", () => {
  it("places a call through the form, shows it, and cancels it", async () => {
    const session = await signIn();
    const agentId = await simulatorAgent();
    const form = await html(await page(session, "/dashboard/outbound-calls/new"));
    expect(form).toContain(`<option value="${agentId}"`);
    const key = form.match(/name="idempotency_key" value="([^"]+)"/)![1]!;

    const fields = { agent_id: agentId, phone_number: "+14155551234", task: "Confirm the appointment", caller_name: "Ana Silva", delay_minutes: "10", idempotency_key: key };
    const placed = redirected(await submit(session, "/dashboard/outbound-calls", fields));
    expect(placed.path).toMatch(/^\/dashboard\/outbound-calls\/oc_[0-9a-f]{24}$/);
    expect(placed.notice).toMatch(/scheduled/);
    const id = placed.path.split("/").pop()!;
    const api = (await (await request("GET", `/outbound-calls/${id}`)).json()) as any;
    expect(api).toMatchObject({ status: "scheduled", agent_id: agentId, phone_number: "+14155551234", caller_name: "Ana Silva", platform: "simulator" });
    // The same form sent twice places one call.
    expect(redirected(await submit(session, "/dashboard/outbound-calls", fields)).path).toBe(placed.path);

    const detail = await html(await page(session, placed.path));
    expect(detail).toContain("Ana Silva");
    expect(detail).toContain(`action="/dashboard/outbound-calls/${id}/cancel"`);
    const listed = await html(await page(session, `/dashboard/outbound-calls?agent_id=${agentId}&status=scheduled`));
    expect(listed).toContain(id);

    const cancelled = redirected(await submit(session, `/dashboard/outbound-calls/${id}/cancel`, {}));
    expect(cancelled.bad).toBe(false);
    expect(((await (await request("GET", `/outbound-calls/${id}`)).json()) as any).status).toBe("cancelled");
    // The object's 409 reason comes back as a notice.
    const again = redirected(await submit(session, `/dashboard/outbound-calls/${id}/cancel`, {}));
    expect(again.bad).toBe(true);
    expect(again.notice).toMatch(/^Not cancelled: /);
    expect(await html(await page(session, again.location))).toContain("Not cancelled");
  });

  it("reads a local time in the chosen zone", async () => {
    const session = await signIn();
    const agentId = await simulatorAgent();
    const day = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    const placed = redirected(
      await submit(session, "/dashboard/outbound-calls", { agent_id: agentId, phone_number: "+14155551234", at: `${day}T10:30`, timezone: "Asia/Tokyo" }),
    );
    const call = (await (await request("GET", `/outbound-calls/${placed.path.split("/").pop()}`)).json()) as any;
    expect(call.scheduled_for).toBe(`${day}T01:30:00.000Z`);
    expect(call.timezone).toBe("Asia/Tokyo");
  });

  it("shows each problem next to its field", async () => {
    const session = await signIn();
    const agentId = await simulatorAgent();
    const bad = await submit(session, "/dashboard/outbound-calls", { agent_id: agentId, phone_number: "not a phone", delay_minutes: "5", at: "2030-01-01T10:00" });
    expect(bad.status).toBe(422);
    const body = await html(bad);
    expect(body).toMatch(/id="p-delay_minutes-error"[^>]*>\s*<p>give a time or a delay, not both/);
    const number = await submit(session, "/dashboard/outbound-calls", { agent_id: agentId, phone_number: "12" });
    expect(number.status).toBe(422);
    expect(await html(number)).toMatch(/id="p-phone_number-error"[^>]*>\s*<p>not a number the platform can call/);
    const noAgent = await submit(session, "/dashboard/outbound-calls", { agent_id: "agent_nobody", phone_number: "+14155551234" });
    expect(await html(noAgent)).toMatch(/id="p-agent_id-error"/);
  });
});

describe("dashboard: triggers", () => {
  async function createTrigger(session: Session, agentId: string) {
    const res = await submit(session, "/dashboard/triggers", {
      name: "Calendar: confirm appointments",
      agent_id: agentId,
      enabled: "on",
      "call.caller_name": "{{caller_name}}",
      "schedule.delay_seconds": "600",
      dedupe_key: "{{metadata.event_id}}",
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const body = await html(res);
    const secret = body.match(/data-copy="(whsec_[^"]+)"/)![1]!;
    const id = body.match(/\/hooks\/(trg_[0-9a-f]+)/)![1]!;
    return { id, secret, body };
  }

  it("creates a trigger, shows its secret once with setup for each tool, and rotates it", async () => {
    const session = await signIn();
    const agentId = await simulatorAgent();
    expect((await page(session, "/dashboard/triggers/new")).status).toBe(200);
    const { id, secret, body } = await createTrigger(session, agentId);
    expect(body).toContain(`https://relay.test/hooks/${id}`);
    expect(body).toContain(`data-copy="Bearer ${secret}"`);
    for (const tool of ["Zapier", "Make", "n8n", "Power Automate"]) expect(body).toContain(`<h3>${tool}</h3>`);

    const list = await page(session, "/dashboard/triggers");
    expect(list.status).toBe(200);
    const listed = await html(list);
    expect(listed).toContain("Calendar: confirm appointments");
    expect(listed).not.toContain(secret);
    const detail = await html(await page(session, `/dashboard/triggers/${id}`));
    expect(detail).not.toContain(secret);
    expect(detail).toContain(`https://relay.test/hooks/${id}`);

    // The secret works: the API's hook URL takes it.
    const hook = await SELF.fetch(`https://relay.test/hooks/${id}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
      body: JSON.stringify({ phone_number: "+14155551234", metadata: { event_id: "evt_dash_1" } }),
    });
    expect(hook.status).toBe(202);

    const rotated = await submit(session, `/dashboard/triggers/${id}/rotate`, {});
    expect(rotated.status).toBe(200);
    const rotatedBody = await html(rotated);
    const fresh = rotatedBody.match(/id="issued-secret" type="text" readonly="" value="(whsec_[^"]+)"/)?.[1] ?? rotatedBody.match(/data-copy="(whsec_[^"]+)"/)![1]!;
    expect(fresh).not.toBe(secret);
    expect(rotatedBody).toContain("previous secret keeps working");
    expect(await html(await page(session, `/dashboard/triggers/${id}`))).not.toContain(fresh);
  });

  it("sends a test event through the trigger and shows the answer", async () => {
    const session = await signIn();
    const agentId = await simulatorAgent();
    const { id } = await createTrigger(session, agentId);
    const res = await submit(session, `/dashboard/triggers/${id}/test`, {});
    expect(res.status).toBe(200);
    const body = await html(res);
    expect(body).toContain("Test event: answered 202");
    const callId = body.match(/href="\/dashboard\/outbound-calls\/(oc_[0-9a-f]{24})"/)![1]!;
    const call = (await (await request("GET", `/outbound-calls/${callId}`)).json()) as any;
    expect(call).toMatchObject({ trigger_id: id, phone_number: "+14155551234", status: "scheduled" });
    expect(call.metadata).toMatchObject({ simulate_outcome: "completed" });
    expect(call.metadata.event_id).toMatch(/^test_/);
  });

  it("shows the API's validation problems next to the fields", async () => {
    const session = await signIn();
    const agentId = await simulatorAgent();
    const res = await submit(session, "/dashboard/triggers", { name: "Broken", agent_id: agentId, "call.task": "{{#open}}", filter: "[{not json" });
    expect(res.status).toBe(422);
    const body = await html(res);
    expect(body).toMatch(/id="t-filter-error"[^>]*>\s*<p>not JSON/);
    const template = await submit(session, "/dashboard/triggers", { name: "Broken", agent_id: agentId, "call.task": "{{#open}}" });
    expect(await html(template)).toMatch(/id="t-call-task-error"/);
    const noAgent = await submit(session, "/dashboard/triggers", { name: "Nobody's", agent_id: "agent_nobody" });
    expect(await html(noAgent)).toMatch(/id="t-agent_id-error"[^>]*>\s*<p>no agent/);
    const badFilter = await submit(session, "/dashboard/triggers", { name: "x", agent_id: agentId, filter: '[{"field": "a", "op": "eq"}]' });
    expect(await html(badFilter)).toMatch(/id="t-filter-error"[^>]*>\s*<p>filter\[0\]\.value: op eq needs a value/);
    const deep = `[{"field": "a", "op": "eq", "value": ${'{"a":'.repeat(3_000)}{}${"}".repeat(3_000)}}]`;
    const deepFilter = await submit(session, "/dashboard/triggers", { name: "x", agent_id: agentId, filter: deep });
    expect(deepFilter.status).toBe(422);
    expect(await html(deepFilter)).toMatch(/id="t-filter-error"[^>]*>\s*<p>[^<]*nested more than 32 levels deep/);
  });
});

describe("dashboard: outbox", () => {
  it("shows texts as bubbles with their segments, and each email's HTML in a sandboxed frame with its own policy", async () => {
    const session = await signIn();
    const { callId } = await failedCall();
    const res = await page(session, `/dashboard/outbox?call_id=${callId}`);
    expect(res.status).toBe(200);
    const body = await html(res);
    expect(body).toContain('<div class="bubble">Thanks &lt;script&gt;alert(1)&lt;/script&gt;, your reference is');
    expect(body).not.toContain(SCRIPT_NAME);
    expect(body).toMatch(/1 segment \(GSM-7, \d+ units\)/);
    expect(body).toContain("Your call summary");
    const src = body.match(/<iframe class="preview" sandbox="" src="([^"]+)"/)![1]!.replaceAll("&amp;", "&");
    expect(src).toMatch(/^\/dashboard\/outbox\/obx_[0-9a-f]+\/html/);

    const preview = await page(session, src);
    expect(preview.status).toBe(200);
    expect(preview.headers.get("content-security-policy")).toBe(
      "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'; sandbox; frame-ancestors 'self'",
    );
    expect(preview.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    expect(preview.headers.get("x-content-type-options")).toBe("nosniff");
    const email = await preview.text();
    expect(email).toMatch(/^<!DOCTYPE html>/i);
    expect(email).not.toContain(SCRIPT_NAME);
    // Without the call id it is found among the recent emails.
    expect((await page(session, src.split("?")[0]!)).status).toBe(200);
    expect((await page(session, "/dashboard/outbox/obx_nothing/html")).status).toBe(404);
  });
});

describe("dashboard: activity refusals", () => {
  it("redirects to sign-in without a session, and refuses every form without its CSRF token", async () => {
    for (const path of ["/dashboard/deliveries", "/dashboard/outbound-calls", "/dashboard/triggers", "/dashboard/outbox"]) {
      const res = await SELF.fetch(`https://relay.test${path}`, { redirect: "manual" });
      expect(res.status, path).toBe(303);
    }
    const session = await signIn();
    const { deliveryId } = await failedCall();
    const agentId = await simulatorAgent();
    const forms: [string, Record<string, string>][] = [
      [`/dashboard/deliveries/${deliveryId}/retry`, {}],
      ["/dashboard/outbound-calls", { agent_id: agentId, phone_number: "+14155551234" }],
      ["/dashboard/outbound-calls/oc_000000000000000000000000/cancel", {}],
      ["/dashboard/triggers", { name: "x", agent_id: agentId }],
      ["/dashboard/triggers/trg_0000000000000000/rotate", {}],
      ["/dashboard/triggers/trg_0000000000000000/test", {}],
    ];
    for (const [path, fields] of forms) {
      expect((await submit(session, path, { ...fields, _csrf: "forged" })).status, path).toBe(403);
    }
    // Nothing happened: the delivery was not replayed, no trigger was made.
    expect(((await (await request("GET", `/deliveries/${deliveryId}`)).json()) as any).status).toBe("failed");
    expect(((await (await request("GET", `/triggers?agent_id=${agentId}`)).json()) as any).triggers).toHaveLength(0);
  });
});

describe("timeBoundOf", () => {
  it("reads a filter's time as UTC, and refuses one whose UTC year is not four digits", () => {
    expect(timeBoundOf("2026-03-10T15:04")).toBe("2026-03-10T15:04:00.000Z");
    expect(timeBoundOf("2026-03-10T17:04:05+02:00")).toBe("2026-03-10T15:04:05.000Z");
    expect(timeBoundOf("9999-12-31T23:59:59-14:00")).toBeNull();
    expect(timeBoundOf("0000-01-01T00:00:00+01:00")).toBeNull();
  });
});
