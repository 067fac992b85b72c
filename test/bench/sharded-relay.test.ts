import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ledgerOver, scopedKv } from "../../bench/sharded-relay";
import { ledgerStub } from "../../src/ledger/client";
import { uniqueId } from "../helpers";

// The bench's sharded relay runs the relay's CallLedger over a shard's key-value storage: each
// key the ledger writes for its one call must be that call's alone.
describe("the sharded relay's key scoping", () => {
  it("keeps each call's keys apart, even where one call's key begins another's", async () => {
    const stub = ledgerStub(env, uniqueId("agent"), uniqueId("shard"));
    const seen = await runInDurableObject(stub, (_i, state) => {
      const first = scopedKv(state.storage.kv, "agent_1\ncall");
      const second = scopedKv(state.storage.kv, "agent_1\ncall/x");
      first.put("call", "first's");
      second.put("call", "second's");
      first.put("event.0", "chunk");
      const before = { first: first.get("call"), second: second.get("call"), firstKeys: first.keys(), secondKeys: second.keys() };
      for (const name of first.keys()) first.delete(name);
      return { before, after: { first: first.keys(), second: second.get("call") } };
    });
    expect(seen.before).toEqual({ first: "first's", second: "second's", firstKeys: ["call", "event.0"], secondKeys: ["call"] });
    expect(seen.after).toEqual({ first: [], second: "second's" });
  });
});

describe("the sharded relay's ledgers", () => {
  // Built without the constructor (the runtime refuses a Durable Object a state it did not
  // make), so a field the constructor gains must be given here too.
  it("have every field a CallLedger's constructor sets", async () => {
    const real = await runInDurableObject(ledgerStub(env, "agent_fields", "call_fields"), (ledger) => Object.keys(ledger).sort());
    const built = ledgerOver({ storage: { kv: {} } } as unknown as DurableObjectState, env, null);
    expect(Object.keys(built).sort()).toEqual(real);
  });
});
