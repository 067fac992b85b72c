import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ACTION_LIST_MAX_BYTES, readList, writeList } from "../../src/ledger/action-list";
import type { CallLedger } from "../../src/ledger/call-ledger";
import { readRecord } from "../../src/ledger/call-record";
import { ledgerStub } from "../../src/ledger/client";
import { ACTIONS_MAX_JSON_CHARS, TEMPLATES_MAX_JSON_CHARS } from "../../src/schemas/agent";
import { AgentStore } from "../../src/store/agents";
import { callEvent, editActions, pendingJobs, postEvent, putAgent, request, swapLedgerKv, tracedKv, uniqueId, watchLedgerSends } from "../helpers";

/** A call's actions are stored in its record of at most 2 MB: what would not fit is refused before it is stored. */

const hook = (note: string) => ({ type: "webhook", url: `https://crm.example.com/hook?note=${note}` });

describe("the action list's size", () => {
  it("refuses an agent whose actions would not fit a call's row, naming the field", async () => {
    const big = Array.from({ length: 20 }, () => ({ type: "sms", template: "\"".repeat(16_000) }));
    expect(JSON.stringify(big).length).toBeGreaterThan(ACTIONS_MAX_JSON_CHARS);
    const res = await request("PUT", `/agents/${uniqueId("agent")}`, { voice_tools: { post_call_follow_up: { enabled: true, actions: big } } });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(JSON.stringify(await res.json())).toContain("voice_tools.post_call_follow_up.actions");
  });

  it("stores the largest agent the schema allows, quotes, templates and all, in one row", async () => {
    // Quotes double when the action's JSON is stored inside the list's JSON.
    const template = "\"".repeat(Math.floor(ACTIONS_MAX_JSON_CHARS / 40) - 100);
    const actions = Array.from({ length: 20 }, () => ({ type: "sms", template }));
    expect(JSON.stringify(actions).length).toBeLessThanOrEqual(ACTIONS_MAX_JSON_CHARS);
    // And the most templates allowed, which every call's record keeps a copy of.
    const part = "x".repeat(65_000);
    const templates = { a: { html: part, text: part }, b: { html: part, text: part } };
    expect(JSON.stringify(templates).length).toBeLessThanOrEqual(TEMPLATES_MAX_JSON_CHARS);
    const agentId = uniqueId("agent");
    await putAgent(agentId, { templates, voice_tools: { post_call_follow_up: { enabled: true, actions } } });
    const event = callEvent({ agent_id: agentId });
    expect((await postEvent(event)).status).toBe(202);
    const stored = await runInDurableObject(ledgerStub(env, agentId, event.call_id), (_i, state) => readList(state.storage.kv).actions);
    expect(stored).toHaveLength(20);
  });

  it("refuses to run a call again once its list would outgrow the row", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, { voice_tools: { post_call_follow_up: { enabled: true, actions: [hook("a")] } } });
    const event = callEvent({ agent_id: agentId });
    expect((await postEvent(event)).status).toBe(202);
    const rerun = () => request("POST", `/calls/${event.call_id}/rerun?agent_id=${agentId}`);
    expect((await rerun()).status).toBe(202);
    // As if many runs had filled the list up to just under its bound.
    await runInDurableObject(ledgerStub(env, agentId, event.call_id), (_i, state) =>
      editActions(state, (a) => (a.idx === 0 ? { last_error: "x".repeat(ACTION_LIST_MAX_BYTES / 2 - 500) } : {})),
    );
    const refused = await rerun();
    expect(refused.status).toBe(409);
    expect(JSON.stringify(await refused.json())).toContain("too many actions to run again");
  });

  it("counts the templates the call keeps beside its list when it runs again", async () => {
    const agentId = uniqueId("agent");
    const part = "x".repeat(50_000);
    const templates = { a: { html: part, text: part }, b: { html: part, text: part } };
    await putAgent(agentId, { templates, voice_tools: { post_call_follow_up: { enabled: true, actions: [hook("a")] } } });
    const event = callEvent({ agent_id: agentId });
    expect((await postEvent(event)).status).toBe(202);
    // The list alone would fit another run (a quarter of the templates' stored size to spare),
    // the list and the templates together would not.
    const templateBytes = 2 * JSON.stringify(templates).length;
    await runInDurableObject(ledgerStub(env, agentId, event.call_id), (_i, state) =>
      editActions(state, (a) => (a.idx === 0 ? { last_error: "x".repeat((ACTION_LIST_MAX_BYTES - templateBytes / 2) / 2 - 1_000) } : {})),
    );
    const refused = await request("POST", `/calls/${event.call_id}/rerun?agent_id=${agentId}`);
    expect(refused.status).toBe(409);
    expect(JSON.stringify(await refused.json())).toContain("too many actions to run again");
  });
});

