import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ledgerOver, scopeStatement } from "../../bench/sharded-relay";
import { ledgerStub } from "../../src/ledger/client";

// The bench's sharded relay runs the relay's CallLedger over a shard's tables: each statement
// the ledger runs on its one call must touch only that call's rows of the shard.
describe("the sharded relay's statement scoping", () => {
  const key = "agent_1\ncall_it's";
  const id = "'agent_1\ncall_it''s'";

  it("keys the ledger's single-row reads and writes", () => {
    expect(scopeStatement("SELECT actions, log_progress FROM call WHERE id = 1", key)).toBe(`SELECT actions, log_progress FROM call WHERE id = ${id}`);
    expect(scopeStatement("UPDATE call SET actions = ?, log_progress = ? WHERE id = 1", key)).toBe(`UPDATE call SET actions = ?, log_progress = ? WHERE id = ${id}`);
    expect(scopeStatement("INSERT INTO call (id, agent_id, call_id, actions) VALUES (1, ?, ?, ?)", key)).toBe(`INSERT INTO call (id, agent_id, call_id, actions) VALUES (${id}, ?, ?, ?)`);
  });

  it("adds the key where the ledger addresses its whole table", () => {
    expect(scopeStatement("UPDATE call SET event = ?", key)).toBe(`UPDATE call SET event = ? WHERE id = ${id}`);
    expect(scopeStatement("DELETE FROM raw_chunks", key)).toBe(`DELETE FROM raw_chunks WHERE id = ${id}`);
    expect(scopeStatement("SELECT chunk FROM event_chunks ORDER BY seq", key)).toBe(`SELECT chunk FROM event_chunks WHERE id = ${id} ORDER BY seq`);
    expect(scopeStatement("INSERT INTO event_chunks (seq, chunk) VALUES (?, ?)", key)).toBe(`INSERT INTO event_chunks (id, seq, chunk) VALUES (${id}, ?, ?)`);
  });

  it("leaves schema lookups alone and makes the shard's existing tables a no-op", () => {
    expect(scopeStatement("SELECT name FROM sqlite_master WHERE type = 'table'", key)).toBe("SELECT name FROM sqlite_master WHERE type = 'table'");
    expect(scopeStatement("CREATE TABLE IF NOT EXISTS raw_chunks (seq INTEGER PRIMARY KEY, chunk TEXT NOT NULL)", key)).toBe("SELECT 1 WHERE 0");
  });

  it("refuses a statement it cannot confine to the call", () => {
    expect(() => scopeStatement("ALTER TABLE call ADD COLUMN logged INTEGER", key)).toThrow(/no scoping/);
    expect(() => scopeStatement("DROP TABLE actions", key)).toThrow(/no scoping/);
    expect(() => scopeStatement("SELECT * FROM actions ORDER BY idx", key)).toThrow(/no scoping/);
  });
});

describe("the sharded relay's ledgers", () => {
  // Built without the constructor (the runtime refuses a Durable Object a state it did not
  // make), so a field the constructor gains must be given here too.
  it("have every field a CallLedger's constructor sets", async () => {
    const real = await runInDurableObject(ledgerStub(env, "agent_fields", "call_fields"), (ledger) => Object.keys(ledger).sort());
    const built = ledgerOver({ storage: { sql: {} } } as unknown as DurableObjectState, env, null);
    expect(Object.keys(built).sort()).toEqual(real);
  });
});
