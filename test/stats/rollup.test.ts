import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Delivery } from "../../src/schemas/delivery";
import { EXAMPLE_OUTBOUND_CALL, type OutboundCall } from "../../src/schemas/outbound";
import { DeliveryLog } from "../../src/store/delivery-log";
import { OutboundCallIndex } from "../../src/store/outbound-calls";
import { deliverySettlesStatements, readStats } from "../../src/store/stats";
import { iso, loggedDelivery } from "../fixtures/log-rows";
import { uniqueId } from "../helpers";

const HOUR = 3_600_000;
let day = 0;
/** An hour of its own, years ahead, per test: no other test's rows share its window. */
const ownHour = () => Date.UTC(2031, 0, 1) + day++ * 40 * 24 * HOUR + 10 * HOUR;

/** A delivery row as the ledger hands it to the log, accepted at `at`, settled 1.5 s later. */
const delivery = (at: number, over: Partial<Delivery> = {}): Delivery =>
  loggedDelivery(at, { updated_at: iso(at + 1_500), version: 3, ...over });

const log = () => new DeliveryLog(env.DB);
const write = (...actions: Delivery[]) => log().write({ actions, attempts: [] });
const totals = async (now: number) => (await readStats(env.DB, { window: "24h", now })).deliveries.total;
const outboundTotals = async (now: number) => (await readStats(env.DB, { window: "24h", now })).outbound_calls.total;

