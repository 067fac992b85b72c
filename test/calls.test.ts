import { createExecutionContext, createMessageBatch, env, getQueueResult, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { ledgerStub } from "../src/ledger/client";
import type { Job } from "../src/ledger/plan";
import { callEvent, pendingJobs, postEvent, putAgent, request, uniqueId } from "./helpers";

const HOOK = { type: "webhook", url: "https://crm.example.com/hook" };
const enabled = (actions: unknown[]) => ({ voice_tools: { post_call_follow_up: { enabled: true, actions } } });

async function deliver(jobs: Job[]) {
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok"));
  const batch = createMessageBatch<Job>("actions", jobs.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })));
  const ctx = createExecutionContext();
  await worker.queue!(batch as MessageBatch, env, ctx);
  await getQueueResult(batch, ctx);
  spy.mockRestore();
}

const ledgerOf = async (agentId: string, callId: string) =>
  (await (await request("GET", `/calls/${callId}?agent_id=${agentId}`)).json()) as any;

/** GET /calls lists what the D1 log has; the ledger writes it right after answering. */
async function listed(query: string) {
  let body: any;
  await vi.waitFor(async () => {
    body = await (await request("GET", `/calls?${query}`)).json();
    expect(body.calls.length).toBeGreaterThan(0);
  });
  return body.calls as any[];
}

describe("calls that ran nothing are not consumed", () => {
  it("unrouted → agent fixed → posted again → delivered, still once", async () => {
    const agentId = uniqueId("agent");
    const event = callEvent({ agent_id: agentId });
    const first = await postEvent(event);
    expect(first.status).toBe(202);
    expect(await first.json()).toMatchObject({ actions: [], reason: "unknown agent" });
    expect((await listed(`status=unrouted&agent_id=${agentId}`)).map((c) => c.call_id)).toEqual([event.call_id]);

    await putAgent(agentId, enabled([HOOK]));
    const again = await postEvent(event);
    expect(again.status).toBe(202);
    expect(((await again.json()) as any).actions).toHaveLength(1);
    await deliver(await pendingJobs(agentId, event.call_id));
    const ledger = await ledgerOf(agentId, event.call_id);
    expect(ledger).toMatchObject({ status: "accepted", reason: null });
    expect(ledger.actions.map((a: any) => [a.status, a.run])).toEqual([["delivered", 0]]);

    expect((await postEvent(event)).status).toBe(200);
    expect((await listed(`status=accepted&agent_id=${agentId}`)).map((c) => c.call_id)).toEqual([event.call_id]);
  });

  it("concurrent re-posts after the fix run the call once", async () => {
    const agentId = uniqueId("agent");
    const event = callEvent({ agent_id: agentId });
    await postEvent(event);
    await putAgent(agentId, enabled([HOOK]));
    const statuses = (await Promise.all(Array.from({ length: 10 }, () => postEvent(event)))).map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(9);
    expect(await pendingJobs(agentId, event.call_id)).toHaveLength(1);
  });

  it("a disabled agent's call is listed as disabled", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, { voice_tools: { post_call_follow_up: { enabled: false, actions: [HOOK] } } });
    const event = callEvent({ agent_id: agentId });
    await postEvent(event);
    expect((await listed(`agent_id=${agentId}`)).map((c) => c.status)).toEqual(["disabled"]);
  });
});

describe("POST /calls/{call_id}/rerun", () => {
  it("runs the agent's current actions as new deliveries of a new run", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, enabled([HOOK]));
    const event = callEvent({ agent_id: agentId });
    await postEvent(event);
    await deliver(await pendingJobs(agentId, event.call_id));
    await putAgent(agentId, enabled([HOOK, { type: "sms", template: "Hi" }]));

    const res = await request("POST", `/calls/${event.call_id}/rerun`);
    expect(res.status).toBe(202);
    const body = (await res.json()) as any;
    expect(body.actions.map((a: any) => [a.index, a.type])).toEqual([
      [1, "webhook"],
      [2, "sms"],
    ]);
    const ledger = await ledgerOf(agentId, event.call_id);
    expect(ledger.actions.map((a: any) => [a.status, a.run])).toEqual([
      ["delivered", 0],
      ["pending", 1],
      ["pending", 1],
    ]);
    expect(new Set(ledger.actions.map((a: any) => a.id)).size).toBe(3);

    // The log lists the call's deliveries through its row, which the re-run wrote again with all three.
    await vi.waitFor(async () => {
      const listed = (await (await request("GET", `/deliveries?call_id=${event.call_id}&agent_id=${agentId}`)).json()) as any;
      expect(listed.deliveries.map((d: any) => d.id).sort()).toEqual(ledger.actions.map((a: any) => a.id).sort());
      const byAgent = (await (await request("GET", `/deliveries?agent_id=${agentId}`)).json()) as any;
      expect(byAgent.deliveries).toHaveLength(3);
    });
  });

  it("answers 409 when the agent has nothing to run, 404 for an unknown call", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, enabled([HOOK]));
    const event = callEvent({ agent_id: agentId });
    await postEvent(event);
    await putAgent(agentId, { voice_tools: { post_call_follow_up: { enabled: false, actions: [HOOK] } } });
    expect((await request("POST", `/calls/${event.call_id}/rerun?agent_id=${agentId}`)).status).toBe(409);
    expect((await request("POST", `/calls/${uniqueId("nope")}/rerun?agent_id=${agentId}`)).status).toBe(404);
  });
});

describe("GET /calls", () => {
  it("pages newest first with a cursor and filters by time", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, enabled([HOOK]));
    const events = [callEvent({ agent_id: agentId }), callEvent({ agent_id: agentId }), callEvent({ agent_id: agentId })];
    for (const event of events) await postEvent(event);
    // Nothing consumes their jobs here: each ledger's alarm logs the call (due 30 s after acceptance; run now).
    for (const event of events) await runDurableObjectAlarm(ledgerStub(env, agentId, event.call_id));
    await listed(`agent_id=${agentId}`);
    await vi.waitFor(async () => {
      const all = (await (await request("GET", `/calls?agent_id=${agentId}`)).json()) as any;
      expect(all.calls).toHaveLength(3);
    });
    const first = (await (await request("GET", `/calls?agent_id=${agentId}&limit=2`)).json()) as any;
    expect(first.calls).toHaveLength(2);
    const second = (await (await request("GET", `/calls?agent_id=${agentId}&limit=2&cursor=${encodeURIComponent(first.next_cursor)}`)).json()) as any;
    expect(second.calls).toHaveLength(1);
    expect(second.next_cursor).toBeNull();
    const future = (await (await request("GET", `/calls?agent_id=${agentId}&since=${new Date(Date.now() + 60_000).toISOString()}`)).json()) as any;
    expect(future.calls).toHaveLength(0);
    expect((await request("GET", "/calls?cursor=nonsense")).status).toBe(422);
  });

  it("refuses a time bound outside the years 0000 to 9999 in UTC, and an unreadable cursor, naming the query field", async () => {
    for (const [query, path] of [
      ["since=9999-12-31T23:59:59-14:00", "$.query.since"],
      ["until=0000-01-01T00:00:00%2B01:00", "$.query.until"],
      ["cursor=nonsense", "$.query.cursor"],
    ]) {
      const res = await request("GET", `/calls?${query}`);
      expect(res.status, query).toBe(422);
      expect(((await res.json()) as any).errors.map((e: any) => e.path), query).toEqual([path]);
    }
    const last = (await (await request("GET", "/calls?since=9999-12-31T23:59:59Z")).json()) as any;
    expect(last.calls).toEqual([]);
  });
});
