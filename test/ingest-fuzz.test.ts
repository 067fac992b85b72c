import { describe, expect, it } from "vitest";
import { INGEST, callEvent, postEvent, request } from "./helpers";

/** A small seeded generator, so a failure names a body that can be replayed. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function anyValue(next: () => number, depth = 0): unknown {
  const pick = Math.floor(next() * (depth > 2 ? 6 : 8));
  switch (pick) {
    case 0: return null;
    case 1: return next() > 0.5;
    case 2: return Math.floor(next() * 2e6) - 1e6;
    case 3: return next() * 1e300;
    case 4: return `${"x".repeat(Math.floor(next() * 40))}\u0000\u2028😀`;
    case 5: return "";
    case 6: return Array.from({ length: Math.floor(next() * 4) }, () => anyValue(next, depth + 1));
    default: {
      const keys = ["call_id", "agent_id", "caller_number", "duration_seconds", "summary", "transcript", "recording_url", "ended_at", "metadata", "details", "__proto__", "constructor"];
      return Object.fromEntries(keys.filter(() => next() > 0.5).map((k) => [k, anyValue(next, depth + 1)]));
    }
  }
}

describe("ingest never answers 5xx", () => {
  it("to 150 random bodies built around the event's fields", async () => {
    const next = random(20261121);
    for (let i = 0; i < 150; i++) {
      const base = next() > 0.3 ? callEvent() : {};
      const mutated = { ...base, ...(anyValue(next) as object) };
      const body = next() > 0.9 ? JSON.stringify(mutated).slice(0, Math.floor(next() * 40)) : JSON.stringify(mutated);
      const res = await postEvent(body, INGEST);
      expect(res.status, body.slice(0, 300)).toBeLessThan(500);
      await res.body?.cancel();
    }
  });

  it("to odd headers and methods", async () => {
    const cases: [string, string, string | undefined, Record<string, string>][] = [
      ["POST", "/calls/ended", JSON.stringify(callEvent()), { ...INGEST, "content-type": "application/json; charset=latin1" }],
      ["POST", "/calls/ended", JSON.stringify(callEvent()), { ...INGEST, "content-type": "application/cloudevents+json" }],
      ["POST", "/calls/ended", "\uFEFF{}", { ...INGEST, "content-type": "application/json" }],
      ["POST", "/calls/ended", "{}", { authorization: "Basic dXNlcjpwYXNz", "content-type": "application/json" }],
      ["POST", "/calls/ended", "{}", { "webhook-id": "x", "webhook-timestamp": "nope", "webhook-signature": "v1,@@", "content-type": "application/json" }],
      ["GET", "/calls/ended", undefined, INGEST],
      ["PUT", "/calls/ended", "{}", { ...INGEST, "content-type": "application/json" }],
    ];
    for (const [method, path, body, headers] of cases) {
      const res = await request(method, path, body, headers);
      expect(res.status, `${method} ${JSON.stringify(headers)}`).toBeLessThan(500);
      expect(res.headers.get("content-type"), `${method} ${path}`).toMatch(/json/);
    }
  });
});
