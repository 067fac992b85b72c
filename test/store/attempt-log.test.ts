import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ATTEMPT_LOG_MAX, type AttemptRecord, type Delivery } from "../../src/schemas/delivery";
import { CallLog } from "../../src/store/calls";
import { attemptLog, DeliveryLog, type LoggedAttempt, type LoggedCall } from "../../src/store/delivery-log";
import { callListing, iso, loggedCall, loggedDelivery } from "../fixtures/log-rows";
import { uniqueId } from "../helpers";

/**
 * A delivery keeps its attempts in its own row (migrations/0013), and the calls table is keyed
 * in arrival order (migrations/0014): what the log keeps and shows is unchanged, in fewer rows.
 */

const AT = Date.UTC(2034, 2, 1);
const delivery = (over: Partial<Delivery> = {}) => loggedDelivery(AT, over);
const call = (over: Partial<LoggedCall> = {}) => loggedCall(AT, over);

const record = (over: Partial<AttemptRecord> = {}): AttemptRecord => ({
  outcome: "delivered",
  started_at: iso(AT + 500),
  duration_ms: 120,
  status_code: 200,
  response_body: "ok",
  ...over,
});

const attempt = (d: Delivery, number: number, over: Partial<AttemptRecord> = {}): LoggedAttempt => ({
  deliveryId: d.id,
  number,
  record: record(over),
});

/** Rows D1 reports written by each statement of one write. */
async function rowsWritten(write: (log: DeliveryLog) => Promise<void>): Promise<number[]> {
  const results: D1Result[] = [];
  const db = {
    prepare: (sql: string) => env.DB.prepare(sql),
    batch: async (statements: D1PreparedStatement[]) => {
      const out = await env.DB.batch(statements);
      results.push(...out);
      return out;
    },
  } as unknown as D1Database;
  await write(new DeliveryLog(db));
  return results.map((r) => r.meta.rows_written);
}

