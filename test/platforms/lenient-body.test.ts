import { describe, expect, it } from "vitest";
import { zodProblems } from "../../src/errors";
import { coerceCallEnded, keyPath } from "../../src/ingest/lenient-body";
import { CallEndedEvent } from "../../src/schemas/call-event";

const form = (text: string) => coerceCallEnded(new URLSearchParams(text));

describe("coerceCallEnded: forms", () => {
  it("turns a Zapier-style form into a valid canonical event", () => {
    const body = form(
      "call_id=call_xyz789&agent_id=agent_abc123&caller_number=%2B14155551234&duration_seconds=230" +
        "&summary=Confirmed&ended_at=2026-03-10+15%3A04%3A05&metadata__order_id=12345&metadata__caller_name=John+Smith&details__delivery_date=March+15",
    );
    expect(body).toEqual({
      call_id: "call_xyz789",
      agent_id: "agent_abc123",
      caller_number: "+14155551234",
      duration_seconds: 230,
      summary: "Confirmed",
      ended_at: "2026-03-10T15:04:05.000Z",
      metadata: { order_id: "12345", caller_name: "John Smith" },
      details: { delivery_date: "March 15" },
    });
    expect(CallEndedEvent.safeParse(body).success).toBe(true);
  });

  it("reads all three nested-key spellings, and deeper paths", () => {
    expect(form("metadata__a=1&metadata[b]=2&metadata.c=3&metadata[d][e]=4&metadata__f__g=5")).toEqual({
      metadata: { a: "1", b: "2", c: "3", d: { e: "4" }, f: { g: "5" } },
    });
  });

  it("appends `[]` keys to a list", () => {
    expect(form("metadata[tags][]=vip&metadata[tags][]=callback")).toEqual({ metadata: { tags: ["vip", "callback"] } });
    // As the form validator hands them over: a `[]` key's values already in one list.
    expect(coerceCallEnded({ "metadata[tags][]": ["vip", "callback"], "metadata[one][]": ["x"] })).toEqual({
      metadata: { tags: ["vip", "callback"], one: ["x"] },
    });
  });

  it("merges flat keys into a metadata object sent whole as JSON text", () => {
    expect(form(`metadata=${encodeURIComponent('{"order_id":"12345"}')}&metadata__caller_name=John`)).toEqual({
      metadata: { order_id: "12345", caller_name: "John" },
    });
  });

  it("drops empty optional fields, as tools send unmapped fields", () => {
    expect(form("call_id=c1&agent_id=a1&summary=&recording_url=&duration_seconds=&metadata=")).toEqual({ call_id: "c1", agent_id: "a1" });
  });

  it("keeps an empty required field for the schema to name", () => {
    const result = CallEndedEvent.safeParse(form("call_id=&agent_id=a1"));
    expect(result.success).toBe(false);
    if (!result.success) expect(new Set(zodProblems(result.error).map((p) => p.path))).toEqual(new Set(["$.call_id"]));
  });

  it("reads epoch seconds and milliseconds as times", () => {
    expect(form("ended_at=1773155045")).toEqual({ ended_at: "2026-03-10T15:04:05.000Z" });
    expect(form("ended_at=1773155045000")).toEqual({ ended_at: "2026-03-10T15:04:05.000Z" });
  });

  it("keeps ISO times with an offset exactly as sent", () => {
    expect(form("ended_at=2026-03-10T17%3A04%3A05%2B02%3A00")).toEqual({ ended_at: "2026-03-10T17:04:05+02:00" });
  });
});

describe("coerceCallEnded: what stays for the schema to refuse", () => {
  it.each([
    ["duration_seconds=2%3A30", "$.duration_seconds"],
    ["duration_seconds=-5", "$.duration_seconds"],
    ["duration_seconds=230s", "$.duration_seconds"],
    ["ended_at=yesterday", "$.ended_at"],
    ["ended_at=2026-03-10T15%3A04%3A05", "$.ended_at"],
    ["ended_at=03%2F10%2F2026", "$.ended_at"],
    ["ended_at=12", "$.ended_at"],
    ["metadata=not+json", "$.metadata"],
    ["metadata[]=x", "$.metadata"],
  ])("%s → 422 on %s", (text, path) => {
    const result = CallEndedEvent.safeParse(form(`call_id=c1&agent_id=a1&${text}`));
    expect(result.success).toBe(false);
    if (!result.success) expect(new Set(zodProblems(result.error).map((p) => p.path))).toEqual(new Set([path]));
  });

  it("does not make a number of a numeric call_id in JSON", () => {
    expect(coerceCallEnded({ call_id: 42, agent_id: "a1" })).toEqual({ call_id: 42, agent_id: "a1" });
  });
});

describe("coerceCallEnded: JSON from no-code tools", () => {
  it("applies the same readings to a parsed JSON body, leaving real JSON types alone", () => {
    const input = { call_id: "c1", agent_id: "a1", duration_seconds: "230", ended_at: 1773155045, "metadata.order_id": "12345", metadata: { a: 1 } };
    expect(coerceCallEnded(input)).toEqual({
      call_id: "c1",
      agent_id: "a1",
      duration_seconds: 230,
      ended_at: "2026-03-10T15:04:05.000Z",
      metadata: { a: 1, order_id: "12345" },
    });
    expect(input.metadata).toEqual({ a: 1 });
    expect(coerceCallEnded({ call_id: "c1", duration_seconds: 12.5 })).toEqual({ call_id: "c1", duration_seconds: 12.5 });
  });

  it("nests only metadata and details", () => {
    expect(coerceCallEnded({ caller__name: "x", "summary.text": "y" })).toEqual({ caller__name: "x", "summary.text": "y" });
  });

  it("ignores prototype keys at every depth", () => {
    const body = form("__proto__[polluted]=1&metadata[__proto__][polluted]=1&metadata__constructor__prototype=1&metadata.ok=1") as any;
    expect(body.metadata).toEqual({ ok: "1" });
    expect(({} as any).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(body.metadata)).toBe(Object.prototype);
  });

  it("does not overwrite a value that is not an object", () => {
    expect(coerceCallEnded({ metadata: "text", metadata__a: "1" })).toEqual({ metadata: "text", metadata__a: "1" });
  });
});

describe("keyPath", () => {
  it.each([
    ["metadata__order_id", ["metadata", "order_id"]],
    ["details[a][b]", ["details", "a", "b"]],
    ["metadata.a.b", ["metadata", "a", "b"]],
    ["metadata[tags][]", ["metadata", "tags", ""]],
    ["call_id", null],
    ["metadata", null],
    ["metadata__", null],
    ["metadata[][x]", null],
    ["metadata..x", null],
    ["other[x]", null],
  ])("%s", (key, path) => {
    expect(keyPath(key)).toEqual(path);
  });
});
