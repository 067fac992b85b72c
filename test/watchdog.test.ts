import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { CallLedger } from "../src/ledger/call-ledger";
import { readRecord } from "../src/ledger/call-record";
import { ledgerFor, ledgerStub } from "../src/ledger/client";
import type { Job } from "../src/ledger/plan";
import { Outbox } from "../src/store/outbox";
import { callEvent, editActions, pendingJobs, postEvent, putAgent, uniqueId } from "./helpers";

/** Pretends every action's job was due `ageMs` ago and its queue message never came back. */
async function loseMessages(stub: DurableObjectStub<CallLedger>, ageMs: number) {
  await runInDurableObject(stub, (_i, state) => {
    editActions(state, () => ({ due_at: Date.now() - ageMs }));
  });
}

async function watchSends(stub: DurableObjectStub<CallLedger>) {
  return runInDurableObject(stub, (instance) => {
    const queue = (instance as unknown as { env: CloudflareBindings }).env.ACTIONS;
    return vi.spyOn(queue, "sendBatch");
  });
}

/** A call whose one action has been delivered. */
async function deliveredCall() {
  const agentId = uniqueId("agent");
  await putAgent(agentId, { voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "sms", template: "Hi" }] } } });
  const event = callEvent({ agent_id: agentId });
  await postEvent(event);
  const ledger = ledgerFor(env, agentId, event.call_id);
  const claim = await ledger.claim(0, 1);
  await ledger.recordAll([{ index: 0, token: (claim as { token: number }).token, attempt: { outcome: "delivered", started_at: new Date().toISOString(), duration_ms: 5 } }]);
  return { stub: ledgerStub(env, agentId, event.call_id), ledger, agentId, callId: event.call_id };
}

/** How many rows the D1 log holds for a call. */
async function logRows(agentId: string, callId: string) {
  const count = (sql: string) => env.DB.prepare(sql).bind(agentId, callId).first<{ n: number }>();
  return {
    calls: (await count("SELECT COUNT(*) AS n FROM calls WHERE agent_id = ? AND call_id = ?"))!.n,
    deliveries: (await count("SELECT COUNT(*) AS n FROM deliveries WHERE agent_id = ? AND call_id = ?"))!.n,
  };
}

/**
 * A delivered call, logged, whose retention has ended: received and settled 31 days ago, in the
 * ledger and in the log alike.
 */
async function retainedCall() {
  const delivered = await deliveredCall();
  const { stub, agentId, callId } = delivered;
  for (let i = 0; i < 50 && (await logRows(agentId, callId)).deliveries === 0; i++) await new Promise((r) => setTimeout(r, 20));
  const then = new Date(Date.now() - 31 * 86_400_000).toISOString();
  await runInDurableObject(stub, (_i, state) => {
    editActions(state, () => ({ updated_at: then }));
    state.storage.kv.put("call", { ...readRecord(state.storage.kv)!, received_at: then });
  });
  await env.DB.batch([
    env.DB.prepare("UPDATE calls SET received_at = ? WHERE agent_id = ? AND call_id = ?").bind(then, agentId, callId),
    env.DB.prepare("UPDATE deliveries SET created_at = ? WHERE agent_id = ? AND call_id = ?").bind(then, agentId, callId),
  ]);
  expect(await logRows(agentId, callId)).toEqual({ calls: 1, deliveries: 1 });
  return delivered;
}

