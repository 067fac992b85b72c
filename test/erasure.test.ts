import { createExecutionContext, createMessageBatch, env, getQueueResult, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { readList } from "../src/ledger/action-list";
import { ledgerFor, ledgerStub } from "../src/ledger/client";
import type { Job } from "../src/ledger/plan";
import { callEvent, pendingJobs, postEvent, putAgent, request, uniqueId } from "./helpers";

const NUMBER = "+14155559876";
const EMAIL = "erase.me@example.com";
const SECRET_WORDS = "my account number is 12345678";

async function consume(jobs: Job[], answer: () => Response) {
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async () => answer());
  const batch = createMessageBatch<Job>("actions", jobs.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })));
  const ctx = createExecutionContext();
  await worker.queue!(batch as MessageBatch, env, ctx);
  await getQueueResult(batch, ctx);
  spy.mockRestore();
}

describe("DELETE /calls/{call_id}", () => {
  it.each(["amend", "release"] as const)("keeps its tombstone when a platform posts the call again (%s)", async (onDuplicate) => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, { voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "sms", template: "Hi" }] } } });
    const event = callEvent({ agent_id: agentId, caller_number: NUMBER, transcript: `Caller: ${SECRET_WORDS}` });
    await postEvent(event);
    await consume(await pendingJobs(agentId, event.call_id), () => new Response("ok"));
    expect((await request("DELETE", `/calls/${event.call_id}`)).status).toBe(200);

    // Bland's corrected transcript, Retell's analysis, or a replay of either, after the erasure.
    const again = await ledgerFor(env, agentId, event.call_id).accept(event, null, new Date().toISOString(), { onDuplicate, raw: JSON.stringify(event) });
    expect(again.status).toBe("duplicate");
    const ledger = (await (await request("GET", `/calls/${event.call_id}?agent_id=${agentId}`)).json()) as any;
    expect(ledger.event).toEqual({ call_id: event.call_id, agent_id: agentId });
    expect(ledger.raw).toBeNull();
    expect(JSON.stringify(ledger)).not.toContain(SECRET_WORDS);
  });

  it("leaves nothing of the caller in the ledger, the log or the outbox", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, {
      voice_tools: {
        post_call_follow_up: {
          enabled: true,
          actions: [
            { type: "sms", template: "Hi {{caller_name}}, about {{summary}}" },
            { type: "webhook", url: "https://crm.example.com/hook", include_transcript: true },
            { type: "email", to: "{{caller_email}}", subject: "Summary", body: "{{transcript}}" },
          ],
        },
      },
    });
    const event = callEvent({
      agent_id: agentId,
      caller_number: NUMBER,
      summary: SECRET_WORDS,
      transcript: `Caller: ${SECRET_WORDS}`,
      metadata: { caller_name: "Erin Erase", caller_email: EMAIL },
    });
    await postEvent(event);
    const jobs = await pendingJobs(agentId, event.call_id);
    // The SMS and email reach the outbox; the webhook fails with an answer that quotes the caller.
    await consume(jobs, () => new Response(`rejected ${NUMBER}: ${SECRET_WORDS}`, { status: 503 }));

    const res = await request("DELETE", `/calls/${event.call_id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ call_id: event.call_id, agent_id: agentId, erased: { actions: 3, attempts: 3, outbox_messages: 2 } });

    const ledger = (await (await request("GET", `/calls/${event.call_id}?agent_id=${agentId}`)).json()) as any;
    expect(ledger.event).toEqual({ call_id: event.call_id, agent_id: agentId });
    expect(ledger.actions.map((a: any) => a.status)).toEqual(["delivered", "failed", "delivered"]);
    const inLedger = await runInDurableObject(ledgerStub(env, agentId, event.call_id), (_i, state) =>
      // Everything the ledger stores: its record, any chunks, and the list inside the record.
      JSON.stringify([[...state.storage.kv.list()], readList(state.storage.kv)]),
    );
    const inD1 = JSON.stringify([
      (await env.DB.prepare("SELECT * FROM deliveries WHERE call_id = ?").bind(event.call_id).all()).results,
      (await env.DB.prepare("SELECT attempt_log FROM deliveries WHERE call_id = ?").bind(event.call_id).all()).results,
      (await env.DB.prepare("SELECT * FROM calls WHERE call_id = ?").bind(event.call_id).all()).results,
      (await env.DB.prepare("SELECT * FROM outbox WHERE call_id = ?").bind(event.call_id).all()).results,
    ]);
    for (const trace of [NUMBER, "4155559876", EMAIL, "Erin", SECRET_WORDS, "12345678"]) {
      expect(inLedger).not.toContain(trace);
      expect(inD1).not.toContain(trace);
    }
    // Erasing again (say, after the first request died before the outbox was cleared) is safe.
    const again = await request("DELETE", `/calls/${event.call_id}`);
    expect(again.status).toBe(200);
    expect(((await again.json()) as any).erased.outbox_messages).toBe(0);
    expect((await request("DELETE", `/calls/${uniqueId("nope")}`)).status).toBe(404);
  });

  it("strips the log's copies later when D1 refuses them at the erasure", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, { voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "webhook", url: "https://crm.example.com/hook" }] } } });
    const event = callEvent({ agent_id: agentId, caller_number: NUMBER });
    await postEvent(event);
    await consume(await pendingJobs(agentId, event.call_id), () => new Response(`rejected ${NUMBER}`, { status: 503 }));
    const logged = async () =>
      JSON.stringify(
        (await env.DB.prepare("SELECT attempt_log FROM deliveries WHERE call_id = ?").bind(event.call_id).all())
          .results,
      );
    expect(await logged()).toContain(NUMBER);

    const stub = ledgerStub(env, agentId, event.call_id);
    const db = await runInDurableObject(stub, (instance) => (instance as unknown as { env: CloudflareBindings }).env.DB);
    const refuse = vi.spyOn(db, "batch").mockRejectedValue(new Error("D1_ERROR: overloaded"));
    expect((await request("DELETE", `/calls/${event.call_id}`)).status).toBe(200);
    // The ledger's own copy is gone at once; the log's waits, promised in the ledger's row.
    expect(await logged()).toContain(NUMBER);
    expect(await runInDurableObject(stub, (_i, state) => readList(state.storage.kv).mark.erase)).toBe(true);

    refuse.mockRestore();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await logged()).not.toContain(NUMBER);
    expect(await runInDurableObject(stub, (_i, state) => readList(state.storage.kv).mark.erase)).toBeUndefined();
  });

  it("strips the log after a write of the same attempts still under way, never before it", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, { voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "webhook", url: "https://crm.example.com/hook" }] } } });
    const event = callEvent({ agent_id: agentId, caller_number: NUMBER });
    await postEvent(event);
    const stub = ledgerStub(env, agentId, event.call_id);
    const db = await runInDurableObject(stub, (instance) => (instance as unknown as { env: CloudflareBindings }).env.DB);
    // The log write of the attempt's result is held in flight; the ones after it go through.
    const batch = db.batch.bind(db);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const writes: string[] = [];
    const spy = vi.spyOn(db, "batch").mockImplementation(async (statements) => {
      writes.push(writes.length === 0 ? "result" : "later");
      if (writes.length === 1) await held;
      return batch(statements);
    });
    const logged = async () =>
      JSON.stringify(
        (await env.DB.prepare("SELECT attempt_log FROM deliveries WHERE call_id = ?").bind(event.call_id).all())
          .results,
      );
    await consume(await pendingJobs(agentId, event.call_id), () => new Response(`rejected ${NUMBER}`, { status: 503 }));
    expect(writes).toEqual(["result"]);

    const erased = request("DELETE", `/calls/${event.call_id}?agent_id=${agentId}`);
    // The erasure's own write waits for the one in flight (without the wait, it would land first).
    for (let i = 0; i < 20 && writes.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(writes).toEqual(["result"]);
    release();
    expect((await erased).status).toBe(200);
    spy.mockRestore();
    expect(writes.length).toBeGreaterThan(1);
    expect(await logged()).not.toContain(NUMBER);
  });
});
