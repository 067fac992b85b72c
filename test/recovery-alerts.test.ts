import { createExecutionContext, createMessageBatch, env, getQueueResult, runInDurableObject } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ledgerStub } from "../src/ledger/client";
import type { Job } from "../src/ledger/plan";
import worker from "../src/index";
import { bringForwardTarget, noteWaiting } from "../src/pipeline/recovery";
import { callEvent, editActions, makeDue, pendingJobs, postEvent, putAgent, request, uniqueId } from "./helpers";

const WEBHOOK_SECRET = "whsec_dGVzdC13ZWJob29rLXNpZ25pbmctc2VjcmV0";

interface Captured {
  url: string;
  headers: Headers;
  body: string;
}

function stubFetch(answer: (req: Captured) => Response | Promise<Response>) {
  const seen: Captured[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init as RequestInit);
    const captured = { url: req.url, headers: req.headers, body: await req.text() };
    seen.push(captured);
    return answer(captured);
  });
  return seen;
}

afterEach(() => vi.restoreAllMocks());

/** Runs one batch through the real queue handler, with `settings` on top of the test env. */
async function consume(jobs: Job[], settings: Record<string, string> = {}) {
  const batch = createMessageBatch<Job>(
    "actions",
    jobs.map((body, i) => ({ id: `msg-${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue!(batch as MessageBatch, { ...env, ...settings } as CloudflareBindings, ctx);
  return getQueueResult(batch, ctx);
}

/** An agent with one webhook action to `url`, and `n` calls accepted for it. */
async function webhookCalls(url: string, n: number) {
  const agentId = uniqueId("agent");
  await putAgent(agentId, { name: "Acme Support", voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "webhook", url }] } } });
  const calls: { callId: string; job: Job }[] = [];
  for (let i = 0; i < n; i++) {
    const event = callEvent({ agent_id: agentId });
    expect((await postEvent(event)).status).toBe(202);
    const [job] = await pendingJobs(agentId, event.call_id);
    calls.push({ callId: event.call_id, job: job! });
  }
  return { agentId, calls };
}

async function delivery(callId: string) {
  const call = (await (await request("GET", `/calls/${callId}`)).json()) as any;
  return call.actions[0];
}

/** The D1 log's row: what the bulk retry and the bring-forward look up. */
async function logged(deliveryId: string) {
  return env.DB.prepare("SELECT status FROM deliveries WHERE id = ?").bind(deliveryId).first<{ status: string }>();
}

describe("POST /deliveries/retry", () => {
  it("refuses a request without any filter, or with unknown fields", async () => {
    for (const body of [{}, { limit: 10 }, { cursor: "x" }, { status: "failed", colour: "red" }]) {
      const res = await request("POST", "/deliveries/retry", body);
      expect(res.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expect((await request("POST", "/deliveries/retry", { status: "failed" }, {})).status).toBe(401);
  });

  it("replays every matching delivery, page by page, skipping one in flight", async () => {
    stubFetch(() => new Response("bad", { status: 400 }));
    const url = `https://crm-${uniqueId("bulk")}.example.com/hook`;
    const { agentId, calls } = await webhookCalls(url, 3);
    await consume(calls.map((c) => c.job));
    for (const c of calls) {
      expect(await delivery(c.callId)).toMatchObject({ status: "failed" });
      await vi.waitFor(async () => expect(await logged(c.job.delivery_id)).toMatchObject({ status: "failed" }));
    }
    // Another agent's failed delivery does not match the filter.
    const other = await webhookCalls(url, 1);
    await consume([other.calls[0]!.job]);

    const first = await request("POST", "/deliveries/retry", { agent_id: agentId, status: "failed", type: "webhook", limit: 2 });
    expect(first.status).toBe(202);
    const page1 = (await first.json()) as any;
    expect(page1).toMatchObject({ matched: 2, replayed: 2, skipped: 0, errors: 0, truncated: true });
    expect(page1.next_cursor).toEqual(expect.any(String));

    const second = await request("POST", "/deliveries/retry", { agent_id: agentId, status: "failed", type: "webhook", limit: 2, cursor: page1.next_cursor });
    expect((await second.json()) as any).toMatchObject({ matched: 1, replayed: 1, skipped: 0, truncated: false, next_cursor: null });

    for (const c of calls) {
      const [job] = await pendingJobs(agentId, c.callId);
      expect(job!.generation).toBe(c.job.generation + 1);
      expect(await delivery(c.callId)).toMatchObject({ status: "pending" });
    }
    expect(await delivery(other.calls[0]!.callId)).toMatchObject({ status: "failed" });

    // A delivery with an attempt in flight is counted as skipped, not replayed.
    await runInDurableObject(ledgerStub(env, agentId, calls[0]!.callId), (_i, state) => {
      editActions(state, () => ({ leased_until: Date.now() + 60_000 }));
    });
    const third = await request("POST", "/deliveries/retry", { call_id: calls[0]!.callId });
    expect((await third.json()) as any).toMatchObject({ matched: 1, replayed: 0, skipped: 1 });

    const bad = await request("POST", "/deliveries/retry", { agent_id: agentId, cursor: "not-a-cursor" });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(bad.status).toBeLessThan(500);
  });

  it("is described in the OpenAPI document", async () => {
    const doc = (await (await request("GET", "/openapi.json")).json()) as any;
    const op = doc.paths["/deliveries/retry"].post;
    expect(op.summary).toMatch(/bulk/i);
    expect(op.description).toMatch(/at least one/);
    expect(op.security).toEqual([{ adminKey: [] }]);
  });
});

describe("a recovered webhook target", () => {
  it("brings its other waiting deliveries forward when it answers 2xx again", async () => {
    let up = false;
    const seen = stubFetch(() => new Response(up ? "ok" : "down", { status: up ? 200 : 503 }));
    const url = `https://crm-${uniqueId("rec")}.example.com/hook`;
    const { agentId, calls } = await webhookCalls(url, 3);
    await consume(calls.map((c) => c.job));
    for (const c of calls) {
      expect(await delivery(c.callId)).toMatchObject({ status: "retrying", attempts: 1 });
      await vi.waitFor(async () => expect(await logged(c.job.delivery_id)).toMatchObject({ status: "retrying" }));
    }
    const [a, b, c] = calls;
    const waitingB = (await pendingJobs(agentId, b!.callId))[0]!;

    // The first retry comes due and the target answers again.
    up = true;
    await makeDue(agentId, a!.callId);
    await consume(await pendingJobs(agentId, a!.callId));
    expect(await delivery(a!.callId)).toMatchObject({ status: "delivered", attempts: 2 });

    // B and C got new jobs, due now: no makeDue, no waiting out the backoff.
    for (const other of [b!, c!]) {
      const [job] = await pendingJobs(agentId, other.callId);
      expect(job!.generation).toBe(waitingB.generation + 1);
      const result = await consume([job!]);
      expect(result.explicitAcks).toEqual(["msg-0"]);
      expect(await delivery(other.callId)).toMatchObject({ status: "delivered", attempts: 2 });
    }
    expect(seen.filter((s) => s.url === url)).toHaveLength(6);
  });

  it("is throttled per target and bounded, and costs nothing when nothing waits", async () => {
    stubFetch(() => new Response("down", { status: 503 }));
    const url = `https://crm-${uniqueId("thr")}.example.com/hook`;
    expect(await bringForwardTarget(env, url, "dlv_none")).toEqual({ waiting: 0, brought: 0, throttled: false });
    const { calls } = await webhookCalls(url, 2);
    await consume(calls.map((c) => c.job));
    for (const c of calls) await vi.waitFor(async () => expect(await logged(c.job.delivery_id)).toMatchObject({ status: "retrying" }));
    const kvPut = vi.spyOn(env.CONFIG_CACHE, "put");
    expect(await bringForwardTarget(env, url, calls[0]!.job.delivery_id)).toEqual({ waiting: 1, brought: 1, throttled: false });
    expect(kvPut).toHaveBeenCalledTimes(1);
    // Within the minute the same target is not brought forward again.
    expect(await bringForwardTarget(env, url, "dlv_other")).toMatchObject({ brought: 0, throttled: true });
  });
});

describe("a healthy webhook target", () => {
  it("is looked up in the log once per ten seconds per isolate, and again as soon as a delivery to it waits", async () => {
    const url = `https://crm-${uniqueId("quiet")}.example.com/hook`;
    const reads = vi.spyOn(env.DB, "prepare");
    expect(await bringForwardTarget(env, url, "dlv_a")).toEqual({ waiting: 0, brought: 0, throttled: false });
    expect(await bringForwardTarget(env, url, "dlv_b")).toEqual({ waiting: 0, brought: 0, throttled: true });
    expect(reads).toHaveBeenCalledTimes(1);
    noteWaiting(url);
    expect(await bringForwardTarget(env, url, "dlv_c")).toEqual({ waiting: 0, brought: 0, throttled: false });
    expect(reads).toHaveBeenCalledTimes(2);
    vi.restoreAllMocks();
  });
});

describe("alerts", () => {
  /** A failing CRM and an alert receiver, each on its own URL so tests never share a window. */
  function setup(alertAnswer: () => Response | Promise<Response> = () => new Response(null, { status: 204 })) {
    const crm = `https://crm-${uniqueId("alert")}.example.com/hook`;
    const alertUrl = `https://alerts.example.com/${uniqueId("hook")}`;
    let crmStatus = 400;
    const seen = stubFetch((req) => (req.url === alertUrl ? alertAnswer() : new Response("no", { status: crmStatus })));
    return {
      crm,
      alertUrl,
      settings: { ALERT_WEBHOOK_URL: alertUrl },
      alerts: () => seen.filter((s) => s.url === alertUrl),
      setCrmStatus: (s: number) => {
        crmStatus = s;
      },
    };
  }

  const verify = (req: Captured) =>
    new Webhook(WEBHOOK_SECRET).verify(req.body, {
      "webhook-id": req.headers.get("webhook-id")!,
      "webhook-timestamp": req.headers.get("webhook-timestamp")!,
      "webhook-signature": req.headers.get("webhook-signature")!,
    }) as any;

  it("sends one signed notice per target per window, carrying the counts", async () => {
    const t = setup();
    const { calls } = await webhookCalls(t.crm, 5);
    await consume([calls[0]!.job], t.settings);
    expect(t.alerts()).toHaveLength(1);
    const first = verify(t.alerts()[0]!);
    expect(first).toMatchObject({
      event: "delivery_failures",
      target: t.crm,
      window_seconds: 600,
      since: null,
      counts: { failed: 1, gone: 0, total: 1 },
      latest: { delivery_id: calls[0]!.job.delivery_id, action_type: "webhook", status: "failed", status_code: 400 },
    });
    expect(t.alerts()[0]!.headers.get("webhook-id")).toBe(first.id);

    // Within the window: counted, not sent.
    await consume([calls[1]!.job], t.settings);
    t.setCrmStatus(410);
    await consume([calls[2]!.job], t.settings);
    expect(t.alerts()).toHaveLength(1);
    expect(await delivery(calls[2]!.callId)).toMatchObject({ status: "gone" });

    // Ten minutes later, the next failure sends a notice with everything since the first.
    await env.DB.prepare("UPDATE alert_windows SET window_start = window_start - 601000 WHERE target = ?").bind(t.crm).run();
    t.setCrmStatus(400);
    await consume([calls[3]!.job], t.settings);
    expect(t.alerts()).toHaveLength(2);
    const second = verify(t.alerts()[1]!);
    expect(second.counts).toEqual({ failed: 2, gone: 1, total: 3 });
    expect(second.since).toEqual(expect.any(String));
    expect(second.latest.delivery_id).toBe(calls[3]!.job.delivery_id);
    expect(second.id).not.toBe(first.id);

    await consume([calls[4]!.job], t.settings);
    expect(t.alerts()).toHaveLength(2);
  });

  it("a failing alert endpoint never affects the delivery", async () => {
    for (const answer of [() => new Response("boom", { status: 500 }), () => Promise.reject(new TypeError("connection refused"))]) {
      const t = setup(answer);
      const { calls } = await webhookCalls(t.crm, 1);
      const errors = vi.spyOn(console, "error");
      const result = await consume([calls[0]!.job], t.settings);
      expect(result.explicitAcks).toEqual(["msg-0"]);
      expect(result.retryMessages).toHaveLength(0);
      expect(t.alerts()).toHaveLength(1);
      expect(await delivery(calls[0]!.callId)).toMatchObject({ status: "failed", attempts: 1, last_status: 400 });
      expect(errors).toHaveBeenCalledWith("alerts: webhook notice not delivered", expect.anything());
      vi.restoreAllMocks();
    }
  });

  it("never sends to a private ALERT_WEBHOOK_URL unless ALLOW_PRIVATE_TARGETS", async () => {
    const t = setup();
    const { calls } = await webhookCalls(t.crm, 1);
    const errors = vi.spyOn(console, "error");
    await consume([calls[0]!.job], { ALERT_WEBHOOK_URL: "http://127.0.0.1:9999/alerts" });
    expect(await delivery(calls[0]!.callId)).toMatchObject({ status: "failed" });
    expect(errors).toHaveBeenCalledWith("alerts: webhook notice not delivered", expect.objectContaining({ error: expect.stringMatching(/loopback/) }));
  });

  it("sends nothing and writes nothing when no alert is configured", async () => {
    const t = setup();
    const { calls } = await webhookCalls(t.crm, 1);
    await consume([calls[0]!.job]);
    expect(t.alerts()).toHaveLength(0);
    expect(await env.DB.prepare("SELECT 1 FROM alert_windows WHERE target = ?").bind(t.crm).first()).toBeNull();
  });

  it("emails the notice to ALERT_EMAIL through the deployment's email provider", async () => {
    const t = setup();
    const { calls } = await webhookCalls(t.crm, 1);
    const to = `${uniqueId("ops")}@example.com`;
    await consume([calls[0]!.job], { ALERT_EMAIL: to });
    // The test deployment's email provider is the outbox (OUTBOX=true).
    const row = await env.DB.prepare("SELECT subject, body FROM outbox WHERE recipient = ?").bind(to).first<{ subject: string; body: string }>();
    expect(row?.subject).toMatch(/failing \(1 failed\)/);
    expect(row?.subject).toContain(t.crm);
    expect(JSON.parse(row!.body).text).toContain(calls[0]!.job.delivery_id);
  });
});
