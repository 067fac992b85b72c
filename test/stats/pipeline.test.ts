import { createExecutionContext, createMessageBatch, env, getQueueResult, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { ledgerStub } from "../../src/ledger/client";
import type { Job } from "../../src/ledger/plan";
import { outboundCall } from "../../src/outbound/client";
import type { OutboundState } from "../../src/outbound/state";
import type { StatsAnswer } from "../../src/store/stats";
import { callEvent, makeDue, pendingJobs, postEvent, putAgent, request, stubFetch, uniqueId } from "../helpers";

afterEach(() => vi.restoreAllMocks());

/** Runs one batch through the real queue handler. */
async function consume(jobs: Job[]) {
  const batch = createMessageBatch<Job>("actions", jobs.map((body, i) => ({ id: `msg-${i}`, timestamp: new Date(), attempts: 1, body })));
  const ctx = createExecutionContext();
  await worker.queue!(batch as MessageBatch, env, ctx);
  return getQueueResult(batch, ctx);
}

/** GET /stats grouped by agent, read until `ready` holds for the agent's groups (the log is written just after a result). */
async function statsOf(agentId: string, ready: (d: any, o: any) => boolean) {
  let last: unknown;
  for (let i = 0; i < 50; i++) {
    const res = await request("GET", "/stats?window=24h&group_by=agent");
    expect(res.status).toBe(200);
    const body = (await res.json()) as StatsAnswer;
    const d = body.deliveries.groups.find((g) => g.key === agentId);
    const o = body.outbound_calls.groups.find((g) => g.key === agentId);
    last = { d, o };
    if (ready(d, o)) return { d: d!, o };
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`stats never showed what was expected for ${agentId}: ${JSON.stringify(last)}`);
}

describe("stats through the real pipeline", () => {
  it("counts a delivered webhook once, and its replay again", async () => {
    const seen = stubFetch(() => new Response("ok", { status: 200 }));
    const agentId = uniqueId("agent");
    await putAgent(agentId, {
      voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "webhook", url: "https://crm.example.com/api/call-completed" }] } },
    });
    const event = callEvent({ agent_id: agentId });
    expect((await postEvent(event)).status).toBe(202);
    const jobs = await pendingJobs(agentId, event.call_id);
    await consume(jobs);
    await consume(jobs); // a duplicate message: refused by the ledger, counted nowhere
    expect(seen).toHaveLength(1);

    const first = await statsOf(agentId, (d) => d?.settled === 1);
    expect(first.d).toMatchObject({ settled: 1, by_status: { delivered: 1 }, success_rate: 1, attempts: 1, attempts_per_delivery: 1 });
    expect(first.d.latency.measured).toBe(1);
    expect(first.d.latency.p50_ms).not.toBeNull();
    // The ledger's alarm writes whatever the log lacks: nothing, so nothing more is counted.
    await runDurableObjectAlarm(ledgerStub(env, agentId, event.call_id));
    expect((await statsOf(agentId, (d) => d !== undefined)).d.settled).toBe(1);

    expect((await request("POST", `/deliveries/${jobs[0]!.delivery_id}/retry`)).status).toBe(202);
    await consume(await pendingJobs(agentId, event.call_id));
    expect(seen).toHaveLength(2);
    const again = await statsOf(agentId, (d) => d?.settled === 2);
    expect(again.d).toMatchObject({ settled: 2, by_status: { delivered: 2 }, attempts: 2, attempts_per_delivery: 1 });
    expect(again.d.latency.measured).toBe(1); // the replay's settle is not a latency
  });

  it("counts a failed delivery and its retries' attempts", async () => {
    stubFetch((_req, n) => new Response("nope", { status: n === 1 ? 503 : 401 }));
    const agentId = uniqueId("agent");
    await putAgent(agentId, {
      voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "webhook", url: "https://crm.example.com/api/call-completed" }] } },
    });
    const event = callEvent({ agent_id: agentId });
    await postEvent(event);
    await consume(await pendingJobs(agentId, event.call_id)); // 503: retrying, not settled
    await makeDue(agentId, event.call_id);
    await consume(await pendingJobs(agentId, event.call_id)); // 401: failed
    const { d } = await statsOf(agentId, (g) => g?.settled === 1);
    expect(d).toMatchObject({ settled: 1, by_status: { failed: 1, delivered: 0 }, success_rate: 0, attempts: 2, attempts_per_delivery: 2 });
    expect(d.latency.measured).toBe(0);
  });

  it("counts a simulated outbound call once it is final", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, { name: "Acme Dental", voice_tools: { outbound_calls: { platform: { type: "simulator" } } } });
    const res = await request("POST", "/outbound-calls", {
      agent_id: agentId,
      phone_number: "+14155551234",
      delay_seconds: 600,
      metadata: { simulate_outcome: "confirmed" },
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const stub = outboundCall(env, id).stub;
    const edit = (change: (s: OutboundState) => OutboundState) =>
      runInDurableObject(stub, async (instance, state) => {
        const object = instance as unknown as { state: OutboundState };
        object.state = change(object.state);
        await state.storage.put("state", object.state);
      });
    await edit((s) => ({ ...s, due_at: Date.now() - 1 }));
    await runDurableObjectAlarm(stub);
    await edit((s) => ({ ...s, simulate_end_at: Date.now() - 1 }));
    await runDurableObjectAlarm(stub);
    expect(await outboundCall(env, id).inspect()).toMatchObject({ status: "completed", outcome: "confirmed" });
    await runDurableObjectAlarm(stub); // whatever it still does after the end, the call is not counted again

    const { o } = await statsOf(agentId, (_d, g) => g?.final === 1);
    expect(o).toEqual({ key: agentId, final: 1, by_outcome: { confirmed: 1 }, connected: 1, connect_rate: 1, attempts: 1, redials: 0 });
  });
});
