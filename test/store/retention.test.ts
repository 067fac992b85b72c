import { createExecutionContext, createScheduledController, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { uniqueId } from "../helpers";

const DAY = 86_400_000;

async function seed(callId: string, receivedAt: string, status: string, updatedAt = receivedAt) {
  const id = `dlv_${callId}`;
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO calls (call_id, agent_id, status, reason, action_count, ended_at, received_at, delivery_ids) VALUES (?, 'agent_ret', 'accepted', NULL, 1, NULL, ?, json_array(?))",
    ).bind(callId, receivedAt, id),
    env.DB.prepare(
      `INSERT INTO deliveries (id, call_id, agent_id, action_index, action_type, provider, target, status, attempts, created_at, updated_at, version, attempt_log)
       VALUES (?, ?, 'agent_ret', 0, 'sms', 'outbox', NULL, ?, 1, ?, ?, 1, json_array(json_object('attempt', 1, 'started_at', ?, 'duration_ms', 5, 'outcome', 'delivered')))`,
    ).bind(id, callId, status, receivedAt, updatedAt, receivedAt),
    env.DB.prepare(
      "INSERT INTO outbox (id, delivery_id, idempotency_key, call_id, agent_id, kind, recipient, subject, body, created_at) VALUES (?, ?, ?, ?, 'agent_ret', 'sms', NULL, NULL, '{}', ?)",
    ).bind(`obx_${callId}`, id, id, callId, receivedAt),
  ]);
  return id;
}

const count = async (sql: string, id: string) => (await env.DB.prepare(sql).bind(id).first<{ n: number }>())!.n;

describe("retention", () => {
  it("the daily cron deletes log and outbox rows older than RETENTION_DAYS, keeping active deliveries", async () => {
    const now = Date.now();
    const old = await seed(uniqueId("old"), new Date(now - 31 * DAY).toISOString(), "delivered");
    const active = await seed(uniqueId("active"), new Date(now - 31 * DAY).toISOString(), "retrying");
    const recent = await seed(uniqueId("recent"), new Date(now - 29 * DAY).toISOString(), "delivered");
    // Received long ago, but replayed (or erased) 10 days ago: its ledger keeps it 20 days more.
    const changed = await seed(uniqueId("changed"), new Date(now - 40 * DAY).toISOString(), "delivered", new Date(now - 10 * DAY).toISOString());

    await worker.scheduled!(createScheduledController({ scheduledTime: now, cron: "17 3 * * *" }), env, createExecutionContext());

    expect(await count("SELECT COUNT(*) AS n FROM deliveries WHERE id = ?", old)).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM calls WHERE call_id = substr(?, 5)", old)).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM outbox WHERE delivery_id = ?", old)).toBe(0);
    for (const kept of [active, recent, changed]) {
      expect(await count("SELECT COUNT(*) AS n FROM deliveries WHERE id = ?", kept)).toBe(1);
      expect(await count("SELECT COUNT(*) AS n FROM calls WHERE call_id = substr(?, 5)", kept)).toBe(1);
    }
    expect(await count("SELECT COUNT(*) AS n FROM outbox WHERE delivery_id = ?", recent)).toBe(1);
  });
});
