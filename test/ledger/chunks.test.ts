import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { CallLedger } from "../../src/ledger/call-ledger";
import { splitText } from "../../src/ledger/chunks";
import { ledgerStub } from "../../src/ledger/client";
import { callEvent, postEvent, putAgent, uniqueId } from "../helpers";

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

  it("an emoji on the 500,000-character boundary comes back whole", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    const event = callEvent({ agent_id: agentId, transcript: "" });
    // Place the emoji's high surrogate at index 499,999 of the stored JSON.
    const prefix = JSON.stringify(event).indexOf('"transcript":""') + '"transcript":"'.length;
    const transcript = `${"x".repeat(499_999 - prefix)}😀 and more`;
    expect(JSON.stringify({ ...event, transcript }).indexOf("😀")).toBe(499_999);
    expect((await postEvent({ ...event, transcript })).status).toBe(202);
    const stored = await runInDurableObject(ledgerStub(env, agentId, event.call_id), (instance) => (instance as CallLedger).snapshot());
    expect(stored!.event.transcript).toBe(transcript);
  });

  it("an event that fits a row stays in the call's row, and no chunk table is made for it", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    const event = callEvent({ agent_id: agentId });
    expect((await postEvent(event)).status).toBe(202);
    const tables = await runInDurableObject(ledgerStub(env, agentId, event.call_id), (_i, state) =>
      state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY name")
        .toArray()
        .map((t) => t.name),
    );
    expect(tables).toEqual(["call"]);
  });
});

describe("a call's event and raw payload together", () => {
  it("fit the call's row with room to spare, however their characters encode", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    // A 1 MiB platform payload of 3-byte characters, and the event made from it: each about
    // 1 MB of UTF-8 in under 500,000 characters, together over the 2 MB a row may hold.
    const transcript = "€".repeat(349_000);
    const event = callEvent({ agent_id: agentId, transcript });
    const raw = JSON.stringify({ message: { transcript } });
    const stub = ledgerStub(env, agentId, event.call_id);
    const accepted = await runInDurableObject(stub, (instance) => (instance as CallLedger).accept(event as never, null, new Date().toISOString(), { raw }));
    expect(accepted.status).toBe("accepted");
    const rowBytes = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql
        .exec<{ bytes: number }>(
          "SELECT length(CAST(coalesce(event, '') AS BLOB)) + length(CAST(coalesce(raw, '') AS BLOB)) + length(CAST(agent_templates AS BLOB)) AS bytes FROM call",
        )
        .one().bytes,
    );
    expect(rowBytes).toBeLessThan(1_100_000);
    const snapshot = await runInDurableObject(stub, (instance) => (instance as CallLedger).snapshot());
    expect(snapshot!.event.transcript).toBe(transcript);
    expect(snapshot!.raw).toEqual(JSON.parse(raw));
  });
});
