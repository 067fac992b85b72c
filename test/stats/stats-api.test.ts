import { createExecutionContext, createScheduledController, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { Delivery } from "../../src/schemas/delivery";
import { EXAMPLE_OUTBOUND_CALL, type OutboundCall } from "../../src/schemas/outbound";
import { STATS_GROUP_BY } from "../../src/schemas/stats";
import { DeliveryLog } from "../../src/store/delivery-log";
import { OutboundCallIndex } from "../../src/store/outbound-calls";
import { readStats } from "../../src/store/stats";
import { INGEST, request, uniqueId } from "../helpers";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

let n = 0;
/** A delivery that settled at `settledAt`, accepted `latency` ms before. */
function settled(settledAt: number, over: Partial<Delivery> = {}, latency = 1_500): Delivery {
  return {
    id: uniqueId("dlv"),
    call_id: uniqueId("call"),
    agent_id: "agent_x",
    action_index: n++,
    action_type: "webhook",
    provider: "webhook",
    target: null,
    status: "delivered",
    attempts: 1,
    last_status: 200,
    last_error: null,
    next_attempt_at: null,
    created_at: iso(settledAt - latency),
    updated_at: iso(settledAt),
    version: 2,
    run: 0,
    ...over,
  };
}

function finalCall(endedAt: number, over: Partial<OutboundCall> = {}): OutboundCall {
  return { ...structuredClone(EXAMPLE_OUTBOUND_CALL), id: uniqueId("oc"), ended_at: iso(endedAt), updated_at: iso(endedAt), ...over } as OutboundCall;
}

const writeAll = (rows: Delivery[]) => new DeliveryLog(env.DB).write({ actions: rows, attempts: [] });

describe("windows", () => {
  it("counts the hours from the one a window ago to now, and nothing older", async () => {
    const now = Date.UTC(2033, 5, 15, 12, 30);
    const agent_id = uniqueId("agent");
    const ages = { "1h": HOUR, "24h": 24 * HOUR, "25h": 25 * HOUR, "6d": 6 * DAY, "8d": 8 * DAY, "29d": 29 * DAY, "30d+1h": 30 * DAY + HOUR };
    await writeAll(Object.values(ages).map((age) => settled(now - age, { agent_id })));
    const total = async (window: "24h" | "7d" | "30d") => readStats(env.DB, { window, now });

    const day = await total("24h");
    // 12:30 now: the window starts at 12:00 yesterday, so the row 24 h ago (12:30) is in, 25 h ago (11:30) is not.
    expect(day.since).toBe("2033-06-14T12:00:00.000Z");
    expect(day.until).toBe(iso(now));
    expect(day.deliveries.total.settled).toBe(2);
    expect((await total("7d")).deliveries.total.settled).toBe(4);
    expect((await total("30d")).deliveries.total.settled).toBe(6);
    expect((await total("30d")).since).toBe("2033-05-16T12:00:00.000Z");
  });
});

describe("group_by", () => {
  it("groups on each dimension; a kind it does not apply to forms one group with key null", async () => {
    const now = Date.UTC(2034, 2, 3, 9, 10);
    const at = now - 2 * HOUR;
    const [a1, a2] = [uniqueId("agent"), uniqueId("agent")];
    await writeAll([
      settled(at, { agent_id: a1, action_type: "sms", provider: "twilio" }, 800),
      settled(at, { agent_id: a1, action_type: "sms", provider: "twilio", status: "failed", attempts: 8, last_status: 500 }),
      settled(at, { agent_id: a1, action_type: "email", provider: "resend" }, 20_000),
      settled(at, { agent_id: a2, action_type: "webhook", provider: "webhook", status: "gone", last_status: 410 }),
      settled(at, { agent_id: a2, action_type: "task", provider: null, status: "skipped", attempts: 0 }),
    ]);
    const index = new OutboundCallIndex(env.DB);
    const one = (outcome: string) => [{ ...EXAMPLE_OUTBOUND_CALL.attempts[0]!, outcome }];
    await index.save(finalCall(at, { agent_id: a1, trigger_id: "trg_1", platform: "vapi" }), 9);
    await index.save(finalCall(at, { agent_id: a1, trigger_id: null, platform: "retell", outcome: "no_answer", attempts: one("no_answer") }), 9);
    await index.save(finalCall(at, { agent_id: a2, trigger_id: "trg_1", platform: "vapi", status: "failed", outcome: "failed", attempts: one("failed") }), 9);

    const groups = async (group_by: (typeof STATS_GROUP_BY)[number]) => {
      const stats = await readStats(env.DB, { window: "24h", group_by, now });
      expect(stats.group_by).toBe(group_by);
      const summary = <T extends { key: string | null }>(list: T[], size: (g: T) => number) =>
        Object.fromEntries(list.map((g) => [String(g.key), size(g)]));
      return {
        stats,
        deliveries: summary(stats.deliveries.groups, (g) => g.settled),
        outbound: summary(stats.outbound_calls.groups, (g) => g.final),
      };
    };

    const byAgent = await groups("agent");
    expect(byAgent.deliveries).toEqual({ [a1]: 3, [a2]: 2 });
    expect(byAgent.outbound).toEqual({ [a1]: 2, [a2]: 1 });
    const first = byAgent.stats.deliveries.groups[0]!;
    expect(first).toMatchObject({ key: a1, settled: 3, attempts: 10, by_status: { delivered: 2, failed: 1 }, success_rate: 0.6667, attempts_per_delivery: 3.33 });
    expect(first.latency).toMatchObject({ measured: 2, p50_ms: 1_000, p95_ms: 30_000 });
    expect(byAgent.stats.deliveries.groups[1]).toMatchObject({ key: a2, success_rate: 0, by_status: { gone: 1, skipped: 1 } });
    expect(byAgent.stats.outbound_calls.groups[0]).toMatchObject({ key: a1, connected: 1, connect_rate: 0.5, attempts: 3, redials: 1 });

    expect((await groups("action_type")).deliveries).toEqual({ sms: 2, email: 1, webhook: 1, task: 1 });
    expect((await groups("action_type")).outbound).toEqual({ null: 3 });
    expect((await groups("provider")).deliveries).toEqual({ twilio: 2, resend: 1, webhook: 1, null: 1 });
    expect((await groups("trigger")).deliveries).toEqual({ null: 5 });
    expect((await groups("trigger")).outbound).toEqual({ trg_1: 2, null: 1 });
    expect((await groups("platform")).outbound).toEqual({ vapi: 2, retell: 1 });
    expect((await groups("platform")).deliveries).toEqual({ null: 5 });
    const byOutcome = await groups("outcome");
    expect(byOutcome.deliveries).toEqual({ delivered: 2, failed: 1, gone: 1, skipped: 1 });
    expect(byOutcome.outbound).toEqual({ confirmed: 1, no_answer: 1, failed: 1 });

    // Totals do not depend on the grouping; without group_by there are no groups.
    const plain = await readStats(env.DB, { window: "24h", now });
    expect(plain.group_by).toBeNull();
    expect(plain.deliveries.groups).toEqual([]);
    expect(plain.outbound_calls.groups).toEqual([]);
    expect(plain.deliveries.total).toEqual(byAgent.stats.deliveries.total);
    expect(plain.outbound_calls.total).toEqual({ final: 3, by_outcome: { confirmed: 1, no_answer: 1, failed: 1 }, connected: 1, connect_rate: 0.3333, attempts: 4, redials: 1 });
  });
});

describe("GET /stats", () => {
  it("is for the admin key only", async () => {
    expect((await request("GET", "/stats", undefined, {})).status).toBe(401);
    expect((await request("GET", "/stats", undefined, INGEST)).status).toBe(401);
    expect((await request("GET", "/stats", undefined, { authorization: "Bearer wrong" })).status).toBe(401);
  });

  it("takes every window and dimension", async () => {
    for (const window of ["24h", "7d", "30d"]) {
      for (const group_by of STATS_GROUP_BY) {
        const res = await request("GET", `/stats?window=${window}&group_by=${group_by}`);
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ window, group_by });
      }
    }
  });

  it("answers a 24-hour window by default, in the documented shape", async () => {
    const res = await request("GET", "/stats");
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ window: "24h", group_by: null, deliveries: { groups: [] }, outbound_calls: { groups: [] } });
    expect(Object.keys(body.deliveries.total.by_status)).toEqual(["delivered", "failed", "gone", "skipped", "unknown"]);
    expect(body.deliveries.total.latency.buckets).toHaveLength(12);
    expect(body.deliveries.total.latency.buckets.at(-1).le_ms).toBeNull();
  });

  it("refuses an unknown window or dimension, naming the parameter", async () => {
    for (const [query, field] of [
      ["window=1y", "window"],
      ["group_by=caller", "group_by"],
    ]) {
      const res = await request("GET", `/stats?${query}`);
      expect(res.status).toBe(422);
      const body = (await res.json()) as any;
      expect(body.errors.map((e: any) => e.path)).toContain(`$.query.${field}`);
    }
  });
});

describe("retention", () => {
  it("the daily sweep deletes stats rows of hours before RETENTION_DAYS", async () => {
    const now = Date.now();
    const agent_id = uniqueId("agent");
    await writeAll([settled(now - 31 * DAY, { agent_id }), settled(now - 29 * DAY, { agent_id })]);
    const index = new OutboundCallIndex(env.DB);
    await index.save(finalCall(now - 31 * DAY, { agent_id }), 1);
    await index.save(finalCall(now - 29 * DAY, { agent_id }), 1);
    const rows = async (table: string) =>
      (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE agent_id = ?`).bind(agent_id).first<{ n: number }>())!.n;
    expect([await rows("delivery_stats_hourly"), await rows("stats_hourly")]).toEqual([2, 2]);
    await worker.scheduled!(createScheduledController({ scheduledTime: now, cron: "17 3 * * *" }), env, createExecutionContext());
    expect([await rows("delivery_stats_hourly"), await rows("stats_hourly")]).toEqual([1, 1]);
  });
});
