import { createExecutionContext, createMessageBatch, env, getQueueResult, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import type { CallLedger } from "../../src/ledger/call-ledger";
import { ledgerStub } from "../../src/ledger/client";
import { upgradeSqlLedger } from "../../src/ledger/sql-upgrade";
import { DeliveryLog } from "../../src/store/delivery-log";
import { callEvent, pendingJobs, request, tracedKv, uniqueId } from "../helpers";

/** A call with two webhook actions, one done and one waiting, for a ledger an earlier release wrote. */
function twoActionCall() {
  const agentId = uniqueId("agent");
  const event = callEvent({ agent_id: agentId });
  return {
    agentId,
    event,
    stub: ledgerStub(env, agentId, event.call_id),
    hook: JSON.stringify({ type: "webhook", url: "https://crm.example.com/hook" }),
    at: new Date().toISOString(),
    done: `dlv_${uniqueId("done")}`,
    waiting: `dlv_${uniqueId("waiting")}`,
  };
}

/** How many rows of a D1 log table have `column` = `value`. */
const logRows = async (table: string, column: string, value: string) =>
  (await env.DB.prepare(`SELECT * FROM ${table} WHERE ${column} = ?`).bind(value).all()).results.length;

/** The ledger's own tables (the runtime's `_cf_` tables left out). */
const ledgerTables = (stub: DurableObjectStub) =>
  runInDurableObject(stub, (_i, state) =>
    state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY name")
      .toArray()
      .map((t) => t.name),
  );

/** Runs the call's pending jobs through the queue consumer, every send answered 200; returns their delivery ids. */
async function deliverPending(agentId: string, callId: string): Promise<string[]> {
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok"));
  const jobs = await pendingJobs(agentId, callId);
  const batch = createMessageBatch("actions", [{ id: "m0", timestamp: new Date(), attempts: 1, body: jobs }]);
  const ctx = createExecutionContext();
  await worker.queue!(batch as MessageBatch, env, ctx);
  expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["m0"]);
  return jobs.map((j) => j.delivery_id);
}

/** The ledger's tables as an early release wrote them: per-row log flags, the event in chunks. */
const PREVIOUS_SCHEMA = `
  CREATE TABLE call (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    agent_id TEXT NOT NULL, call_id TEXT NOT NULL, agent_name TEXT NOT NULL, agent_templates TEXT NOT NULL, agent_country TEXT,
    status TEXT NOT NULL, reason TEXT, ended_at TEXT, received_at TEXT NOT NULL, logged INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE event_chunks (seq INTEGER PRIMARY KEY, chunk TEXT NOT NULL);
  CREATE TABLE raw_chunks (seq INTEGER PRIMARY KEY, chunk TEXT NOT NULL);
  CREATE TABLE actions (
    idx INTEGER PRIMARY KEY, delivery_id TEXT NOT NULL, action TEXT NOT NULL, state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, round_attempts INTEGER NOT NULL DEFAULT 0, round_started_at INTEGER,
    generation INTEGER NOT NULL, replays INTEGER NOT NULL DEFAULT 0, claims INTEGER NOT NULL DEFAULT 0,
    lease_token INTEGER NOT NULL DEFAULT 0, leased_until INTEGER NOT NULL DEFAULT 0, in_flight INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER, last_error TEXT, provider TEXT, due_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1, logged_version INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL,
    run INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE attempts (
    idx INTEGER NOT NULL, number INTEGER NOT NULL, record TEXT NOT NULL, logged INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (idx, number));
`;

