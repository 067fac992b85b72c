import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DeliveryLog } from "../../src/store/delivery-log";
import { iso, loggedDelivery } from "../fixtures/log-rows";

/**
 * Migration 0017: a call's row lists its deliveries' ids, built from the deliveries each call
 * already had; deliveries_by_agent goes. This file's storage is its own, so the calls table can
 * be put back as the release before left it.
 */

const AT = Date.UTC(2035, 0, 1);

describe("migration 0017", () => {
  it("lists each call's existing deliveries in its row, and refuses a call row written without them", async () => {
    await env.DB.batch(
      [
        "DROP TABLE calls",
        `CREATE TABLE calls (call_id TEXT NOT NULL, agent_id TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, action_count INTEGER NOT NULL,
           ended_at TEXT, received_at TEXT NOT NULL, PRIMARY KEY (received_at, agent_id, call_id)) WITHOUT ROWID`,
        "CREATE INDEX deliveries_by_agent ON deliveries (agent_id, created_at)",
      ].map((q) => env.DB.prepare(q)),
    );
    const insertCall = (callId: string, agentId: string, at: number, actions: number) =>
      env.DB.prepare(
        "INSERT INTO calls (call_id, agent_id, status, reason, action_count, ended_at, received_at) VALUES (?, ?, 'accepted', NULL, ?, NULL, ?)",
      ).bind(callId, agentId, actions, iso(at));
    const two = [0, 1].map((i) => loggedDelivery(AT, { agent_id: "agent_m", call_id: "call_two", action_index: i, id: `dlv_two_${i}` }));
    // Same agent and instant, another call: its delivery must not be listed in the first's row.
    const beside = loggedDelivery(AT, { agent_id: "agent_m", call_id: "call_beside", id: "dlv_beside" });
    await env.DB.batch([insertCall("call_two", "agent_m", AT, 2), insertCall("call_beside", "agent_m", AT, 1), insertCall("call_none", "agent_m", AT + 1, 0)]);
    await new DeliveryLog(env.DB).write({ actions: [...two, beside], attempts: [] });

    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0017_"))!;
    await env.DB.batch(migration.queries.map((q) => env.DB.prepare(q)));

    const { results } = await env.DB.prepare("SELECT call_id, delivery_ids FROM calls WHERE agent_id = 'agent_m' ORDER BY call_id").all<{ call_id: string; delivery_ids: string }>();
    expect(results.map((r) => [r.call_id, (JSON.parse(r.delivery_ids) as string[]).sort()])).toEqual([
      ["call_beside", ["dlv_beside"]],
      ["call_none", []],
      ["call_two", ["dlv_two_0", "dlv_two_1"]],
    ]);
    const log = new DeliveryLog(env.DB);
    const ids = async (filter: Parameters<DeliveryLog["list"]>[0]) => (await log.list(filter))!.deliveries.map((d) => d.id);
    expect(await ids({ agent_id: "agent_m", limit: 10 })).toEqual(["dlv_two_1", "dlv_two_0", "dlv_beside"]);
    expect(await ids({ call_id: "call_two", limit: 10 })).toEqual(["dlv_two_1", "dlv_two_0"]);
    const indexes = await env.DB.prepare("SELECT name FROM sqlite_master WHERE name = 'deliveries_by_agent'").all();
    expect(indexes.results).toEqual([]);

    // The release before writes a call's row without the list: refused, so its ledger tries again.
    await expect(insertCall("call_late", "agent_m", AT + 2, 1).run()).rejects.toThrow(/NOT NULL constraint failed: calls.delivery_ids/);
  });
});
