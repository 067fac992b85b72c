import { createExecutionContext, createMessageBatch, env, getQueueResult, runInDurableObject } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Job } from "../src/ledger/plan";
import { ledgerStub } from "../src/ledger/client";
import { MAX_ATTEMPTS } from "../src/pipeline/retry-policy";
import worker from "../src/index";
import { callEvent, consumeMessages, editActions, makeDue, pendingJobs, postEvent, putAgent, request, stubFetch, uniqueId, watchLedgerSends } from "./helpers";

const WEBHOOK_SECRET = "whsec_dGVzdC13ZWJob29rLXNpZ25pbmctc2VjcmV0";
const HOOK_URL = "https://crm.example.com/api/call-completed";


afterEach(() => vi.restoreAllMocks());

const consume = (jobs: Job[], attempts = 1) => consumeMessages(jobs, { attempts });

async function webhookCall(actions: unknown[] = [{ type: "webhook", url: HOOK_URL, include_transcript: true, include_recording_url: false }]) {
  const agentId = uniqueId("agent");
  await putAgent(agentId, { name: "Acme Support", voice_tools: { post_call_follow_up: { enabled: true, actions } } });
  const event = callEvent({ agent_id: agentId });
  expect((await postEvent(event)).status).toBe(202);
  const jobs = await pendingJobs(agentId, event.call_id);
  return { agentId, event, jobs };
}

/** Seconds between an attempt and the retry the ledger expects (the queue message's delay). */
function scheduledDelay(d: { next_attempt_at: string; updated_at: string }) {
  return (Date.parse(d.next_attempt_at) - Date.parse(d.updated_at)) / 1000;
}

async function delivery(callId: string, index = 0) {
  const call = (await (await request("GET", `/calls/${callId}`)).json()) as any;
  return call.actions[index];
}

