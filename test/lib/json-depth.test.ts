import { SELF, createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { coerceCallEnded } from "../../src/ingest/lenient-body";
import { MAX_JSON_DEPTH, nestsDeeperThan, tooDeep, tooDeepAt } from "../../src/lib/json-depth";
import { INGEST, callEvent, putAgent, request, uniqueId } from "../helpers";
import { signVapi } from "../platforms/sign";

/** `{"a":{"a":…{}}}` with `levels` objects, as JSON text: too deep for recursion when large. */
const nested = (levels: number) => `${'{"a":'.repeat(levels - 1)}{}${"}".repeat(levels - 1)}`;
/** Where a problem names a value `levels` objects into `nested(…)` placed at `prefix`. */
const pathOf = (prefix: string, levels: number) => prefix + ".a".repeat(levels);

describe("tooDeep", () => {
  it("names the first object or list past the limit, in document order", () => {
    expect(tooDeep({ a: 1, b: { c: [1] } }, 2)).toEqual(["b", "c"]);
    expect(tooDeep({ a: [[1]], b: { c: {} } }, 2)).toEqual(["a", 0]);
    expect(tooDeep({ a: { b: 1 }, c: "x" }, 2)).toBeNull();
    expect(tooDeep("text", 0)).toBeNull();
  });

  it("measures a value far too deep for recursion", () => {
    const deep = JSON.parse(nested(100_000));
    expect(tooDeep(deep)).toHaveLength(MAX_JSON_DEPTH);
    expect(tooDeep(JSON.parse(nested(MAX_JSON_DEPTH)))).toBeNull();
  });

  it("is told from a body's text alone as from its parsed value, brackets in strings aside", () => {
    const bodies = [
      nested(MAX_JSON_DEPTH),
      nested(MAX_JSON_DEPTH + 1),
      `{"a":"{{{{[[[[","b":"\\"{{","c":[[{}]]}`,
      `[${nested(MAX_JSON_DEPTH - 1)}]`,
      `{"s":"${"[".repeat(100)}"}`,
      "42",
      '"text"',
    ];
    for (const text of bodies) expect(nestsDeeperThan(text), text.slice(0, 40)).toBe(tooDeep(JSON.parse(text)) !== null);
    expect(nestsDeeperThan(nested(100_000))).toBe(true);
    expect(nestsDeeperThan('{"a":{"b":[1]}}', 2)).toBe(true);
    expect(nestsDeeperThan('{"a":{"b":"[{"}}', 2)).toBe(false);
  });

  it("counts the levels above a value found inside a body", () => {
    expect(tooDeepAt(["metadata"], { a: {} }, 2)).toEqual(["metadata", "a"]);
    expect(tooDeepAt(["metadata"], { a: 1 }, 2)).toBeNull();
  });

  it("keeps a form's metadata given as JSON text too deep unread, and reports where", () => {
    const problems: unknown[] = [];
    const body = coerceCallEnded(new URLSearchParams({ call_id: "c1", metadata: nested(3_000) }), (path, message) => problems.push({ path, message }));
    expect((body as { metadata: unknown }).metadata).toBe(nested(3_000));
    expect(problems).toEqual([{ path: ["metadata", ...Array(MAX_JSON_DEPTH - 1).fill("a")], message: `nested more than ${MAX_JSON_DEPTH} levels deep` }]);
  });
});

describe("bodies nested too deep", () => {
  /** Expects a 422 naming `path`. */
  async function refused(res: Response, path: string) {
    expect(res.status, await res.clone().text()).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(((await res.json()) as any).errors.map((e: any) => e.path)).toEqual([path]);
  }

  it("POST /calls/ended, as JSON or as a form's JSON text, and a body as deep as allowed is accepted", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    const event = JSON.stringify(callEvent({ agent_id: agentId, metadata: {} }));
    const withMetadata = (metadata: string) => event.replace('"metadata":{}', `"metadata":${metadata}`);
    await refused(await request("POST", "/calls/ended", withMetadata(nested(3_000)), INGEST), pathOf("$.metadata", MAX_JSON_DEPTH - 1));
    const form = new URLSearchParams({ call_id: uniqueId("call"), agent_id: agentId, metadata: nested(3_000) }).toString();
    const res = await SELF.fetch("https://relay.test/calls/ended", { method: "POST", headers: { ...INGEST, "content-type": "application/x-www-form-urlencoded" }, body: form });
    await refused(res, pathOf("$.metadata", MAX_JSON_DEPTH - 1));
    expect((await request("POST", "/calls/ended", withMetadata(nested(MAX_JSON_DEPTH - 1)), INGEST)).status).toBe(202);
  });

  it("POST /calls/ended/vapi, signed", async () => {
    const body = JSON.stringify({ message: { type: "end-of-call-report", call: { id: uniqueId("call"), metadata: {} } } }).replace('"metadata":{}', `"metadata":${nested(3_000)}`);
    const ctx = createExecutionContext();
    const headers = { "content-type": "application/json", ...(await signVapi("vapi-secret", body, Math.floor(Date.now() / 1000))) };
    const res = await worker.fetch!(new Request("https://relay.test/calls/ended/vapi", { method: "POST", headers, body }) as any, { ...env, VAPI_WEBHOOK_SECRET: "vapi-secret" } as CloudflareBindings, ctx);
    await waitOnExecutionContext(ctx);
    await refused(res, pathOf("$.message.call.metadata", MAX_JSON_DEPTH - 3));
  });

  it("PATCH /agents/{id}", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    await refused(await request("PATCH", `/agents/${agentId}`, `{"templates":{"deep":{"html":${nested(3_000)}}}}`), pathOf("$.templates.deep.html", MAX_JSON_DEPTH - 3));
  });

  it("POST /outbound-calls, and PATCH /triggers/{id} and POST /hooks/{id} of a trigger", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, { name: "Acme", voice_tools: { outbound_calls: { platform: { type: "vapi", assistant_id: "asst_1", phone_number_id: "pn_1" } } } });
    const call = `{"agent_id":"${agentId}","phone_number":"+14155551234","metadata":${nested(3_000)}}`;
    await refused(await request("POST", "/outbound-calls", call), pathOf("$.metadata", MAX_JSON_DEPTH - 1));

    const created = await request("POST", "/triggers", { name: "Deep", agent_id: agentId });
    const trigger = (await created.json()) as { id: string; secret: string };
    await refused(await request("PATCH", `/triggers/${trigger.id}`, `{"filter":[{"field":"x","op":"eq","value":${nested(3_000)}}]}`), pathOf("$.filter[0].value", MAX_JSON_DEPTH - 3));
    const hook = await request("POST", `/hooks/${trigger.id}`, call, { authorization: `Bearer ${trigger.secret}` });
    await refused(hook, pathOf("$.metadata", MAX_JSON_DEPTH - 1));
  });
});
