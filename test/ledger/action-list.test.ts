import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ACTION_LIST_MAX_BYTES, readList, writeList } from "../../src/ledger/action-list";
import type { CallLedger } from "../../src/ledger/call-ledger";
import { ledgerStub } from "../../src/ledger/client";
import { ACTIONS_MAX_JSON_CHARS } from "../../src/schemas/agent";
import { AgentStore } from "../../src/store/agents";
import { callEvent, editActions, pendingJobs, postEvent, putAgent, request, uniqueId, watchLedgerSends } from "../helpers";

/** A call's actions are one row of at most 2 MB: what would not fit is refused before it is stored. */

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

  it("stores the largest agent the schema allows, quotes and all, in one row", async () => {
    // Quotes double when the action's JSON is stored inside the list's JSON.
    const template = "\"".repeat(Math.floor(ACTIONS_MAX_JSON_CHARS / 40) - 100);
    const actions = Array.from({ length: 20 }, () => ({ type: "sms", template }));
    expect(JSON.stringify(actions).length).toBeLessThanOrEqual(ACTIONS_MAX_JSON_CHARS);
    const agentId = uniqueId("agent");
    await putAgent(agentId, { voice_tools: { post_call_follow_up: { enabled: true, actions } } });
    const event = callEvent({ agent_id: agentId });
    expect((await postEvent(event)).status).toBe(202);
    const stored = await runInDurableObject(ledgerStub(env, agentId, event.call_id), (_i, state) => readList(state.storage.sql).actions);
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
      editActions(state, (a) => (a.idx === 0 ? { last_error: "x".repeat(ACTION_LIST_MAX_BYTES - 500) } : {})),
    );
    const refused = await rerun();
    expect(refused.status).toBe(409);
    expect(JSON.stringify(await refused.json())).toContain("too many actions to run again");
  });
});

describe("the action list's row", () => {
  it("is the call's: a ledger with no call refuses to store a list, and has none", async () => {
    const stub = ledgerStub(env, uniqueId("agent"), uniqueId("call"));
    const outcome = await runInDurableObject(stub, (_i, state) => {
      const sql = state.storage.sql;
      // A call table without the call's row (the ledger creates the table with the row).
      sql.exec("CREATE TABLE call (id INTEGER PRIMARY KEY, actions TEXT, log_progress TEXT)");
      let error: unknown = null;
      try {
        writeList(sql, { actions: [], mark: { call: true, actions: {} } });
      } catch (err) {
        error = err;
      }
      return { error: String(error), rows: sql.exec("SELECT COUNT(*) AS n FROM call").one().n, list: readList(sql) };
    });
    expect(outcome.error).toContain("no call row to hold the action list");
    expect(outcome.rows).toBe(0);
    expect(outcome.list).toEqual({ actions: [], mark: { call: false, actions: {} } });
  });

  it("is created with the call: a ledger asked about a call it never had writes nothing", async () => {
    const agentId = uniqueId("agent");
    const callId = uniqueId("call");
    const stub = ledgerStub(env, agentId, callId);
    expect(await stub.snapshot()).toBeNull();
    expect(await stub.claimAll([{ index: 0, generation: 1 }])).toEqual([{ ok: false, reason: expect.any(String) }]);
    const stored = await runInDurableObject(stub, (_i, state) => ({
      tables: state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'").toArray(),
    }));
    expect(stored.tables).toEqual([]);

    // The call's first write creates the table and stores the call: one commit.
    const accepted = await stub.accept(callEvent({ agent_id: agentId, call_id: callId }), null, new Date().toISOString());
    expect(accepted.status).toBe("accepted");
    expect(await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("SELECT call_id FROM call").toArray())).toEqual([{ call_id: callId }]);
  });

  it("is written by a new call's two statements, its table and its row, and not read back", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, { voice_tools: { post_call_follow_up: { enabled: true, actions: [hook("a"), hook("b")] } } });
    const agent = await new AgentStore(env.DB, env.CONFIG_CACHE).get(agentId);
    const event = callEvent({ agent_id: agentId });
    const stub = ledgerStub(env, agentId, event.call_id);
    const sends = await watchLedgerSends(agentId, event.call_id);
    const before = Date.now();
    const outcome = await runInDurableObject(stub, async (instance, state) => {
      const ledger = instance as unknown as { sql: SqlStorage; accept: CallLedger["accept"] };
      const real = ledger.sql;
      const statements: string[] = [];
      ledger.sql = {
        ...real,
        exec: (query: string, ...bindings: unknown[]) => {
          statements.push(query.trim().split(/\s+/).slice(0, 3).join(" "));
          return real.exec(query, ...bindings);
        },
      } as SqlStorage;
      const accepted = await ledger.accept(event, agent, new Date().toISOString());
      ledger.sql = real;
      return { status: accepted.status, statements, alarm: await state.storage.getAlarm() };
    });
    expect(outcome.status).toBe("accepted");
    expect(outcome.statements).toEqual(["CREATE TABLE IF", "INSERT INTO call"]);
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

  it("is created again by the next post when the first one's write failed", async () => {
    const agentId = uniqueId("agent");
    const event = callEvent({ agent_id: agentId });
    const stub = ledgerStub(env, agentId, event.call_id);
    const outcome = await runInDurableObject(stub, async (instance) => {
      const ledger = instance as unknown as { sql: SqlStorage; accept: CallLedger["accept"] };
      const real = ledger.sql;
      // The call's row cannot be written (say, the disk is full): the whole write is undone.
      ledger.sql = {
        ...real,
        exec: (query: string, ...bindings: unknown[]) => {
          if (query.startsWith("INSERT INTO call")) throw new Error("SQLITE_FULL");
          return real.exec(query, ...bindings);
        },
      } as SqlStorage;
      const failed = await ledger.accept(event, null, new Date().toISOString()).catch((err: unknown) => String(err));
      ledger.sql = real;
      const retried = await ledger.accept(event, null, new Date().toISOString());
      return { failed, retried: retried.status };
    });
    expect(outcome).toEqual({ failed: "Error: SQLITE_FULL", retried: "accepted" });
  });
});