describe("a delivery's attempts live in its row", () => {
  it("logs a delivered action with its attempt as one row, and shows the attempt as before", async () => {
    const d = delivery();
    const written = await rowsWritten((log) => log.write({ actions: [d], attempts: [attempt(d, 1)] }));
    // The settle counted into its hour, then the row itself: no index of it, no row for the
    // attempt.
    expect(written).toEqual([1, 1]);

    const shown = await new DeliveryLog(env.DB).withAttempts(d.id);
    expect(shown).toEqual({
      ...d,
      attempt_log: [
        {
          attempt: 1,
          started_at: iso(AT + 500),
          duration_ms: 120,
          outcome: "delivered",
          status_code: 200,
          error: null,
          response_body: "ok",
          provider: null,
          provider_id: null,
          detail: null,
        },
      ],
    });
  });

  it("adds each later attempt in order and replaces an attempt written again under its number", async () => {
    const log = new DeliveryLog(env.DB);
    const first = delivery({ status: "retrying", attempts: 1, last_status: 503, version: 2 });
    await log.write({ actions: [first], attempts: [attempt(first, 1, { outcome: "retry", status_code: 503, error: "HTTP 503" })] });
    const third = { ...first, status: "delivered" as const, attempts: 3, last_status: 200, version: 4 };
    // Attempt 2 written again with what the ledger holds now, and attempt 3 before it in the list.
    await log.write({
      actions: [third],
      attempts: [attempt(first, 3), attempt(first, 2, { outcome: "retry", status_code: 500, error: "HTTP 500" })],
    });
    const shown = await log.withAttempts(first.id);
    expect(shown?.attempt_log.map((a) => [a.attempt, a.outcome, a.status_code])).toEqual([
      [1, "retry", 503],
      [2, "retry", 500],
      [3, "delivered", 200],
    ]);
    expect(shown).toMatchObject({ status: "delivered", attempts: 3, version: 4 });
  });

  it("keeps what an erasure stripped when an older write lands after it", async () => {
    const log = new DeliveryLog(env.DB);
    const d = delivery();
    const sent = attempt(d, 1, { error: "a note", provider_id: "SM123", detail: "2 segments" });
    await log.write({ actions: [d], attempts: [sent] });
    await log.write({ actions: [{ ...d, version: 3 }], attempts: [], erase: [d.id] });
    // A copy of the first write arriving late: its version is older, so nothing of it is kept.
    await log.write({ actions: [d], attempts: [sent] });

    const [kept] = (await log.withAttempts(d.id))!.attempt_log;
    expect(kept).toMatchObject({ attempt: 1, outcome: "delivered", status_code: 200, duration_ms: 120 });
    expect(kept).toMatchObject({ error: null, response_body: null, provider_id: null, detail: null });
  });

  it("keeps a delivery's latest attempts, however often it is replayed", async () => {
    const log = new DeliveryLog(env.DB);
    const d = delivery({ attempts: ATTEMPT_LOG_MAX + 2, version: 3 });
    const many = Array.from({ length: ATTEMPT_LOG_MAX }, (_, i) => attempt(d, i + 1));
    await log.write({ actions: [d], attempts: many });
    await log.write({ actions: [{ ...d, version: 4 }], attempts: [attempt(d, ATTEMPT_LOG_MAX + 1), attempt(d, ATTEMPT_LOG_MAX + 2)] });
    const kept = (await log.withAttempts(d.id))!.attempt_log.map((a) => a.attempt);
    expect(kept).toHaveLength(ATTEMPT_LOG_MAX);
    expect(kept[0]).toBe(3);
    expect(kept.at(-1)).toBe(ATTEMPT_LOG_MAX + 2);

    // A first write with more than the row keeps keeps the latest too.
    const fresh = delivery();
    await log.write({ actions: [fresh], attempts: Array.from({ length: ATTEMPT_LOG_MAX + 1 }, (_, i) => attempt(fresh, i + 1)) });
    const first = (await log.withAttempts(fresh.id))!.attempt_log;
    expect(first).toHaveLength(ATTEMPT_LOG_MAX);
    expect(first[0]!.attempt).toBe(2);
  });

  it("merges attempts of an action the write does not carry into the row the log has", async () => {
    const log = new DeliveryLog(env.DB);
    const d = delivery({ status: "retrying", attempts: 2, version: 5 });
    await log.write({ actions: [d], attempts: [attempt(d, 1, { outcome: "retry", status_code: 502 })] });
    await log.write({ actions: [], attempts: [attempt(d, 2, { outcome: "retry", status_code: 504 })] });
    expect((await log.withAttempts(d.id))!.attempt_log.map((a) => a.status_code)).toEqual([502, 504]);
  });

  it("reads the attempts of several deliveries in one go, none for one the log lacks", async () => {
    const log = new DeliveryLog(env.DB);
    const a = delivery();
    const b = delivery();
    await log.write({ actions: [a, b], attempts: [attempt(a, 1), attempt(b, 1, { status_code: 202 })] });
    const found = await log.attempts([a.id, b.id, "dlv_missing"]);
    expect(found.get(a.id)?.map((x) => x.status_code)).toEqual([200]);
    expect(found.get(b.id)?.map((x) => x.status_code)).toEqual([202]);
    expect(found.get("dlv_missing")).toEqual([]);
  });

  it("lists deliveries with the API's fields only", async () => {
    const log = new DeliveryLog(env.DB);
    const d = delivery({ agent_id: uniqueId("agent") });
    await log.write({ call: callListing(call({ agent_id: d.agent_id, call_id: d.call_id }), [d]), actions: [d], attempts: [attempt(d, 1)] });
    const page = await log.list({ agent_id: d.agent_id, limit: 10 });
    expect(page?.deliveries).toEqual([d]);
    expect(await log.get(d.id)).toEqual(d);
  });

  it("moves the attempts of an earlier release's table into their deliveries (migrations/0013)", async () => {
    const d = delivery({ attempts: 2 });
    const other = delivery();
    await new DeliveryLog(env.DB).write({ actions: [d, other], attempts: [] });
    await env.DB.exec(
      "CREATE TABLE attempts (delivery_id TEXT NOT NULL, attempt INTEGER NOT NULL, started_at TEXT NOT NULL, duration_ms INTEGER NOT NULL, outcome TEXT NOT NULL, status_code INTEGER, error TEXT, response_body TEXT, provider TEXT, provider_id TEXT, detail TEXT, PRIMARY KEY (delivery_id, attempt)) WITHOUT ROWID",
    );
    await env.DB.batch([
      env.DB.prepare("INSERT INTO attempts VALUES (?, 2, ?, 80, 'delivered', 200, NULL, 'ok', NULL, NULL, NULL)").bind(d.id, iso(AT + 9_000)),
      env.DB.prepare("INSERT INTO attempts VALUES (?, 1, ?, 10000, 'retry', NULL, 'timeout', NULL, 'webhook', NULL, NULL)").bind(d.id, iso(AT + 500)),
    ]);
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0013_"))!;
    const moves = migration.queries.filter((q) => !/^\s*ALTER TABLE/i.test(q));
    expect(moves).toHaveLength(2);
    await env.DB.batch(moves.map((q) => env.DB.prepare(q)));

    const log = new DeliveryLog(env.DB);
    expect((await log.withAttempts(d.id))!.attempt_log).toEqual([
      { attempt: 1, started_at: iso(AT + 500), duration_ms: 10_000, outcome: "retry", status_code: null, error: "timeout", response_body: null, provider: "webhook", provider_id: null, detail: null },
      { attempt: 2, started_at: iso(AT + 9_000), duration_ms: 80, outcome: "delivered", status_code: 200, error: null, response_body: "ok", provider: null, provider_id: null, detail: null },
    ]);
    expect((await log.withAttempts(other.id))!.attempt_log).toEqual([]);
    const tables = await env.DB.prepare("SELECT name FROM sqlite_master WHERE name = 'attempts'").all();
    expect(tables.results).toEqual([]);
  });

  it("reads a stored attempt_log with every field, null where it has none", () => {
    expect(attemptLog('[{"attempt":1,"started_at":"t","duration_ms":3,"outcome":"failed","status_code":400}]')).toEqual([
      { attempt: 1, started_at: "t", duration_ms: 3, outcome: "failed", status_code: 400, error: null, response_body: null, provider: null, provider_id: null, detail: null },
    ]);
  });
});

