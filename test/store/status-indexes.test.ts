import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Call, Delivery } from "../../src/schemas/delivery";
import { type CallFilter, CallLog } from "../../src/store/calls";
import { type DeliveryFilter, DeliveryLog, type LoggedCall } from "../../src/store/delivery-log";
import { deliverySettlesStatements, readStats } from "../../src/store/stats";
import { callListing, iso, loggedCall, loggedDelivery } from "../fixtures/log-rows";
import { uniqueId } from "../helpers";

/**
 * The status indexes are partial (migrations/0011): calls_by_status leaves out 'accepted',
 * deliveries_by_status 'delivered'. These tests read the plans SQLite makes for the log's real
 * queries against the D1 binding, and the rows D1 reports written.
 */

interface Query {
  sql: string;
  args: unknown[];
}

/**
 * A D1Database that records each statement's SQL and arguments before handing it to the real
 * binding. With `run: false` its batches run nothing, for statements that would delete.
 */
function recording({ run = true } = {}) {
  const seen: Query[] = [];
  const batches: D1Result[][] = [];
  const db = {
    prepare(sql: string) {
      const statement = env.DB.prepare(sql);
      return {
        bind: (...args: unknown[]) => {
          seen.push({ sql, args });
          return statement.bind(...args);
        },
      };
    },
    async batch(statements: D1PreparedStatement[]) {
      const results = run ? await env.DB.batch(statements) : [];
      batches.push(results);
      return results;
    },
  } as unknown as D1Database;
  return { db, seen, batches };
}

/** EXPLAIN QUERY PLAN's lines for a query, with the same arguments. */
async function planOf({ sql, args }: Query): Promise<string[]> {
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...args)
    .all<{ detail: string }>();
  return results.map((r) => r.detail);
}

/** The plan of the query DeliveryLog.list runs for this filter. */
async function deliveryListPlan(filter: Omit<DeliveryFilter, "limit">): Promise<string[]> {
  const { db, seen } = recording();
  await new DeliveryLog(db).list({ ...filter, limit: 50 });
  expect(seen).toHaveLength(1);
  return planOf(seen[0]!);
}

/** The plan of the query CallLog.list runs for this filter. */
async function callListPlan(filter: Omit<CallFilter, "limit">): Promise<string[]> {
  const { db, seen } = recording();
  await new CallLog(db).list({ ...filter, limit: 50 });
  expect(seen).toHaveLength(1);
  return planOf(seen[0]!);
}

/** No line reads a whole table without an index (`SCAN deliveries`, `SCAN calls`, `SCAN d`...). */
const fullScans = (plan: string[]) => plan.filter((line) => /^SCAN \S+$/.test(line));

/** A list's plan: it reads `index` and needs no sort (the index gives newest first). */
function expectListPlan(plan: string[], line: RegExp) {
  expect(plan, plan.join("\n")).toHaveLength(1);
  expect(plan[0]).toMatch(line);
  expect(fullScans(plan)).toEqual([]);
  expect(plan.join("\n")).not.toContain("TEMP B-TREE");
}

const HOUR = 3_600_000;
let hours = 0;
/** An hour of its own, years ahead: no other test's rows fall in its window. */
const ownHour = () => Date.UTC(2033, 0, 1) + hours++ * 24 * HOUR;

const delivery = loggedDelivery;

const FAILED = { status: "failed", last_status: 400, last_error: "HTTP 400" } as const;

/** The call row a delivery belongs to, as the ledger logs it beside the delivery. */
const callOf = (d: Delivery): LoggedCall => ({
  call_id: d.call_id,
  agent_id: d.agent_id,
  status: "accepted",
  reason: null,
  action_count: 1,
  ended_at: null,
  received_at: d.created_at,
  delivery_ids: [d.id],
});

const call = loggedCall;

/** Logs a call with its deliveries, as the ledger does: the call's row listing them. */
const logCall = (log: DeliveryLog, c: LoggedCall, actions: Delivery[]) => log.write({ call: callListing(c, actions), actions, attempts: [] });