describe("a ledger with per-row log flags", () => {
  it("keeps its event, and its log flags decide what the log still needs", async () => {
    const { agentId, event, stub, hook, at, done: logged, waiting: pending } = twoActionCall();
    await runInDurableObject(stub, async (_i, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE IF EXISTS call");
      sql.exec(PREVIOUS_SCHEMA);
      sql.exec(
        "INSERT INTO call (id, agent_id, call_id, agent_name, agent_templates, status, received_at, logged) VALUES (1, ?, ?, 'Acme', '{}', 'accepted', ?, 1)",
        agentId,
        event.call_id,
        at,
      );
      sql.exec("INSERT INTO event_chunks (seq, chunk) VALUES (0, ?)", JSON.stringify(event));
      // Delivered and logged (flags set), but never written to this test's D1: a second write would show.
      sql.exec(
        "INSERT INTO actions (idx, delivery_id, action, state, attempts, generation, due_at, version, logged_version, updated_at) VALUES (0, ?, ?, 'delivered', 1, 1, ?, 3, 3, ?)",
        logged,
        hook,
        Date.now(),
        at,
      );
      sql.exec("INSERT INTO attempts (idx, number, record, logged) VALUES (0, 1, ?, 1)", JSON.stringify({ outcome: "delivered", started_at: at, duration_ms: 5 }));
      // Pending and never logged.
      sql.exec(
        "INSERT INTO actions (idx, delivery_id, action, state, generation, due_at, version, logged_version, updated_at) VALUES (1, ?, ?, 'pending', 1, ?, 1, 0, ?)",
        pending,
        hook,
        Date.now() + 3_600_000,
        at,
      );
      await state.storage.setAlarm(Date.now() + 30_000);
    });
    // The object restarts on the stored tables, as after a deploy.
    await runInDurableObject(stub, (_i, state) => state.abort("new release")).catch(() => {});

    const call = (await (await request("GET", `/calls/${event.call_id}?agent_id=${agentId}`)).json()) as any;
    expect(call.event).toEqual(event);
    expect(call.actions.map((a: any) => a.status)).toEqual(["delivered", "pending"]);

    // A stub that saw the object reset stays broken; the alarm goes through a new one.
    expect(await runDurableObjectAlarm(ledgerStub(env, agentId, event.call_id))).toBe(true);
    expect(await logRows("deliveries", "id", pending)).toBe(1);
    expect(await logRows("deliveries", "id", logged)).toBe(0);
    expect(await logRows("calls", "call_id", event.call_id)).toBe(0);
  });
});

/** The release before the action list: one row per action, the log's progress in one mark. */
const ROW_PER_ACTION_SCHEMA = `
  CREATE TABLE call (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    agent_id TEXT NOT NULL, call_id TEXT NOT NULL, agent_name TEXT NOT NULL, agent_templates TEXT NOT NULL, agent_country TEXT,
    status TEXT NOT NULL, reason TEXT, ended_at TEXT, received_at TEXT NOT NULL, log_mark TEXT, event TEXT, raw TEXT);
  CREATE TABLE actions (
    idx INTEGER PRIMARY KEY, delivery_id TEXT NOT NULL, action TEXT NOT NULL, state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, round_attempts INTEGER NOT NULL DEFAULT 0, round_started_at INTEGER,
    generation INTEGER NOT NULL, replays INTEGER NOT NULL DEFAULT 0, claims INTEGER NOT NULL DEFAULT 0,
    lease_token INTEGER NOT NULL DEFAULT 0, leased_until INTEGER NOT NULL DEFAULT 0, in_flight INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER, last_error TEXT, provider TEXT, due_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1, updated_at TEXT NOT NULL,
    run INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE attempts (
    idx INTEGER NOT NULL, number INTEGER NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (idx, number)) WITHOUT ROWID;
`;

