import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { CallLedger } from "../../src/ledger/call-ledger";
import { RECORD_MAX_BYTES, readRecord, storedBytes } from "../../src/ledger/call-record";
import { splitText } from "../../src/ledger/chunks";
import { ledgerStub } from "../../src/ledger/client";
import { callEvent, editActions, postEvent, putAgent, tracedKv, uniqueId } from "../helpers";

describe("event chunks", () => {
  it("never cuts a surrogate pair", () => {
    const text = `abc😀def😀`;
    for (let size = 2; size <= text.length; size++) {
      const pieces = splitText(text, size);
      expect(pieces.join("")).toBe(text);
      for (const piece of pieces) {
        expect(piece.length).toBeLessThanOrEqual(size);
        expect(piece).not.toMatch(/[\ud800-\udbff]$/);
        expect(piece).not.toMatch(/^[\udc00-\udfff]/);
      }
    }
  });

  it("an emoji on a chunk's 500,000-character boundary comes back whole", async () => {
    const agentId = uniqueId("agent");
    const event = callEvent({ agent_id: agentId, transcript: "" });
    // An event too long for the record with its payload, the emoji's high surrogate at index
    // 499,999 of its JSON, where the first chunk would end.
    const prefix = JSON.stringify(event).indexOf('"transcript":""') + '"transcript":"'.length;
    const transcript = `${"x".repeat(499_999 - prefix)}😀${"y".repeat(600_000)}`;
    expect(JSON.stringify({ ...event, transcript }).indexOf("😀")).toBe(499_999);
    const stub = ledgerStub(env, agentId, event.call_id);
    const raw = JSON.stringify({ message: { transcript: "z".repeat(400_000) } });
    await runInDurableObject(stub, (instance) => (instance as CallLedger).accept({ ...event, transcript } as never, null, new Date().toISOString(), { raw }));
    const keys = await runInDurableObject(stub, (_i, state) => [...state.storage.kv.list()].map(([key]) => key));
    expect(keys).toEqual(["call", "event.0", "event.1", "event.2"]);
    const stored = await runInDurableObject(stub, (instance) => (instance as CallLedger).snapshot());
    expect(stored!.event.transcript).toBe(transcript);
    expect(stored!.raw).toEqual(JSON.parse(raw));
  });

  it("an event that fits stays in the call's record, and no chunk is written for it", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    const event = callEvent({ agent_id: agentId });
    expect((await postEvent(event)).status).toBe(202);
    const keys = await runInDurableObject(ledgerStub(env, agentId, event.call_id), (_i, state) => [...state.storage.kv.list()].map(([key]) => key));
    expect(keys).toEqual(["call"]);
  });
});

describe("a call's event and raw payload together", () => {
  it("fit the call's record with room to spare, however their characters encode", async () => {
    const agentId = uniqueId("agent");
    // A 1 MiB platform payload of 3-byte characters, and the event made from it: each about
    // 1 MB of UTF-8, and up to 700 KB as the runtime stores strings, together under 2 MB.
    const transcript = "€".repeat(349_000);
    const event = callEvent({ agent_id: agentId, transcript });
    const raw = JSON.stringify({ message: { transcript } });
    const stub = ledgerStub(env, agentId, event.call_id);
    const accepted = await runInDurableObject(stub, (instance) => (instance as CallLedger).accept(event as never, null, new Date().toISOString(), { raw }));
    expect(accepted.status).toBe("accepted");
    const record = await runInDurableObject(stub, (_i, state) => readRecord(state.storage.kv)!);
    const bytes = Object.values(record).reduce<number>((sum, v) => sum + (typeof v === "string" ? storedBytes(v) : 0), 0);
    expect(bytes).toBeLessThan(RECORD_MAX_BYTES);
    const snapshot = await runInDurableObject(stub, (instance) => (instance as CallLedger).snapshot());
    expect(snapshot!.event.transcript).toBe(transcript);
    expect(snapshot!.raw).toEqual(JSON.parse(raw));
  });

  it("kept in chunks, are not written again by a change to the call's actions", async () => {
    const agentId = uniqueId("agent");
    const event = callEvent({ agent_id: agentId, transcript: "x".repeat(1_200_000) });
    const stub = ledgerStub(env, agentId, event.call_id);
    await runInDurableObject(stub, (instance) => (instance as CallLedger).accept(event as never, null, new Date().toISOString()));
    const written = await runInDurableObject(stub, (_i, state) => {
      const keys: string[] = [];
      editActions({ storage: { kv: tracedKv(state.storage.kv, (operation, key) => operation === "put" && keys.push(key!)) } } as never, () => ({ due_at: 0 }));
      return { keys, stored: [...state.storage.kv.list()].map(([key]) => key) };
    });
    expect(written).toEqual({ keys: ["call"], stored: ["call", "event.0", "event.1", "event.2"] });
  });

  it("too long together for one value: the longer goes to chunks, which an amended event replaces", async () => {
    const agentId = uniqueId("agent");
    const event = callEvent({ agent_id: agentId, transcript: "€".repeat(600_000) });
    const raw = JSON.stringify({ message: { transcript: "€".repeat(500_000) } });
    const stub = ledgerStub(env, agentId, event.call_id);
    await runInDurableObject(stub, (instance) => (instance as CallLedger).accept(event as never, null, new Date().toISOString(), { raw }));
    const keysOf = () => runInDurableObject(stub, (_i, state) => [...state.storage.kv.list()].map(([key]) => key));
    expect(await keysOf()).toEqual(["call", "event.0", "event.1"]);
    // A fuller event for the same call replaces the stored one: short, it is kept in the record
    // and its predecessor's chunks go.
    const amended = { ...event, transcript: "short" };
    await runInDurableObject(stub, (instance) => (instance as CallLedger).accept(amended as never, null, new Date().toISOString(), { raw, onDuplicate: "amend" }));
    expect(await keysOf()).toEqual(["call"]);
    const snapshot = await runInDurableObject(stub, (instance) => (instance as CallLedger).snapshot());
    expect(snapshot!.event.transcript).toBe("short");
    expect(snapshot!.raw).toEqual(JSON.parse(raw));
  });
});