describe("delivery settles are counted once", () => {
  it("counts a settle once, however often and in whatever order the log's copies land", async () => {
    const at = ownHour();
    const retrying = delivery(at, { status: "retrying", attempts: 1, last_status: 503, version: 2, updated_at: iso(at + 900) });
    const delivered = { ...retrying, status: "delivered" as const, attempts: 2, last_status: 200, version: 4, updated_at: iso(at + 4_000) };
    await write(delivered);
    await write(delivered); // repeated
    await write(retrying); // older, late
    await write(delivered);
    const stats = await totals(at + HOUR);
    expect(stats).toMatchObject({ settled: 1, attempts: 2, by_status: { delivered: 1 }, success_rate: 1, attempts_per_delivery: 2 });
    expect(stats.latency).toMatchObject({ measured: 1, p50_ms: 5_000, p95_ms: 5_000 });
    expect(await log().get(delivered.id)).toMatchObject({ status: "delivered", version: 4 });
  });

  it("counts nothing while a delivery is active, and its settle once it comes", async () => {
    const at = ownHour();
    const pending = delivery(at, { status: "pending", attempts: 0, last_status: null, version: 1, updated_at: iso(at) });
    await write(pending);
    await write({ ...pending, status: "retrying", attempts: 1, version: 2 });
    expect((await totals(at + HOUR)).settled).toBe(0);
    await write({ ...pending, status: "failed", attempts: 2, last_status: 400, version: 4, updated_at: iso(at + 20_000) });
    const stats = await totals(at + HOUR);
    expect(stats).toMatchObject({ settled: 1, attempts: 2, by_status: { failed: 1, delivered: 0 }, success_rate: 0 });
    expect(stats.latency.measured).toBe(0);
  });

  it("counts a replay's new settle again, with its own attempts, but not its latency", async () => {
    const at = ownHour();
    const first = delivery(at, { status: "failed", attempts: 1, last_status: 400, version: 3 });
    await write(first);
    // Replayed: pending again, then delivered by a new attempt.
    const replayed = { ...first, status: "pending" as const, version: 4, updated_at: iso(at + 600_000) };
    const redelivered = { ...first, status: "delivered" as const, attempts: 2, last_status: 200, version: 6, updated_at: iso(at + 601_000) };
    await write(replayed);
    await write(redelivered);
    await write(replayed); // late copy of the replay
    await write(redelivered); // repeated
    const stats = await totals(at + HOUR);
    expect(stats).toMatchObject({ settled: 2, attempts: 2, by_status: { failed: 1, delivered: 1 }, attempts_per_delivery: 1 });
    expect(stats.latency.measured).toBe(0);

    // A second replay whose pending state the log never saw (the ledger wrote only the result).
    await write({ ...redelivered, attempts: 3, version: 9, updated_at: iso(at + 700_000) });
    expect(await totals(at + HOUR)).toMatchObject({ settled: 3, attempts: 3, by_status: { failed: 1, delivered: 2 } });
  });

  it("does not count an older settle that lands after a newer one", async () => {
    const at = ownHour();
    const failed = delivery(at, { status: "failed", attempts: 1, last_status: 400, version: 3 });
    const redelivered = { ...failed, status: "delivered" as const, attempts: 2, last_status: 200, version: 5, updated_at: iso(at + 90_000) };
    await write(redelivered);
    await write(failed); // the first settle's copy, late: the log has moved past it
    expect(await totals(at + HOUR)).toMatchObject({ settled: 1, attempts: 2, by_status: { failed: 0, delivered: 1 } });
    expect(await log().get(failed.id)).toMatchObject({ status: "delivered", version: 5 });
  });

  it("does not count a change to a settled delivery that is not a new settle (erasure)", async () => {
    const at = ownHour();
    const failed = delivery(at, { status: "failed", attempts: 2, last_status: 500, last_error: "HTTP 500: for Ana", version: 5 });
    await write(failed);
    await write({ ...failed, last_error: null, version: 6, updated_at: iso(at + 10_000) });
    expect(await totals(at + HOUR)).toMatchObject({ settled: 1, attempts: 2, by_status: { failed: 1 } });
  });

  it("counts each delivery of one write on its own", async () => {
    const at = ownHour();
    const agent_id = uniqueId("agent");
    const call_id = uniqueId("call");
    const rows = [
      delivery(at, { agent_id, call_id, action_index: 0, action_type: "sms", provider: "outbox", updated_at: iso(at + 800) }),
      delivery(at, { agent_id, call_id, action_index: 1, updated_at: iso(at + 40_000) }),
      delivery(at, { agent_id, call_id, action_index: 2, action_type: "email", provider: null, status: "skipped", attempts: 0 }),
      delivery(at, { agent_id, call_id, action_index: 3, action_type: "task", status: "pending", attempts: 0, version: 1 }),
    ];
    await log().write({
      call: { call_id, agent_id, status: "accepted", reason: null, action_count: 4, ended_at: null, received_at: iso(at), delivery_ids: rows.map((r) => r.id) },
      actions: rows,
      attempts: [],
    });
    await log().write({ actions: rows, attempts: [] });
    const stats = await totals(at + HOUR);
    expect(stats).toMatchObject({ settled: 3, attempts: 2, by_status: { delivered: 2, skipped: 1 }, success_rate: 1, attempts_per_delivery: 0.67 });
    expect(stats.latency).toMatchObject({ measured: 2, p50_ms: 1_000, p95_ms: 60_000 });
  });

  it("counts the settles of a call's write into one row written, and its agent's next call into the same row", async () => {
    const at = ownHour();
    const agent_id = uniqueId("agent");
    const callOf = (call_id: string) => [
      delivery(at, { agent_id, call_id, action_index: 0, action_type: "sms", provider: "twilio" }),
      delivery(at, { agent_id, call_id, action_index: 1, updated_at: iso(at + 700) }),
      delivery(at, { agent_id, call_id, action_index: 2, action_type: "email", provider: "resend", status: "failed", attempts: 2, last_status: 422 }),
    ];
    const [written] = await env.DB.batch(deliverySettlesStatements(env.DB, callOf(uniqueId("call"))));
    expect(written!.meta.rows_written).toBe(1);

    await write(...callOf(uniqueId("call")));
    const { results } = await env.DB.prepare("SELECT hour, counts FROM delivery_stats_hourly WHERE agent_id = ?").bind(agent_id).all<{ hour: string; counts: string }>();
    expect(results).toHaveLength(1);
    const counts = JSON.parse(results[0]!.counts) as Record<string, number[]>;
    // [settled, attempts, then the latency histogram: le_1s, le_2s, ...]
    expect(counts["sms:twilio:delivered"]!.slice(0, 4)).toEqual([2, 2, 0, 2]);
    expect(counts["webhook:webhook:delivered"]!.slice(0, 4)).toEqual([2, 2, 2, 0]);
    expect(counts["email:resend:failed"]!.slice(0, 4)).toEqual([2, 4, 0, 0]);

    const grouped = await readStats(env.DB, { window: "24h", group_by: "provider", now: at + HOUR });
    expect(grouped.deliveries.groups.map((g) => [g.key, g.settled])).toEqual([
      ["resend", 2],
      ["twilio", 2],
      ["webhook", 2],
    ]);
  });

  it("counts a write of more actions than one statement takes", async () => {
    const at = ownHour();
    const agent_id = uniqueId("agent");
    const call_id = uniqueId("call");
    const rows = Array.from({ length: 20 }, (_, action_index) => delivery(at, { agent_id, call_id, action_index, attempts: 1 + (action_index % 2) }));
    await write(...rows);
    await write(...rows);
    expect(await totals(at + HOUR)).toMatchObject({ settled: 20, attempts: 30, by_status: { delivered: 20 } });
  });
});

