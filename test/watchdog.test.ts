import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { type CallLedger, ledgerFor } from "../src/ledger/call-ledger";
import { callEvent, pendingJobs, postEvent, putAgent, uniqueId } from "./helpers";

/** Pretends every action's job was due long ago and its queue message never came back. */
async function loseMessages(stub: DurableObjectStub<CallLedger>, ageMs: number) {
  await runInDurableObject(stub, (_i, state) => {
    state.storage.sql.exec("UPDATE actions SET due_at = ?", Date.now() - ageMs);
  });
}

async function watchSends(stub: DurableObjectStub<CallLedger>) {
  return runInDurableObject(stub, (instance) => {
    const queue = (instance as unknown as { env: CloudflareBindings }).env.ACTIONS;
    return vi.spyOn(queue, "send");
  });
}

describe("ledger watchdog", () => {
  it("re-sends jobs whose queue message was lost, as a new generation", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    const event = callEvent({ agent_id: agentId });
    await postEvent(event);
    const stub = ledgerFor(env, agentId, event.call_id);
    const before = await pendingJobs(agentId, event.call_id);
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now());

    await loseMessages(stub, 301_000);
    const sends = await watchSends(stub);
    expect(await runDurableObjectAlarm(stub)).toBe(true);

    const after = await pendingJobs(agentId, event.call_id);
    expect(sends).toHaveBeenCalledTimes(3);
    expect(after.map((j) => j.generation)).toEqual(before.map((j) => j.generation + 1));
    expect(sends.mock.calls.map((c) => c[0])).toEqual(after);
    // A copy of the old message, should it surface after all, is refused as stale.
    expect(await stub.claim(0, before[0]!.generation)).toMatchObject({ ok: false, reason: "stale job" });
    // And the watchdog keeps watching.
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeGreaterThan(Date.now());
    sends.mockRestore();
  });

  it("leaves alone jobs that are not overdue yet, in flight, or finished", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    const event = callEvent({ agent_id: agentId });
    await postEvent(event);
    const stub = ledgerFor(env, agentId, event.call_id);
    const jobs = await pendingJobs(agentId, event.call_id);
    const generations = async () => Object.fromEntries((await pendingJobs(agentId, event.call_id)).map((j) => [j.action_index, j.generation]));

    await loseMessages(stub, 60_000); // overdue by less than the grace period
    await runDurableObjectAlarm(stub);
    expect(await generations()).toEqual({ 0: 1, 1: 1, 2: 1 });

    expect(await stub.claim(0, jobs[0]!.generation)).toMatchObject({ ok: true }); // in flight
    await stub.record(1, { outcome: "delivered", started_at: new Date().toISOString(), duration_ms: 5 }); // finished
    await loseMessages(stub, 301_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await generations()).toEqual({ 0: 1, 2: 2 });
  });

  it("stops its alarm once every action is settled", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, { voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "sms", template: "Hi" }] } } });
    const event = callEvent({ agent_id: agentId });
    await postEvent(event);
    const stub = ledgerFor(env, agentId, event.call_id);
    await stub.record(0, { outcome: "delivered", started_at: new Date().toISOString(), duration_ms: 5 });
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
  });
});