describe("a ledger with a row per action", () => {
  afterEach(() => vi.restoreAllMocks());

  it("moves its actions into the action list once, and goes on delivering them", async () => {
    const { agentId, event, stub, hook, at, done, waiting } = twoActionCall();
    await runInDurableObject(stub, async (_i, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE IF EXISTS call");
      sql.exec(ROW_PER_ACTION_SCHEMA);
      const mark = { call: true, actions: { 0: 2, 1: 1 }, attempts: { 0: 1 } };
      sql.exec(
        "INSERT INTO call (id, agent_id, call_id, agent_name, agent_templates, status, received_at, log_mark, event) VALUES (1, ?, ?, 'Acme', '{}', 'accepted', ?, ?, ?)",
        agentId,
        event.call_id,
        at,
        JSON.stringify(mark),
        JSON.stringify(event),
      );
      sql.exec(
        "INSERT INTO actions (idx, delivery_id, action, state, attempts, generation, due_at, version, updated_at) VALUES (0, ?, ?, 'delivered', 1, 1, ?, 2, ?)",
        done,
        hook,
        Date.now(),
        at,
      );
      sql.exec("INSERT INTO attempts (idx, number, record) VALUES (0, 1, ?)", JSON.stringify({ outcome: "delivered", started_at: at, duration_ms: 5 }));
      sql.exec(
        "INSERT INTO actions (idx, delivery_id, action, state, generation, due_at, version, updated_at) VALUES (1, ?, ?, 'pending', 1, ?, 1, ?)",
        waiting,
        hook,
        Date.now(),
        at,
      );
    });
    await runInDurableObject(stub, (_i, state) => state.abort("new release")).catch(() => {});

    const fresh = ledgerStub(env, agentId, event.call_id);
    const call = (await (await request("GET", `/calls/${event.call_id}?agent_id=${agentId}`)).json()) as any;
    expect(call.actions.map((a: any) => [a.id, a.status])).toEqual([
      [done, "delivered"],
      [waiting, "pending"],
    ]);
    expect(await ledgerTables(fresh)).toEqual([]);

    // The waiting action is claimed and delivered from the list; the delivered one stays as it was.
    expect(await deliverPending(agentId, event.call_id)).toEqual([waiting]);
    const after = (await (await request("GET", `/calls/${event.call_id}?agent_id=${agentId}`)).json()) as any;
    expect(after.actions.map((a: any) => a.status)).toEqual(["delivered", "delivered"]);
  });
});

/** Two releases before: the call's actions and the log's progress in a table of their own. */
const ACTION_LIST_TABLE_SCHEMA = `
  CREATE TABLE call (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    agent_id TEXT NOT NULL, call_id TEXT NOT NULL, agent_name TEXT NOT NULL, agent_templates TEXT NOT NULL, agent_country TEXT,
    status TEXT NOT NULL, reason TEXT, ended_at TEXT, received_at TEXT NOT NULL, event TEXT, raw TEXT);
  CREATE TABLE action_list (id INTEGER PRIMARY KEY CHECK (id = 1), actions TEXT NOT NULL, log_mark TEXT NOT NULL);
`;

