import { createExecutionContext, createMessageBatch, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { ledgerStub } from "../../src/ledger/client";
import { type Usage, meterBatch, meterSql, meterStorageKv, metered, readUsage } from "../../src/lib/meter";
import { ADMIN, INGEST, callEvent, putAgent, request, uniqueId } from "../helpers";

const ON = { METER: "true" };
const meteredEnv = () => ({ ...env, ...ON }) as CloudflareBindings;

function delta(before: Usage): Usage {
  const now = readUsage().usage;
  return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - before[k as keyof Usage]])) as Usage;
}

async function fetchMetered(method: string, path: string, body?: unknown, headers: Record<string, string> = ADMIN) {
  const ctx = createExecutionContext();
  const response = await worker.fetch!(
    new Request(`https://relay.test${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    }) as Request<unknown, IncomingRequestCfProperties>,
    meteredEnv(),
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

describe("metering billable operations (METER=true)", () => {
  it("GET /usage answers 404 while metering is off, and the counters when on", async () => {
    const off = await request("GET", "/usage");
    expect(off.status).toBe(404);
    expect(off.headers.get("content-type")).toContain("application/problem+json");
    const on = await fetchMetered("GET", "/usage");
    expect(on.status).toBe(200);
    expect(Object.keys(((await on.json()) as { usage: Usage }).usage)).toContain("sqlite_rows_written");
  });

  it("counts an ingest's invocation, its ledger request and its KV and D1 reads", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    const before = readUsage().usage;
    expect((await fetchMetered("POST", "/calls/ended", callEvent({ agent_id: agentId }), INGEST)).status).toBe(202);
    const used = delta(before);
    expect(used.worker_invocations).toBe(1);
    expect(used.durable_object_requests).toBe(1);
    expect(used.kv_reads).toBe(1);
    expect(used.d1_rows_read).toBeGreaterThan(0);
  });

  it("counts the rows a ledger's statements read and write", async () => {
    const stub = ledgerStub(env, uniqueId("agent"), uniqueId("call"));
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = meterSql(ON, state.storage.sql);
      sql.exec("CREATE TABLE IF NOT EXISTS metered_rows (n INTEGER PRIMARY KEY)");
      await Promise.resolve(); // a statement's counts are taken in a microtask
      const before = readUsage().usage;
      sql.exec("INSERT INTO metered_rows (n) VALUES (1), (2)");
      expect(sql.exec("SELECT n FROM metered_rows").toArray()).toHaveLength(2);
      await Promise.resolve();
      const used = delta(before);
      expect(used.sqlite_rows_written).toBe(2);
      expect(used.sqlite_rows_read).toBeGreaterThanOrEqual(2);
    });
  });

  it("counts a row per value a ledger's key-value storage reads, stores or deletes", async () => {
    const stub = ledgerStub(env, uniqueId("agent"), uniqueId("call"));
    await runInDurableObject(stub, (_instance, state) => {
      const kv = meterStorageKv(ON, state.storage.kv);
      const before = readUsage().usage;
      expect(kv.get("absent")).toBeUndefined();
      kv.put("a", { n: 1 });
      kv.put("a", { n: 2 });
      kv.put("b", "text");
      expect(kv.get("a")).toEqual({ n: 2 });
      expect([...kv.list()].map(([key]) => key)).toEqual(["a", "b"]);
      expect(kv.delete("b")).toBe(true);
      expect(kv.delete("b")).toBe(false);
      const used = delta(before);
      expect(used.sqlite_rows_written).toBe(3 + 1);
      expect(used.sqlite_rows_read).toBe(1 + 2);
    });
  });

  it("counts queue reads per message received and deletes per message acknowledged", () => {
    const batch = createMessageBatch("actions", [1, 2, 3].map((n) => ({ id: `m${n}`, timestamp: new Date(), attempts: 1, body: n })));
    const before = readUsage().usage;
    const counted = meterBatch(ON, batch);
    counted.messages[0]!.ack();
    counted.messages[1]!.ack();
    counted.messages[2]!.retry();
    expect(delta(before).queue_operations).toBe(3 + 2);
    expect(counted.messages.map((m) => m.body)).toEqual([1, 2, 3]);
  });

  it("counts D1 rows through first() and batch() and keeps their answers", async () => {
    const db = metered(meteredEnv()).DB;
    const before = readUsage().usage;
    expect(await db.prepare("SELECT 7 AS n").first("n")).toBe(7);
    expect(await db.prepare("SELECT 7 AS n").first()).toEqual({ n: 7 });
    const id = uniqueId("agent");
    const [insert] = await db.batch([
      db.prepare("INSERT INTO agents (id, name, config, created_at, updated_at) VALUES (?, ?, '{}', ?, ?)").bind(id, id, "t", "t"),
    ]);
    expect(insert!.meta.rows_written).toBeGreaterThan(0);
    expect(delta(before).d1_rows_written).toBe(insert!.meta.rows_written);
  });

  it("leaves every binding as it is when metering is off", () => {
    expect(metered(env)).toBe(env);
    const batch = createMessageBatch("actions", []);
    expect(meterBatch(env, batch)).toBe(batch);
    const kv = {} as SyncKvStorage;
    expect(meterStorageKv(env, kv)).toBe(kv);
  });
});