/** An outbound call's view at a stage of its life. */
function outbound(over: Partial<OutboundCall> = {}): OutboundCall {
  return { ...structuredClone(EXAMPLE_OUTBOUND_CALL), id: uniqueId("oc"), agent_id: uniqueId("agent"), ...over } as OutboundCall;
}

describe("outbound calls are counted once, when final", () => {
  it("counts the first final view stored, whatever is saved after it", async () => {
    const at = ownHour();
    const index = new OutboundCallIndex(env.DB);
    const base = outbound({ ended_at: iso(at + 60_000), updated_at: iso(at + 60_000) });
    await index.save({ ...base, status: "scheduled", outcome: "no_answer", ended_at: null, attempts: base.attempts.slice(0, 1) }, 4);
    expect((await outboundTotals(at + HOUR)).final).toBe(0);
    await index.save(base, 9);
    await index.save(base, 9); // the same final view again
    await index.save({ ...base, callback: { ...base.callback!, attempts: 2 } }, 11); // the callback's delivery moved on
    await index.save(base, 10); // late
    expect(await outboundTotals(at + HOUR)).toEqual({
      final: 1,
      by_outcome: { confirmed: 1 },
      connected: 1,
      connect_rate: 1,
      attempts: 2,
      redials: 1,
    });
  });

  it("counts failed and unanswered calls as not connected, and never a cancelled one", async () => {
    const at = ownHour();
    const index = new OutboundCallIndex(env.DB);
    const ended = { ended_at: iso(at), updated_at: iso(at) };
    const one = (outcome: string) => [EXAMPLE_OUTBOUND_CALL.attempts[0]!].map((a) => ({ ...a, outcome }));
    await index.save(outbound({ ...ended, status: "completed", outcome: "no_answer", attempts: one("no_answer") }), 5);
    await index.save(outbound({ ...ended, status: "failed", outcome: "failed", attempts: one("failed") }), 5);
    await index.save(outbound({ ...ended, status: "completed", outcome: "declined", attempts: one("declined") }), 5);
    await index.save(outbound({ ...ended, status: "cancelled", outcome: null, attempts: [] }), 5);
    expect(await outboundTotals(at + HOUR)).toEqual({
      final: 3,
      by_outcome: { no_answer: 1, failed: 1, declined: 1 },
      connected: 1,
      connect_rate: 0.3333,
      attempts: 3,
      redials: 0,
    });
  });
});