describe("a ledger with its action list in a table of its own", () => {
  afterEach(() => vi.restoreAllMocks());

  it("moves the list into the call's record once, and the log and delivery go on from where they were", async () => {
    const { agentId, event, stub, hook, at, done, waiting } = twoActionCall();
    const action = (idx: number, deliveryId: string, state: string, version: number) => ({
      idx, delivery_id: deliveryId, action: hook, state, attempts: state === "delivered" ? 1 : 0, round_attempts: 0,
      round_started_at: null, generation: 1, replays: 0, claims: 0, lease_token: 0, leased_until: 0, in_flight: 0,
      last_status: null, last_error: null, provider: null, due_at: Date.now(), version, updated_at: at, run: 0,
    });
    // The delivered action's row is in the log, its attempt not yet; the waiting one is in neither.
    const attempt = { outcome: "delivered", started_at: at, duration_ms: 5 };
    await new DeliveryLog(env.DB).write({
      actions: [{ id: done, call_id: event.call_id, agent_id: agentId, action_index: 0, action_type: "webhook", provider: "webhook",
        target: "https://crm.example.com/hook", status: "delivered", attempts: 1, last_status: 200, last_error: null, next_attempt_at: null,
        created_at: at, updated_at: at, version: 2, run: 0 }],
      attempts: [],
    });
    const actions = [{ ...action(0, done, "delivered", 2), unlogged: [{ number: 1, record: attempt }] }, action(1, waiting, "pending", 1)];
    await runInDurableObject(stub, async (_i, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE IF EXISTS call");
      sql.exec(ACTION_LIST_TABLE_SCHEMA);
      sql.exec(
        "INSERT INTO call (id, agent_id, call_id, agent_name, agent_templates, status, received_at, event) VALUES (1, ?, ?, 'Acme', '{}', 'accepted', ?, ?)",
        agentId,
        event.call_id,
        at,
        JSON.stringify(event),
      );
      sql.exec("INSERT INTO action_list (id, actions, log_mark) VALUES (1, ?, ?)", JSON.stringify(actions), JSON.stringify({ call: true, actions: { 0: 2 } }));
      await state.storage.setAlarm(Date.now() + 30_000);
    });
    await runInDurableObject(stub, (_i, state) => state.abort("new release")).catch(() => {});

    const fresh = ledgerStub(env, agentId, event.call_id);
    const call = (await (await request("GET", `/calls/${event.call_id}?agent_id=${agentId}`)).json()) as any;
    expect(call.event).toEqual(event);
    expect(call.actions.map((a: any) => [a.id, a.status])).toEqual([
      [done, "delivered"],
      [waiting, "pending"],
    ]);
    expect(await ledgerTables(fresh)).toEqual([]);

    // The log gets what the mark says it lacks, and nothing it already has.
    expect(await runDurableObjectAlarm(fresh)).toBe(true);
    expect(await logRows("deliveries", "id", waiting)).toBe(1);
    const logged = await new DeliveryLog(env.DB).withAttempts(done);
    expect(logged).toMatchObject({ version: 2, attempt_log: [{ attempt: 1, outcome: "delivered", duration_ms: 5 }] });
    expect(await logRows("calls", "call_id", event.call_id)).toBe(0);

    expect(await deliverPending(agentId, event.call_id)).toEqual([waiting]);
    const after = (await (await request("GET", `/calls/${event.call_id}?agent_id=${agentId}`)).json()) as any;
    expect(after.actions.map((a: any) => a.status)).toEqual(["delivered", "delivered"]);
  });
});

/** The release before this one: one table, the call's row holding its action list. */
const CALL_ROW_SCHEMA = `
  CREATE TABLE call (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    agent_id TEXT NOT NULL, call_id TEXT NOT NULL, agent_name TEXT NOT NULL, agent_templates TEXT NOT NULL, agent_country TEXT,
    status TEXT NOT NULL, reason TEXT, ended_at TEXT, received_at TEXT NOT NULL, event TEXT, raw TEXT, actions TEXT, log_progress TEXT);
  CREATE TABLE raw_chunks (seq INTEGER PRIMARY KEY, chunk TEXT NOT NULL);
`;

describe("a ledger with its call in a table", () => {
  afterEach(() => vi.restoreAllMocks());

  it("moves the call into its record once, texts kept in chunks included, and goes on delivering", async () => {
    const { agentId, event, stub, hook, at, done, waiting } = twoActionCall();
    const action = (idx: number, deliveryId: string, state: string) => ({
      idx, delivery_id: deliveryId, action: hook, state, attempts: state === "delivered" ? 1 : 0, round_attempts: 0,
      round_started_at: null, generation: 1, replays: 0, claims: 0, lease_token: 0, leased_until: 0, in_flight: 0,
      last_status: null, last_error: null, provider: null, due_at: Date.now(), version: state === "delivered" ? 2 : 1, updated_at: at, run: 0,
    });
    const raw = JSON.stringify({ message: { transcript: "long".repeat(10) } });
    await runInDurableObject(stub, async (_i, state) => {
      const sql = state.storage.sql;
      sql.exec(CALL_ROW_SCHEMA);
      sql.exec(
        "INSERT INTO call (id, agent_id, call_id, agent_name, agent_templates, agent_country, status, received_at, event, actions, log_progress) VALUES (1, ?, ?, 'Acme', '{}', 'GB', 'accepted', ?, ?, ?, ?)",
        agentId,
        event.call_id,
        at,
        JSON.stringify(event),
        JSON.stringify([action(0, done, "delivered"), action(1, waiting, "pending")]),
        JSON.stringify({ call: true, actions: { 0: 2, 1: 1 } }),
      );
      // The payload in two chunks, as a text too long for the row was kept.
      sql.exec("INSERT INTO raw_chunks (seq, chunk) VALUES (0, ?), (1, ?)", raw.slice(0, 20), raw.slice(20));
      await state.storage.setAlarm(Date.now() + 30_000);
    });
    await runInDurableObject(stub, (_i, state) => state.abort("new release")).catch(() => {});

    const fresh = ledgerStub(env, agentId, event.call_id);
    const snapshot = await runInDurableObject(fresh, (instance) => (instance as CallLedger).snapshot());
    expect(snapshot).toMatchObject({ call: { agent_name: "Acme", agent_country: "GB", status: "accepted" }, event, raw: JSON.parse(raw) });
    expect(snapshot!.actions.map((a) => [a.id, a.status])).toEqual([
      [done, "delivered"],
      [waiting, "pending"],
    ]);
    expect(await ledgerTables(fresh)).toEqual([]);
    expect(await runInDurableObject(fresh, (_i, state) => [...state.storage.kv.list()].map(([key]) => key))).toEqual(["call"]);
    // Its alarm is kept.
    expect(await runInDurableObject(fresh, (_i, state) => state.storage.getAlarm())).toBeGreaterThan(Date.now());

    expect(await deliverPending(agentId, event.call_id)).toEqual([waiting]);
    const after = (await (await request("GET", `/calls/${event.call_id}?agent_id=${agentId}`)).json()) as any;
    expect(after.actions.map((a: any) => a.status)).toEqual(["delivered", "delivered"]);
  });
});