/** The tables in the object's database, the runtime's own included. */
const allTables = (state: DurableObjectState) =>
  state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").toArray().map((t) => t.name);

describe("the action list's record", () => {
  it("is the call's: a ledger with no call refuses to store a list, and has none", async () => {
    const stub = ledgerStub(env, uniqueId("agent"), uniqueId("call"));
    const outcome = await runInDurableObject(stub, (_i, state) => {
      const kv = state.storage.kv;
      let error: unknown = null;
      try {
        writeList(kv, { actions: [], mark: { call: true, actions: {} } });
      } catch (err) {
        error = err;
      }
      return { error: String(error), keys: [...kv.list()].length, list: readList(kv) };
    });
    expect(outcome.error).toContain("no call record to hold the action list");
    expect(outcome.keys).toBe(0);
    expect(outcome.list).toEqual({ actions: [], mark: { call: false, actions: {} } });
  });

  it("is created with the call: a ledger asked about a call it never had writes nothing", async () => {
    const agentId = uniqueId("agent");
    const callId = uniqueId("call");
    const stub = ledgerStub(env, agentId, callId);
    expect(await stub.snapshot()).toBeNull();
    expect(await stub.claimAll([{ index: 0, generation: 1 }])).toEqual([{ ok: false, reason: expect.any(String) }]);
    // Not even the runtime's table for key-value storage, which its first write creates.
    expect(await runInDurableObject(stub, (_i, state) => allTables(state))).toEqual([]);

    // The call's first write stores the call: one commit.
    const accepted = await stub.accept(callEvent({ agent_id: agentId, call_id: callId }), null, new Date().toISOString());
    expect(accepted.status).toBe("accepted");
    const stored = await runInDurableObject(stub, (_i, state) => ({ call: readRecord(state.storage.kv)?.call_id, tables: allTables(state) }));
    expect(stored.call).toBe(callId);
    expect(stored.tables).not.toContain("call");
  });

  it("is written by a new call as one value, after one read, and not read back", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, { voice_tools: { post_call_follow_up: { enabled: true, actions: [hook("a"), hook("b")] } } });
    const agent = await new AgentStore(env.DB, env.CONFIG_CACHE).get(agentId);
    const event = callEvent({ agent_id: agentId });
    const stub = ledgerStub(env, agentId, event.call_id);
    const sends = await watchLedgerSends(agentId, event.call_id);
    const before = Date.now();
    const operations: string[] = [];
    const outcome = await runInDurableObject(stub, async (instance, state) => {
      const restore = swapLedgerKv(instance, (real) => tracedKv(real, (operation, key) => operations.push(`${operation} ${key}`)));
      const accepted = await (instance as CallLedger).accept(event, agent, new Date().toISOString()).finally(restore);
      return { status: accepted.status, alarm: await state.storage.getAlarm() };
    });
    expect(outcome.status).toBe("accepted");
    // The duplicate check, then the call with its actions.
    expect(operations).toEqual(["get call", "put call"]);
    // Armed and queued from what was written: the log's retry, and both actions' jobs now.
    expect(outcome.alarm).toBeGreaterThanOrEqual(before + 30_000);
    expect(outcome.alarm).toBeLessThan(Date.now() + 30_000);
    expect(sends).toHaveBeenCalledTimes(1);
    expect(await pendingJobs(agentId, event.call_id)).toHaveLength(2);
    const messages = [...sends.mock.calls[0]![0]];
    expect(messages).toHaveLength(1);
    expect(messages[0]).not.toHaveProperty("delaySeconds");
    expect(JSON.stringify(messages[0]!.body)).toContain(event.call_id);
  });

  it("is stored by the next post when the first one's write failed", async () => {
    const agentId = uniqueId("agent");
    const event = callEvent({ agent_id: agentId });
    const stub = ledgerStub(env, agentId, event.call_id);
    const outcome = await runInDurableObject(stub, async (instance) => {
      // The call's record cannot be written (say, the disk is full): the whole write is undone.
      const restore = swapLedgerKv(instance, (real) =>
        tracedKv(real, (operation) => {
          if (operation === "put") throw new Error("SQLITE_FULL");
        }),
      );
      const failed = await (instance as CallLedger)
        .accept(event, null, new Date().toISOString())
        .catch((err: unknown) => String(err))
        .finally(restore);
      const retried = await (instance as CallLedger).accept(event, null, new Date().toISOString());
      return { failed, retried: retried.status };
    });
    expect(outcome).toEqual({ failed: "Error: SQLITE_FULL", retried: "accepted" });
  });
});