describe("the migration's backfill", () => {
  it("counts what the log held before the release once, as the live path would", async () => {
    const at = ownHour();
    const agent = uniqueId("agent");
    // Rows as an earlier release wrote them: no counted_* values.
    const legacy = [
      delivery(at, { agent_id: agent, updated_at: iso(at + 700) }),
      delivery(at, { agent_id: agent, updated_at: iso(at + 3 * 60_000), attempts: 3 }),
      delivery(at, { agent_id: agent, status: "gone", attempts: 1, last_status: 410 }),
      delivery(at, { agent_id: agent, status: "retrying", attempts: 1, version: 2 }),
    ];
    await env.DB.batch(
      legacy.map((d) =>
        env.DB.prepare(
          `INSERT INTO deliveries (id, call_id, agent_id, action_index, action_type, provider, target, status, attempts, created_at, updated_at, version)
           VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).bind(d.id, d.call_id, d.agent_id, d.action_type, d.provider, d.target, d.status, d.attempts, d.created_at, d.updated_at, d.version),
      ),
    );
    const call = outbound({ agent_id: agent, ended_at: iso(at + 5_000), updated_at: iso(at + 5_000) });
    await env.DB.prepare("INSERT INTO outbound_calls (id, agent_id, trigger_id, status, requested_at, version, view) VALUES (?, ?, ?, ?, ?, 7, ?)")
      .bind(call.id, call.agent_id, call.trigger_id, call.status, call.requested_at, JSON.stringify(call))
      .run();

    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0010_"))!;
    const backfill = migration.queries.filter((q) => /^\s*(INSERT INTO stats_hourly|UPDATE)/i.test(q));
    expect(backfill).toHaveLength(4);
    const run = () => env.DB.batch(backfill.map((q) => env.DB.prepare(q)));
    await run();
    await run(); // counts nothing more: the rows are marked counted

    const stats = await readStats(env.DB, { window: "24h", group_by: "agent", now: at + HOUR });
    expect(stats.deliveries.total).toMatchObject({ settled: 3, attempts: 5, by_status: { delivered: 2, gone: 1 } });
    expect(stats.deliveries.total.latency).toMatchObject({ measured: 2, p50_ms: 1_000, p95_ms: 300_000 });
    expect(stats.outbound_calls.total).toMatchObject({ final: 1, by_outcome: { confirmed: 1 }, connected: 1, attempts: 2, redials: 1 });

    // Migration 0016 moves the delivery rows into the per-agent rollup; the answer is the same.
    const perAgent = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0016_"))!;
    const move = perAgent.queries.filter((q) => /^\s*(INSERT INTO delivery_stats_hourly|DELETE)/i.test(q));
    expect(move).toHaveLength(2);
    await env.DB.batch(move.map((q) => env.DB.prepare(q)));
    expect(await readStats(env.DB, { window: "24h", group_by: "agent", now: at + HOUR })).toEqual(stats);
    const left = await env.DB.prepare("SELECT COUNT(*) AS n FROM stats_hourly WHERE kind = 'delivery' AND agent_id = ?").bind(agent).first<{ n: number }>();
    expect(left!.n).toBe(0);

    // The live path sees them as counted: a repeat or an erasure adds nothing, the active one settles once.
    await write({ ...legacy[0]!, last_error: null, version: 4 }, { ...legacy[3]!, status: "delivered", attempts: 2, version: 4, updated_at: iso(at + 9_000) });
    await new OutboundCallIndex(env.DB).save(call, 8);
    const after = await readStats(env.DB, { window: "24h", now: at + HOUR });
    expect(after.deliveries.total).toMatchObject({ settled: 4, attempts: 7, by_status: { delivered: 3, gone: 1 } });
    expect(after.deliveries.total.latency.measured).toBe(3);
    expect(after.outbound_calls.total.final).toBe(1);
  });
});