describe("the calls table is keyed in arrival order", () => {
  it("writes an accepted call as three rows: itself, calls_by_call_id and calls_by_agent", async () => {
    expect(await rowsWritten((log) => log.write({ call: call(), actions: [], attempts: [] }))).toEqual([3]);
  });

  it("updates a call in place, and keeps a call posted again after its ledger was deleted as a call of its own", async () => {
    const log = new DeliveryLog(env.DB);
    const first = call({ status: "no_actions", reason: "no actions configured", action_count: 0 });
    await log.write({ call: first, actions: [], attempts: [] });
    await log.write({ call: { ...first, status: "accepted", reason: null, action_count: 2 }, actions: [], attempts: [] });
    const again = call({ call_id: first.call_id, agent_id: first.agent_id, received_at: iso(AT + 40 * 86_400_000) });
    await log.write({ call: again, actions: [], attempts: [] });

    const rows = await log.callsById(first.call_id);
    expect(rows.map((c) => [c.received_at, c.status, c.action_count])).toEqual([
      [again.received_at, "accepted", 1],
      [first.received_at, "accepted", 2],
    ]);
    const listed = await new CallLog(env.DB).list({ agent_id: first.agent_id, limit: 10 });
    expect(listed?.calls.map((c) => c.received_at)).toEqual([again.received_at, first.received_at]);
  });
});
