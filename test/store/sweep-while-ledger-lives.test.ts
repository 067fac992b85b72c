import { createExecutionContext, createScheduledController, env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { readList } from "../../src/ledger/action-list";
import { readRecord, writeRecord } from "../../src/ledger/call-record";
import { ledgerStub } from "../../src/ledger/client";
import type { Job } from "../../src/ledger/plan";
import { readStats } from "../../src/store/stats";
import { callEvent, consumeMessages, pendingJobs, postEvent, putAgent, request, uniqueId } from "../helpers";

const DAY = 86_400_000;

/** Runs the jobs through the queue consumer, every webhook answering 200. */
async function consume(jobs: Job[]) {
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok"));
  await consumeMessages(jobs);
  spy.mockRestore();
}

const settledFor = async (agentId: string) => {
  const stats = await readStats(env.DB, { window: "24h", group_by: "agent", now: Date.now() });
  return stats.deliveries.groups.find((g) => g.key === agentId)?.settled ?? 0;
};

const rowsOf = async (deliveryId: string, callId: string) => ({
  deliveries: (await env.DB.prepare("SELECT COUNT(*) AS n FROM deliveries WHERE id = ?").bind(deliveryId).first<{ n: number }>())!.n,
  calls: (await env.DB.prepare("SELECT COUNT(*) AS n FROM calls WHERE call_id = ?").bind(callId).first<{ n: number }>())!.n,
});

/** The log's daily sweep and a call's ledger end its retention by the same clock. */
describe("the daily sweep and a call whose ledger still lives", () => {
  it("keeps the call's rows while its ledger lives, so an erasure counts no settle again and nothing is left behind", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, { voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "webhook", url: "https://crm.example.com/hook" }] } } });
    const event = callEvent({ agent_id: agentId });
    await postEvent(event);
    // The call was received 10 days before its action settled (e.g. replayed on day 10): its
    // ledger is kept until RETENTION_DAYS after the settle, the log's sweep goes by received_at.
    const receivedAt = new Date(Date.now() - 10 * DAY).toISOString();
    await runInDurableObject(ledgerStub(env, agentId, event.call_id), (_i, state) => {
      writeRecord(state.storage.kv, { ...readRecord(state.storage.kv)!, received_at: receivedAt });
    });
    const [job] = await pendingJobs(agentId, event.call_id);
    await consume([job!]);
    for (let i = 0; i < 50 && (await rowsOf(job!.delivery_id, event.call_id)).deliveries === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await env.DB.prepare("SELECT status FROM deliveries WHERE id = ?").bind(job!.delivery_id).first("status")).toBe("delivered");
    expect(await settledFor(agentId)).toBe(1);

    // Day 31 after receipt, day 21 after the settle: the ledger keeps the call 9 days more, and
    // the sweep keeps its rows with it.
    const now = Date.now();
    await worker.scheduled!(createScheduledController({ scheduledTime: now + 21 * DAY, cron: "17 3 * * *" }), env, createExecutionContext());
    expect(await rowsOf(job!.delivery_id, event.call_id)).toEqual({ deliveries: 1, calls: 1 });

    // The ledger still lives: the call can be erased (its agent named).
    expect((await request("DELETE", `/calls/${event.call_id}?agent_id=${agentId}`)).status).toBe(200);

    // README (Stats): "nor does a change to a settled delivery that is not a new settle (erasure clears its error)".
    expect(await settledFor(agentId)).toBe(1);

    // The ledger's own end of retention deletes the call's log rows through the call row.
    await runInDurableObject(ledgerStub(env, agentId, event.call_id), async (instance) => {
      await (instance as unknown as { deleteCall(): Promise<void> }).deleteCall();
    });
    // Nothing of the call may be left in the log once its ledger is gone.
    expect(await rowsOf(job!.delivery_id, event.call_id)).toEqual({ deliveries: 0, calls: 0 });

    // README (Delivery, Retention): after that the same call posted again is a new call, logged as new.
    // Its delivery has the same id, so a row left behind at a higher version shuts its copies out.
    const reposted = Date.now();
    expect((await postEvent(event)).status).toBe(202);
    const [again] = await pendingJobs(agentId, event.call_id);
    expect(again!.delivery_id).toBe(job!.delivery_id);
    await consume([again!]);
    // Wait until the new ledger believes its delivered copy is logged.
    for (let i = 0; i < 50; i++) {
      const mark = await runInDurableObject(ledgerStub(env, agentId, event.call_id), (_i, state) => readList(state.storage.kv).mark.actions[0] ?? 0);
      if (mark >= 3) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const logged = await env.DB.prepare("SELECT updated_at, version FROM deliveries WHERE id = ?").bind(again!.delivery_id).first<{ updated_at: string; version: number }>();
    expect(Date.parse(logged!.updated_at)).toBeGreaterThanOrEqual(reposted);
  });
});