describe("ledger watchdog", () => {
  it("re-sends jobs whose queue message was lost, as copies of the same jobs", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    const event = callEvent({ agent_id: agentId });
    await postEvent(event);
    const stub = ledgerStub(env, agentId, event.call_id);
    const before = await pendingJobs(agentId, event.call_id);
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now());

    // Armed for a minute past the actions' due time, so a restarted relay resumes within about a minute.
    expect(alarm).toBeLessThanOrEqual(Date.now() + 61_000);

    await loseMessages(stub, 61_000);
    const sends = await watchSends(stub);
    expect(await runDurableObjectAlarm(stub)).toBe(true);

    const after = await pendingJobs(agentId, event.call_id);
    expect(sends).toHaveBeenCalledTimes(1);
    expect(after.map((j) => j.generation)).toEqual(before.map((j) => j.generation));
    // Due together, so they travel together: one message carries every re-sent job.
    expect([...sends.mock.calls[0]![0]].map((m) => m.body)).toEqual([after]);
    // Should the old message surface after all (a queue running behind), it makes the attempt,
    // and the copy then finds it taken.
    const ledger = ledgerFor(env, agentId, event.call_id);
    expect(await ledger.claim(0, before[0]!.generation)).toMatchObject({ ok: true });
    expect(await ledger.claim(0, after[0]!.generation)).toMatchObject({ ok: false, reason: "in flight" });
    // And the watchdog keeps watching.
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeGreaterThan(Date.now());
    sends.mockRestore();
  });

  it("leaves alone jobs that are not overdue yet, in flight, or finished", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    const event = callEvent({ agent_id: agentId });
    await postEvent(event);
    const stub = ledgerStub(env, agentId, event.call_id);
    const ledger = ledgerFor(env, agentId, event.call_id);
    const jobs = await pendingJobs(agentId, event.call_id);
    const resent = async () => {
      const sends = await watchSends(stub);
      await runDurableObjectAlarm(stub);
      const indexes = sends.mock.calls.flatMap(([messages]) => [...messages].flatMap((m) => ([m.body].flat() as Job[]).map((j) => j.action_index)));
      sends.mockRestore();
      return indexes;
    };

    await loseMessages(stub, 30_000); // overdue by less than the margin
    expect(await resent()).toEqual([]);

    expect(await ledger.claim(0, jobs[0]!.generation)).toMatchObject({ ok: true }); // in flight
    const finished = await ledger.claim(1, jobs[1]!.generation);
    await ledger.recordAll([{ index: 1, token: (finished as { token: number }).token, attempt: { outcome: "delivered", started_at: new Date().toISOString(), duration_ms: 5 } }]);
    await loseMessages(stub, 61_000);
    expect(await resent()).toEqual([2]);
  });

  it("stops its alarm once every action is settled", async () => {
    const { stub } = await deliveredCall();
    // Once the log has the final state, only the retention alarm is left, RETENTION_DAYS away.
    await vi.waitFor(async () => {
      const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
      expect(alarm).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    });
  });

  it("deletes a settled call's log rows and then its ledger when its retention ends", async () => {
    const { stub, ledger, agentId, callId } = await retainedCall();
    // What the development outbox recorded for it, and for another call.
    const deliveryId = (await ledger.snapshot())!.actions[0]!.id;
    const outbox = new Outbox(env.DB);
    const message = { call_id: callId, agent_id: agentId, kind: "sms" as const, recipient: "+14155551234", subject: null, message: { body: "Hi" } };
    await outbox.add({ ...message, delivery_id: deliveryId, idempotency_key: deliveryId });
    const other = uniqueId("dlv");
    await outbox.add({ ...message, delivery_id: other, idempotency_key: other });

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await ledger.snapshot()).toBeNull();
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
    expect(await logRows(agentId, callId)).toEqual({ calls: 0, deliveries: 0 });
    const outboxed = await env.DB.prepare("SELECT delivery_id FROM outbox WHERE delivery_id IN (?, ?)").bind(deliveryId, other).all();
    expect(outboxed.results).toEqual([{ delivery_id: other }]);
    // Nothing is written back: a record comes again only with a call, and the same call posted
    // again is a new one.
    const keys = () => runInDurableObject(stub, (_i, state) => [...state.storage.kv.list()].map(([key]) => key));
    expect(await keys()).toEqual([]);
    const again = await postEvent(callEvent({ agent_id: agentId, call_id: callId }));
    expect(again.status).toBe(202);
    expect(((await again.json()) as { status: string }).status).toBe("accepted");
    expect(await keys()).toEqual(["call"]);
  });

  it("a retention cut off after deleting the log's rows finishes at the next alarm", async () => {
    const { stub, ledger, agentId, callId } = await retainedCall();
    // The log's rows went; the process died before the ledger's own storage did.
    await env.DB.batch([
      env.DB.prepare("DELETE FROM deliveries WHERE agent_id = ? AND call_id = ?").bind(agentId, callId),
      env.DB.prepare("DELETE FROM calls WHERE agent_id = ? AND call_id = ?").bind(agentId, callId),
    ]);
    expect(await ledger.snapshot()).not.toBeNull();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await ledger.snapshot()).toBeNull();
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
  });

  it("keeps the ledger, and tries again, while the log refuses to delete the call's rows", async () => {
    const { stub, ledger, agentId, callId } = await retainedCall();
    const db = await runInDurableObject(stub, (instance) => (instance as unknown as { env: CloudflareBindings }).env.DB);
    const refuse = vi.spyOn(db, "batch").mockRejectedValue(new Error("D1_ERROR: overloaded"));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    refuse.mockRestore();
    expect(await ledger.snapshot()).not.toBeNull();
    expect(await logRows(agentId, callId)).toEqual({ calls: 1, deliveries: 1 });
    const retry = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(retry).toBeGreaterThan(Date.now());
    expect(retry).toBeLessThan(Date.now() + 60_000);

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await ledger.snapshot()).toBeNull();
    expect(await logRows(agentId, callId)).toEqual({ calls: 0, deliveries: 0 });
  });

  it("an alarm left behind by a retention cut off after deleting the data clears itself", async () => {
    const { stub } = await deliveredCall();
    await runInDurableObject(stub, async (_i, state) => {
      state.storage.kv.delete("call");
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
  });

  // A ledger that stores a new call does not read its alarm first; one left behind by a deleted
  // ledger must still neither outlive nor shadow the new call's.
  it("a new ledger over a deleted one's left-behind alarm replaces it, or lets it clear itself", async () => {
    const stale = () => Date.now() + 3_600_000;
    const deletedLedger = async () => {
      const { stub } = await deliveredCall();
      const { agentId, callId } = await runInDurableObject(stub, async (_i, state) => {
        const call = readRecord(state.storage.kv)!;
        await state.storage.deleteAll();
        await state.storage.setAlarm(stale());
        return { agentId: call.agent_id, callId: call.call_id };
      });
      await runInDurableObject(stub, (_i, state) => state.abort("restart")).catch(() => {});
      return { agentId, callId };
    };

    const left = await deletedLedger();
    const fresh = ledgerStub(env, left.agentId, left.callId);
    expect(await runDurableObjectAlarm(fresh)).toBe(true);
    expect(await runInDurableObject(fresh, (_i, state) => state.storage.getAlarm())).toBeNull();

    const reused = await deletedLedger();
    expect((await postEvent(callEvent({ agent_id: reused.agentId, call_id: reused.callId }))).status).toBe(202);
    const alarm = await runInDurableObject(ledgerStub(env, reused.agentId, reused.callId), (_i, state) => state.storage.getAlarm());
    expect(alarm).toBeLessThan(stale() - 600_000);
  });
});