describe("queue consumer", () => {
  it("delivers the seed payload, signed per Standard Webhooks, once", async () => {
    const seen = stubFetch(() => new Response("ok", { status: 200 }));
    const { event, jobs } = await webhookCall();
    const result = await consume(jobs);
    expect(result.explicitAcks).toEqual(["msg-0"]);
    expect(seen).toHaveLength(1);

    const [req] = seen;
    expect(req!.url).toBe(HOOK_URL);
    const payload = new Webhook(WEBHOOK_SECRET).verify(req!.body, {
      "webhook-id": req!.headers.get("webhook-id")!,
      "webhook-timestamp": req!.headers.get("webhook-timestamp")!,
      "webhook-signature": req!.headers.get("webhook-signature")!,
    });
    expect(payload).toEqual({
      event: "post_call_follow_up",
      call_id: event.call_id,
      agent_id: event.agent_id,
      caller_number: event.caller_number,
      duration_seconds: event.duration_seconds,
      summary: event.summary,
      transcript: event.transcript,
      metadata: event.metadata,
    });
    expect(req!.headers.get("webhook-id")).toBe(jobs[0]!.delivery_id);

    // The same job again (at-least-once delivery) sends nothing more.
    const again = await consume(jobs);
    expect(again.explicitAcks).toEqual(["msg-0"]);
    expect(seen).toHaveLength(1);
    expect(await delivery(event.call_id)).toMatchObject({ status: "delivered", attempts: 1 });
  });

  it("includes transcript and recording_url only when the action asks", async () => {
    const seen = stubFetch(() => new Response(null, { status: 204 }));
    const { jobs } = await webhookCall([
      { type: "webhook", url: HOOK_URL },
      { type: "webhook", url: HOOK_URL, include_recording_url: true },
    ]);
    await consume(jobs);
    const bodies = seen.map((s) => JSON.parse(s.body)).sort((a, b) => Object.keys(a).length - Object.keys(b).length);
    expect(bodies[0]).not.toHaveProperty("transcript");
    expect(bodies[0]).not.toHaveProperty("recording_url");
    expect(bodies[1].recording_url).toBe("https://recordings.example.com/call_xyz789");
    expect(bodies[1]).not.toHaveProperty("transcript");
  });

  it("retries a 503 with a scheduled delay, keeping the webhook-id, then delivers", async () => {
    const seen = stubFetch((_req, n) => new Response("busy", { status: n === 1 ? 503 : 200 }));
    const { event, jobs } = await webhookCall();
    const sends = await watchLedgerSends(event.agent_id, event.call_id);
    const first = await consume(jobs);
    // The message is settled; the retry is a new job of the next generation, delayed until due.
    expect(first.explicitAcks).toEqual(["msg-0"]);
    const [retryJob] = [...sends.mock.calls[0]![0]];
    expect(retryJob!.body).toMatchObject({ ...jobs[0], generation: jobs[0]!.generation + 1 });
    expect(retryJob!.delaySeconds).toBeGreaterThanOrEqual(4);
    expect(retryJob!.delaySeconds).toBeLessThanOrEqual(6);
    const waiting = await delivery(event.call_id);
    expect(waiting).toMatchObject({ status: "retrying", attempts: 1, last_status: 503 });
    expect(scheduledDelay(waiting)).toBeGreaterThanOrEqual(3);
    expect(scheduledDelay(waiting)).toBeLessThanOrEqual(7);

    // A copy of the first job is stale now; the new job, once due, delivers.
    await consume(jobs);
    expect(seen).toHaveLength(1);
    await makeDue(event.agent_id, event.call_id);
    await consume(await pendingJobs(event.agent_id, event.call_id), 2);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.headers.get("webhook-id")).toBe(seen[0]!.headers.get("webhook-id"));
    const done = await delivery(event.call_id);
    expect(done).toMatchObject({ status: "delivered", attempts: 2 });
    expect(done.attempt_log.map((a: any) => [a.outcome, a.status_code])).toEqual([
      ["retry", 503],
      ["delivered", 200],
    ]);
  });

  it("brings back a job that arrives before it is due, without making an attempt", async () => {
    const seen = stubFetch(() => new Response("busy", { status: 503 }));
    const { event, jobs } = await webhookCall();
    await consume(jobs);
    const next = await pendingJobs(event.agent_id, event.call_id);
    const early = await consume(next);
    expect(early.retryMessages).toHaveLength(1);
    expect(early.retryDelays[0]).toBeGreaterThanOrEqual(3);
    expect(early.retryDelays[0]).toBeLessThanOrEqual(7);
    expect(seen).toHaveLength(1);
    expect(await delivery(event.call_id)).toMatchObject({ status: "retrying", attempts: 1 });
  });

  it("honours Retry-After on a 429", async () => {
    stubFetch(() => new Response("slow down", { status: 429, headers: { "retry-after": "120" } }));
    const { event, jobs } = await webhookCall();
    const sends = await watchLedgerSends(event.agent_id, event.call_id);
    const result = await consume(jobs);
    expect(result.explicitAcks).toEqual(["msg-0"]);
    expect([...sends.mock.calls[0]![0]].map((m) => m.delaySeconds)).toEqual([120]);
    const waiting = await delivery(jobs[0]!.call_id);
    expect(scheduledDelay(waiting)).toBeGreaterThanOrEqual(119);
    expect(scheduledDelay(waiting)).toBeLessThanOrEqual(121);
  });

  it("retries network errors and timeouts", async () => {
    vi.spyOn(globalThis, "fetch").mockRejectedValue(new TypeError("connection refused"));
    const { event, jobs } = await webhookCall();
    await consume(jobs);
    const waiting = await delivery(event.call_id);
    expect(waiting.status).toBe("retrying");
    expect(waiting.last_error).toMatch(/^network error \(connection refused: [^)]*\): connection refused$/);
  });

  it("fails a 400 at once, without retry, and marks a 410 gone", async () => {
    stubFetch((_req, n) => new Response("nope", { status: n === 1 ? 400 : 410 }));
    const { event, jobs } = await webhookCall([
      { type: "webhook", url: HOOK_URL },
      { type: "webhook", url: `${HOOK_URL}/2` },
    ]);
    const first = await consume([jobs[0]!]);
    expect(first.retryMessages).toHaveLength(0);
    expect(first.explicitAcks).toEqual(["msg-0"]);
    await consume([jobs[1]!]);
    expect(await delivery(event.call_id, 0)).toMatchObject({ status: "failed", last_status: 400 });
    expect(await delivery(event.call_id, 1)).toMatchObject({ status: "gone", last_status: 410 });
  });

  it("gives up after the last scheduled attempt: recorded failed and sent to the dead-letter queue", async () => {
    stubFetch(() => new Response("down", { status: 500 }));
    const { event, jobs } = await webhookCall();
    const dlq = vi.spyOn(env.ACTIONS_DLQ, "send");
    let current = jobs;
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      await consume(current, attempt);
      expect(await delivery(event.call_id)).toMatchObject({ status: "retrying", attempts: attempt });
      await makeDue(event.agent_id, event.call_id);
      current = await pendingJobs(event.agent_id, event.call_id);
    }
    const last = await consume(current, MAX_ATTEMPTS);
    expect(last.retryMessages).toHaveLength(0);
    expect(last.explicitAcks).toEqual(["msg-0"]);
    expect(dlq).toHaveBeenCalledWith(current[0], { contentType: "json" });
    const failed = await delivery(event.call_id);
    expect(failed).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS });
    expect(failed.last_error).toMatch(/gave up after 8 attempts/);
  });

  it("records whatever reaches the dead-letter queue as failed", async () => {
    const { event, jobs } = await webhookCall();
    const batch = createMessageBatch<Job>("actions-dlq", [{ id: "dead-1", timestamp: new Date(), attempts: 1, body: jobs[0]! }]);
    const ctx = createExecutionContext();
    await worker.queue!(batch as MessageBatch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["dead-1"]);
    expect(await delivery(event.call_id)).toMatchObject({ status: "failed", last_error: "dead-lettered: retries exhausted" });
  });

  it("replays a delivery through POST /deliveries/{id}/retry", async () => {
    const seen = stubFetch((_req, n) => new Response(null, { status: n === 1 ? 400 : 200 }));
    const { event, jobs } = await webhookCall();
    await consume(jobs);
    expect(await delivery(event.call_id)).toMatchObject({ status: "failed" });

    const res = await request("POST", `/deliveries/${jobs[0]!.delivery_id}/retry`);
    expect(res.status).toBe(202);
    const [replayed] = await pendingJobs(event.agent_id, event.call_id);
    expect(replayed!.generation).toBe(jobs[0]!.generation + 1);
    // The old job is stale now and does nothing; the new one delivers.
    await consume(jobs);
    expect(seen).toHaveLength(1);
    await consume([replayed!]);
    expect(seen).toHaveLength(2);
    expect(await delivery(event.call_id)).toMatchObject({ status: "delivered", attempts: 2 });

    expect((await request("POST", "/deliveries/dlv_nope/retry")).status).toBe(404);
  });

  it("refuses to send to a private address even if one was stored earlier", async () => {
    const seen = stubFetch(() => new Response("ok"));
    const { event, jobs } = await webhookCall();
    // Rewrite the stored action as if saved while ALLOW_PRIVATE_TARGETS was true.
    await runInDurableObject(ledgerStub(env, event.agent_id, event.call_id), (_i, state) => {
      editActions(state, () => ({ action: JSON.stringify({ type: "webhook", url: "http://169.254.169.254/latest/meta-data" }) }));
    });
    const result = await consume(jobs);
    expect(result.retryMessages).toHaveLength(0);
    expect(seen).toHaveLength(0);
    expect((await delivery(event.call_id)).last_error).toMatch(/link-local/);
  });

  it("renders email, SMS and task actions into the outbox", async () => {
    const { event, jobs } = await webhookCall([
      { type: "sms", template: "Thanks for calling {agent_name}! Your reference number is {call_id}. Tom & Jerry's" },
      { type: "email", to: "{caller_email}", subject: "Your call summary — {date}", body_template: "call_summary" },
      { type: "task", title: "Call back {{caller_name}}", notes: "{{summary}}", due_in_days: 2 },
    ]);
    await consume(jobs);
    const outbox = (await (await request("GET", `/outbox?call_id=${event.call_id}`)).json()) as any;
    const byKind = Object.fromEntries(outbox.messages.map((m: any) => [m.kind, m.message]));
    expect(byKind.sms).toEqual({
      to: "+14155551234",
      body: `Thanks for calling Acme Support! Your reference number is ${event.call_id}. Tom & Jerry's`,
    });
    expect(byKind.email.to).toBe("john@example.com");
    expect(byKind.email.subject).toBe("Your call summary — 2026-03-10");
    expect(byKind.email.html).toContain("Acme Support");
    expect(byKind.email.text).not.toMatch(/<[a-z]/i);
    expect(byKind.task).toEqual({ title: "Call back John Smith", notes: event.summary, due_date: "2026-03-12" });
  });

  it("skips an email with no recipient instead of failing or retrying", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, {
      voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "email", to: "{{caller_email}}", subject: "Hi", body: "x" }] } },
    });
    const event = callEvent({ agent_id: agentId, metadata: { order_id: "1" } });
    await postEvent(event);
    const result = await consume(await pendingJobs(agentId, event.call_id));
    expect(result.retryMessages).toHaveLength(0);
    expect(await delivery(event.call_id)).toMatchObject({ status: "skipped" });
    expect((await delivery(event.call_id)).last_error).toMatch(/no recipient/);
  });
});