describe("moving an earlier release's call into its record", () => {
  it("is one transaction: a write that fails leaves the tables as they were, and the next load moves them", async () => {
    const { agentId, event, stub, hook, at, waiting } = twoActionCall();
    const pending = { idx: 0, delivery_id: waiting, action: hook, state: "pending", attempts: 0, round_attempts: 0, round_started_at: null,
      generation: 1, replays: 0, claims: 0, lease_token: 0, leased_until: 0, in_flight: 0, last_status: null, last_error: null,
      provider: null, due_at: Date.now(), version: 1, updated_at: at, run: 0 };
    const failed = await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec(CALL_ROW_SCHEMA);
      state.storage.sql.exec(
        "INSERT INTO call (id, agent_id, call_id, agent_name, agent_templates, status, received_at, event, actions, log_progress) VALUES (1, ?, ?, 'Acme', '{}', 'accepted', ?, ?, ?, ?)",
        agentId,
        event.call_id,
        at,
        JSON.stringify(event),
        JSON.stringify([pending]),
        JSON.stringify({ call: false, actions: {} }),
      );
      // The disk fills as the record is written.
      const full = tracedKv(state.storage.kv, (operation) => {
        if (operation === "put") throw new Error("SQLITE_FULL");
      });
      const error = (() => {
        try {
          upgradeSqlLedger({ sql: state.storage.sql, kv: full, transactionSync: <T>(fn: () => T) => state.storage.transactionSync(fn) } as DurableObjectStorage);
          return null;
        } catch (err) {
          return String(err);
        }
      })();
      return {
        error,
        rows: state.storage.sql.exec("SELECT call_id, actions FROM call").toArray(),
        // The columns it added on the way are undone with the rest.
        columns: state.storage.sql.exec("SELECT name FROM pragma_table_info('call')").toArray().length,
        keys: [...state.storage.kv.list()].length,
      };
    });
    expect(failed.error).toContain("SQLITE_FULL");
    expect(failed.rows).toEqual([{ call_id: event.call_id, actions: JSON.stringify([pending]) }]);
    expect(failed.columns).toBe(14);
    expect(failed.keys).toBe(0);
    await runInDurableObject(stub, (_i, state) => state.abort("restart")).catch(() => {});

    const fresh = ledgerStub(env, agentId, event.call_id);
    const snapshot = await runInDurableObject(fresh, (instance) => (instance as CallLedger).snapshot());
    expect(snapshot!.actions.map((a) => [a.id, a.status])).toEqual([[waiting, "pending"]]);
    expect(await ledgerTables(fresh)).toEqual([]);
  });
});