describe("deliveries_by_status is partial, and the delivery list still reads an index for every filter", () => {
  it("reads deliveries_by_status for a status other than delivered", async () => {
    for (const status of ["failed", "retrying", "pending", "gone", "skipped", "unknown"] as const) {
      expectListPlan(await deliveryListPlan({ status }), /^SEARCH deliveries USING INDEX deliveries_by_status \(status=\?\)$/);
    }
    expectListPlan(
      await deliveryListPlan({ status: "failed", since: "2033-01-01T00:00:00Z", until: "2033-02-01T00:00:00Z" }),
      /^SEARCH deliveries USING INDEX deliveries_by_status \(status=\? AND created_at>\? AND created_at<\?\)$/,
    );
    expectListPlan(
      await deliveryListPlan({ status: "failed", cursor: btoa(JSON.stringify(["2033-01-01T00:00:00.000Z", "dlv_x"])) }),
      /^SEARCH deliveries USING INDEX deliveries_by_status \(status=\?\)$/,
    );
  });

  it("reads deliveries_by_status for an agent's failed deliveries", async () => {
    expectListPlan(await deliveryListPlan({ agent_id: "agent_abc123", status: "failed" }), /^SEARCH deliveries USING INDEX deliveries_by_status \(status=\?\)$/);
  });

  // Deliveries have no time index (migrations/0015) nor an agent's (0017): the calls key, newest
  // first, leads, and each call's deliveries are the ids its row lists, read by primary key in
  // id order; the order needs no sort.
  it("reads the calls key newest first, then each call's deliveries, for delivered, a type or no status", async () => {
    const throughCalls = (plan: string[], calls: RegExp) => {
      expect(plan, plan.join("\n")).toHaveLength(4);
      expect(plan[0]).toMatch(calls);
      expect(plan.slice(1)).toEqual(["SEARCH deliveries USING PRIMARY KEY (id=?)", "CORRELATED LIST SUBQUERY 1", "SCAN json_each VIRTUAL TABLE INDEX 1:"]);
    };
    throughCalls(await deliveryListPlan({ status: "delivered" }), /^SCAN calls$/);
    throughCalls(await deliveryListPlan({}), /^SCAN calls$/);
    throughCalls(await deliveryListPlan({ type: "sms" }), /^SCAN calls$/);
    throughCalls(await deliveryListPlan({ status: "delivered", since: "2033-01-01T00:00:00Z" }), /^SEARCH calls USING PRIMARY KEY \(received_at>\?\)$/);
    const cursor = btoa(JSON.stringify(["2033-01-01T00:00:00.000Z", "agent_x", "call_x", "dlv_x"]));
    throughCalls(await deliveryListPlan({ cursor }), /^SEARCH calls USING PRIMARY KEY \(received_at<\?\)$/);
    // An agent's calls in calls_by_agent; its order leaves only each call's few deliveries to sort.
    const agentsCalls = (plan: string[], calls: RegExp) => {
      expect(plan, plan.join("\n")).toHaveLength(5);
      throughCalls(plan.slice(0, 4), calls);
      expect(plan[4]).toBe("USE TEMP B-TREE FOR LAST TERM OF ORDER BY");
    };
    agentsCalls(await deliveryListPlan({ agent_id: "agent_abc123", status: "delivered" }), /^SEARCH calls USING INDEX calls_by_agent \(agent_id=\?\)$/);
    agentsCalls(await deliveryListPlan({ agent_id: "agent_abc123", cursor }), /^SEARCH calls USING INDEX calls_by_agent \(agent_id=\? AND received_at<\?\)$/);
    agentsCalls(
      await deliveryListPlan({ agent_id: "agent_abc123", type: "sms", since: "2033-01-01T00:00:00Z" }),
      /^SEARCH calls USING INDEX calls_by_agent \(agent_id=\? AND received_at>\?\)$/,
    );
  });

  it("pages through calls received at the same instant, and refuses another list's cursor", async () => {
    const at = ownHour();
    const log = new DeliveryLog(env.DB);
    const calls = [call(at), call(at), call(at)];
    const of = (c: Call, index: number) =>
      delivery(at, { call_id: c.call_id, agent_id: c.agent_id, action_index: index, id: `dlv_${c.call_id}_${index}` });
    for (const c of calls) await logCall(log, c, [of(c, 0), of(c, 1)]);
    const window = { since: iso(at), until: iso(at + 1) };
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = (await log.list({ ...window, limit: 4, ...(cursor ? { cursor } : {}) }))!;
      seen.push(...page.deliveries.map((d) => d.id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
    expect([...seen].sort()).toEqual(calls.flatMap((c) => [of(c, 0).id, of(c, 1).id]).sort());

    // A cursor of a list led by an index of deliveries does not read here, nor the other way.
    expect(await log.list({ ...window, limit: 4, cursor: btoa(JSON.stringify([iso(at), "dlv_x"])) })).toBeNull();
    // An agent's list is led by the calls too (migrations/0017): its cursors from before are refused.
    expect(await log.list({ agent_id: calls[0]!.agent_id, limit: 4, cursor: btoa(JSON.stringify([iso(at), "dlv_x"])) })).toBeNull();
    expect(await log.list({ status: "failed", limit: 4, cursor: btoa(JSON.stringify([iso(at), "a", "c", "dlv_x"])) })).toBeNull();
  });

  it("is not used by a bound status alone: the list's literal term is what lets the planner use it", async () => {
    const plan = await planOf({ sql: "SELECT * FROM deliveries WHERE status = ? ORDER BY created_at DESC, id DESC LIMIT ?", args: ["failed", 51] });
    expect(plan.join("\n")).not.toContain("deliveries_by_status");
  });

  it("lists by status as before", async () => {
    const at = ownHour();
    const agent = uniqueId("agent");
    const delivered = delivery(at, { agent_id: agent });
    const failed = delivery(at + 1_000, { agent_id: agent, ...FAILED });
    const retrying = delivery(at + 2_000, { agent_id: agent, status: "retrying", last_status: 503, next_attempt_at: iso(at + 60_000) });
    const log = new DeliveryLog(env.DB);
    // Each with its call, as the ledger logs them: a list not led by an agent or a rare status finds deliveries through their calls.
    const logged = (d: Delivery) => log.write({ call: callOf(d), actions: [d], attempts: [] });
    for (const d of [delivered, failed, retrying]) await logged(d);
    const window = { since: iso(at), until: iso(at + HOUR) };
    const ids = async (filter: Omit<DeliveryFilter, "limit">) => (await log.list({ ...filter, limit: 50 }))!.deliveries.map((d) => d.id);

    expect(await ids({ status: "failed", ...window })).toEqual([failed.id]);
    expect(await ids({ status: "failed", agent_id: agent })).toEqual([failed.id]);
    expect(await ids({ status: "delivered", ...window })).toEqual([delivered.id]);
    expect(await ids({ status: "delivered", agent_id: agent })).toEqual([delivered.id]);
    expect(await ids({ status: "retrying", agent_id: agent })).toEqual([retrying.id]);
    expect(await ids({ agent_id: agent })).toEqual([retrying.id, failed.id, delivered.id]);

    // Delivered at last: the row leaves the partial index and is listed as delivered.
    await log.write({ actions: [{ ...retrying, status: "delivered", attempts: 2, last_status: 200, next_attempt_at: null, version: 3 }], attempts: [] });
    expect(await ids({ status: "retrying", agent_id: agent })).toEqual([]);
    expect(await ids({ status: "retrying", ...window })).toEqual([]);
    expect(await ids({ status: "delivered", ...window })).toEqual([retrying.id, delivered.id]);

    // Pages follow one another through the partial index.
    const more = delivery(at + 3_000, { agent_id: agent, ...FAILED });
    await logged(more);
    const first = (await log.list({ status: "failed", ...window, limit: 1 }))!;
    expect(first.deliveries.map((d) => d.id)).toEqual([more.id]);
    const second = (await log.list({ status: "failed", ...window, limit: 1, cursor: first.next_cursor! }))!;
    expect(second.deliveries.map((d) => d.id)).toEqual([failed.id]);
    expect(second.next_cursor).toBeNull();
  });

  it("writes one row less for a delivery logged as delivered than for one logged as failed", async () => {
    const at = ownHour();
    const rowsWritten = async (row: Delivery) => {
      const { db, batches } = recording();
      await new DeliveryLog(db).write({ actions: [row], attempts: [] });
      // The settle counted into the hourly stats, then the row itself.
      expect(batches).toHaveLength(1);
      expect(batches[0]).toHaveLength(2);
      return batches[0]![1]!.meta.rows_written;
    };
    const delivered = await rowsWritten(delivery(at));
    const failed = await rowsWritten(delivery(at, FAILED));
    expect(delivered).toBe(failed - 1);
  });
});

describe("calls_by_status is partial, and the call list still reads an index for every filter", () => {
  it("reads calls_by_status for a status other than accepted", async () => {
    for (const status of ["no_actions", "unrouted", "disabled"] as const) {
      expectListPlan(await callListPlan({ status }), /^SEARCH calls USING INDEX calls_by_status \(status=\?\)$/);
    }
    expectListPlan(
      await callListPlan({ status: "no_actions", since: "2033-01-01T00:00:00Z" }),
      /^SEARCH calls USING INDEX calls_by_status \(status=\? AND received_at>\?\)$/,
    );
  });

  it("reads the table in its key's order, newest first, for accepted or no status, and the agent's index for an agent", async () => {
    // The table is keyed by (received_at, agent_id, call_id) (migrations/0014): SQLite's plan
    // for reading it in key order is a bare `SCAN calls`, which LIMIT stops, and no sort.
    for (const filter of [{ status: "accepted" as const }, {}]) {
      const plan = await callListPlan(filter);
      expect(plan, plan.join("\n")).toEqual(["SCAN calls"]);
    }
    expectListPlan(
      await callListPlan({ status: "accepted", since: "2033-01-01T00:00:00Z", until: "2033-02-01T00:00:00Z" }),
      /^SEARCH calls USING PRIMARY KEY \(received_at>\? AND received_at<\?\)$/,
    );
    expectListPlan(await callListPlan({ agent_id: "agent_abc123", status: "no_actions" }), /^SEARCH calls USING INDEX calls_by_agent \(agent_id=\?\)$/);
    expectListPlan(await callListPlan({ agent_id: "agent_abc123", status: "accepted" }), /^SEARCH calls USING INDEX calls_by_agent \(agent_id=\?\)$/);
  });

  it("lists by status as before", async () => {
    const at = ownHour();
    const accepted = call(at);
    const none = call(at + 1_000, { status: "no_actions", reason: "no actions configured", action_count: 0 });
    const log = new DeliveryLog(env.DB);
    await log.write({ call: accepted, actions: [], attempts: [] });
    await log.write({ call: none, actions: [], attempts: [] });
    const window = { since: iso(at), until: iso(at + HOUR) };
    const ids = async (filter: Omit<CallFilter, "limit">) => (await new CallLog(env.DB).list({ ...filter, limit: 50 }))!.calls.map((c) => c.call_id);

    expect(await ids({ status: "no_actions", ...window })).toEqual([none.call_id]);
    expect(await ids({ status: "accepted", ...window })).toEqual([accepted.call_id]);
    expect(await ids({ status: "unrouted", ...window })).toEqual([]);
    expect(await ids(window)).toEqual([none.call_id, accepted.call_id]);

    // Re-run once its agent is fixed: accepted now, out of the partial index.
    await log.write({ call: { ...none, status: "accepted", reason: null, action_count: 1 }, actions: [], attempts: [] });
    expect(await ids({ status: "no_actions", ...window })).toEqual([]);
    expect(await ids({ status: "accepted", ...window })).toEqual([none.call_id, accepted.call_id]);
  });

  it("writes one row less for an accepted call than for one with no actions", async () => {
    const at = ownHour();
    const rowsWritten = async (row: LoggedCall) => {
      const { db, batches } = recording();
      await new DeliveryLog(db).write({ call: row, actions: [], attempts: [] });
      expect(batches).toHaveLength(1);
      expect(batches[0]).toHaveLength(1);
      return batches[0]![0]!.meta.rows_written;
    };
    const accepted = await rowsWritten(call(at));
    const none = await rowsWritten(call(at, { status: "no_actions", reason: "no actions configured", action_count: 0 }));
    expect(accepted).toBe(none - 1);
  });
});

describe("the log's other queries on status stay indexed", () => {
  it("retryingForTarget reads only its partial index", async () => {
    const { db, seen } = recording();
    await new DeliveryLog(db).retryingForTarget("https://crm.example.com/hook", "dlv_x", 20);
    expect(seen).toHaveLength(1);
    const plan = await planOf(seen[0]!);
    expect(plan[0]).toMatch(/^SEARCH deliveries USING INDEX deliveries_retrying_by_target \(target=\?\)$/);
    expect(fullScans(plan)).toEqual([]);
  });

  it("the retention sweep finds old settled rows through the calls key", async () => {
    const { db, seen } = recording({ run: false });
    await new DeliveryLog(db).deleteOlderThan("2000-01-01T00:00:00.000Z");
    expect(seen).toHaveLength(2);
    const plans = await Promise.all(seen.map(planOf));
    for (const plan of plans) expect(fullScans(plan), plan.join("\n")).toEqual([]);
    expect(plans[0]).toContain("SEARCH calls USING PRIMARY KEY (received_at<?)");
    expect(plans[0]).toContain("SEARCH deliveries USING PRIMARY KEY (id=?)");
    expect(plans[1]).toContain("SEARCH calls USING PRIMARY KEY (received_at<?)");
  });
});

describe("a call's deliveries are found through the call, without an index of their own", () => {
  // The call's row lists its deliveries' ids (migrations/0017): each is read by primary key,
  // and the call's few deliveries are sorted.
  const callsDeliveries = [
    "SEARCH calls USING INDEX calls_by_call_id (call_id=?)",
    "SEARCH deliveries USING PRIMARY KEY (id=?)",
    "CORRELATED LIST SUBQUERY 1",
    "SCAN json_each VIRTUAL TABLE INDEX 1:",
    "USE TEMP B-TREE FOR ORDER BY",
  ];
  it("reads the call by its id, then its deliveries by theirs, and never a whole table", async () => {
    for (const filter of [
      { call_id: "call_x" },
      { call_id: "call_x", status: "failed" as const },
      { call_id: "call_x", status: "delivered" as const },
      { call_id: "call_x", agent_id: "agent_abc123" },
    ]) {
      expect(await deliveryListPlan(filter)).toEqual(callsDeliveries);
    }
  });

  it("lists exactly the call's deliveries, across its runs and beside another call received at the same instant", async () => {
    const at = ownHour();
    const log = new DeliveryLog(env.DB);
    const mine = call(at);
    const same = call(at, { call_id: mine.call_id });
    const neighbour = call(at, { agent_id: mine.agent_id });
    const of = (c: Call, index: number, over: Partial<Delivery> = {}) =>
      delivery(at, { call_id: c.call_id, agent_id: c.agent_id, action_index: index, id: `dlv_${c.agent_id}_${c.call_id}_${index}`, ...over });
    await logCall(log, mine, [of(mine, 0), of(mine, 1, FAILED), of(mine, 2, { run: 1 })]);
    await logCall(log, same, [of(same, 0)]);
    await logCall(log, neighbour, [of(neighbour, 0)]);
    const ids = async (filter: Omit<DeliveryFilter, "limit">) => (await log.list({ ...filter, limit: 50 }))!.deliveries.map((d) => d.id).sort();

    expect(await ids({ call_id: mine.call_id, agent_id: mine.agent_id })).toEqual([0, 1, 2].map((i) => of(mine, i).id).sort());
    expect(await ids({ call_id: mine.call_id })).toEqual([...[0, 1, 2].map((i) => of(mine, i).id), of(same, 0).id].sort());
    expect(await ids({ call_id: mine.call_id, agent_id: mine.agent_id, status: "failed" })).toEqual([of(mine, 1).id]);
    expect(await ids({ call_id: neighbour.call_id })).toEqual([of(neighbour, 0).id]);
    expect(await ids({ call_id: uniqueId("call") })).toEqual([]);

    // Pages of one call follow one another.
    const first = (await log.list({ call_id: mine.call_id, agent_id: mine.agent_id, limit: 2 }))!;
    const second = (await log.list({ call_id: mine.call_id, agent_id: mine.agent_id, limit: 2, cursor: first.next_cursor! }))!;
    expect([...first.deliveries, ...second.deliveries].map((d) => d.id).sort()).toEqual([0, 1, 2].map((i) => of(mine, i).id).sort());
    expect(second.next_cursor).toBeNull();
  });

  it("a ledger at the end of its retention deletes its call's rows through the same indexes", async () => {
    const { db, seen } = recording({ run: false });
    await new DeliveryLog(db).deleteCall({ agent_id: "agent_x", call_id: "call_x", received_at: "2033-01-01T00:00:00.000Z" });
    const plans = await Promise.all(seen.map(planOf));
    // The ids its call row lists, and the ids its ledger holds: both by the primary key.
    expect(plans[0]).toEqual([
      "MULTI-INDEX OR",
      "INDEX 1",
      "LIST SUBQUERY 1",
      "SEARCH calls USING PRIMARY KEY (received_at=? AND agent_id=? AND call_id=?)",
      "SCAN listed VIRTUAL TABLE INDEX 1:",
      "CREATE BLOOM FILTER",
      "SEARCH deliveries USING PRIMARY KEY (id=?)",
      "INDEX 2",
      "LIST SUBQUERY 2",
      "SCAN json_each VIRTUAL TABLE INDEX 1:",
      "CREATE BLOOM FILTER",
      "SEARCH deliveries USING PRIMARY KEY (id=?)",
    ]);
    expect(plans[1]).toEqual(["SEARCH calls USING PRIMARY KEY (received_at=? AND agent_id=? AND call_id=?)"]);
  });

  it("retention looks a call's remaining deliveries up the same way", async () => {
    const { db, seen } = recording({ run: false });
    await new DeliveryLog(db).deleteOlderThan("2033-01-01T00:00:00.000Z");
    const plan = await planOf(seen.find((q) => q.sql.includes("DELETE FROM calls"))!);
    expect(plan).toContain("SEARCH deliveries USING PRIMARY KEY (id=?)");
    expect(fullScans(plan)).toEqual([]);
    // Its deliveries, and their siblings' states, by the ids the call lists.
    const deliveries = await planOf(seen.find((q) => q.sql.includes("DELETE FROM deliveries"))!);
    expect(deliveries).not.toContain("SCAN deliveries");
    expect(deliveries.filter((step) => step === "SEARCH sibling USING PRIMARY KEY (id=?)")).toHaveLength(1);
  });

  it("writes a delivery logged as delivered as one row, and its call's row with the ids listed", async () => {
    const { db, batches } = recording();
    const d = delivery(ownHour());
    await new DeliveryLog(db).write({ call: callOf(d), actions: [d], attempts: [] });
    // The call's row with calls_by_call_id and calls_by_agent, the stats rollup, the delivery.
    expect(batches[0]!.map((r) => r.meta.rows_written)).toEqual([3, 1, 1]);
  });
});

describe("the stats rollups stay indexed", () => {
  it("a write's settles look each delivery up by its key, and GET /stats reads the window's hours by the rollups' key", async () => {
    const at = ownHour();
    const rows = [0, 1, 2].map((action_index) => delivery(at, { action_index, agent_id: "agent_x", id: uniqueId("dlv"), status: "delivered" as const, version: 3 }));
    const { db, seen } = recording();
    deliverySettlesStatements(db, rows);
    await readStats(db, { window: "30d", group_by: "agent", now: at });
    expect(seen).toHaveLength(3);
    const [count, outbound, deliveries] = await Promise.all(seen.map(planOf));
    expect(count, count!.join("\n")).toContain("SEARCH d USING PRIMARY KEY (id=?) LEFT-JOIN");
    expect(outbound, outbound!.join("\n")).toContain("SEARCH stats_hourly USING PRIMARY KEY (hour>?)");
    expect(deliveries, deliveries!.join("\n")).toContain("SEARCH r USING PRIMARY KEY (hour>?)");
    // Scans here are of the statement's own parameter (json_each) and subqueries, never of a table.
    const tableScans = (plan: string[]) => fullScans(plan).filter((line) => !/^SCAN \(subquery-\d+\)$/.test(line));
    for (const plan of [count!, outbound!, deliveries!]) expect(tableScans(plan), plan.join("\n")).toEqual([]);
  });
});
