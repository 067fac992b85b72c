import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_INGEST_KEYS, matchesIngestKey, newIngestKey, sha256Hex } from "../../src/security/ingest-keys";
import { AgentStore } from "../../src/store/agents";
import { ADMIN, INGEST, callEvent, postEvent, putAgent, request, uniqueId } from "../helpers";

async function createKey(agentId: string) {
  const res = await request("POST", `/agents/${agentId}/ingest-key`);
  expect(res.status).toBe(201);
  return (await res.json()) as { agent_id: string; id: string; key: string; created_at: string };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe("ingest key helpers", () => {
  it("makes cri_ keys with 256 random bits, kept only as their SHA-256", async () => {
    const now = new Date("2026-03-10T15:04:05Z");
    const a = await newIngestKey(now);
    const b = await newIngestKey(now);
    expect(a.key).toMatch(/^cri_[A-Za-z0-9_-]{43}$/);
    expect(a.key).not.toBe(b.key);
    expect(a.ref.id).not.toBe(b.ref.id);
    expect(a.ref).toEqual({ id: expect.stringMatching(/^ik_/), sha256: await sha256Hex(a.key), created_at: now.toISOString() });
    expect(JSON.stringify(a.ref)).not.toContain(a.key.slice(4));
  });

  it("matches a hash against every stored one", async () => {
    const keys = await Promise.all([1, 2, 3].map(() => newIngestKey(new Date())));
    const refs = keys.map((k) => k.ref);
    expect(matchesIngestKey(await sha256Hex(keys[2]!.key), refs)).toBe(true);
    expect(matchesIngestKey(await sha256Hex("cri_other"), refs)).toBe(false);
    expect(matchesIngestKey(await sha256Hex(keys[0]!.key), [])).toBe(false);
    expect(matchesIngestKey(await sha256Hex(keys[0]!.key), [{ id: "x", sha256: "short", created_at: "" }])).toBe(false);
  });
});

describe("per-agent ingest keys", () => {
  it("a key works for its own agent only; INGEST_API_KEY still works for every agent", async () => {
    const a = uniqueId("agent");
    const b = uniqueId("agent");
    await putAgent(a);
    await putAgent(b);
    const { key, agent_id } = await createKey(a);
    expect(agent_id).toBe(a);
    expect(key).toMatch(/^cri_/);

    expect((await postEvent(callEvent({ agent_id: a }), bearer(key))).status).toBe(202);
    const forged = await postEvent(callEvent({ agent_id: b }), bearer(key));
    expect(forged.status).toBe(401);
    expect(forged.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await forged.json()) as any;
    expect(problem.detail).toMatch(/not a valid ingest key for agent/);
    expect(problem.detail).toContain(b);
    expect(problem.detail).not.toContain(key);
    expect((await postEvent(callEvent({ agent_id: b }), INGEST)).status).toBe(202);
    expect((await postEvent(callEvent({ agent_id: a }), INGEST)).status).toBe(202);
  });

  it("refuses a key for an unknown agent, an unknown key, and any token that is not a key", async () => {
    const a = uniqueId("agent");
    await putAgent(a);
    const { key } = await createKey(a);
    expect((await postEvent(callEvent({ agent_id: uniqueId("ghost") }), bearer(key))).status).toBe(401);
    expect((await postEvent(callEvent({ agent_id: a }), bearer(`${key}x`))).status).toBe(401);
    expect((await postEvent(callEvent({ agent_id: a }), bearer("test-admin-key"))).status).toBe(401);
  });

  it("is stored only as a hash and never returned by the agent API", async () => {
    const a = uniqueId("agent");
    await putAgent(a);
    const { key, id } = await createKey(a);
    const row = await env.DB.prepare("SELECT ingest_keys FROM agents WHERE id = ?").bind(a).first<{ ingest_keys: string }>();
    expect(row!.ingest_keys).not.toContain(key);
    expect(JSON.parse(row!.ingest_keys)).toEqual([expect.objectContaining({ id, sha256: await sha256Hex(key) })]);
    const one = await (await request("GET", `/agents/${a}`)).text();
    const list = await (await request("GET", `/agents?cursor=${a.slice(0, -1)}`)).text();
    const put = await (await request("PATCH", `/agents/${a}`, { name: "Renamed" })).text();
    for (const body of [one, list, put]) {
      expect(body).not.toContain("ingest_keys");
      expect(body).not.toContain(id);
    }
  });

  it("rides on the cached agent entry, so checking a key costs no D1 query", async () => {
    const a = uniqueId("agent");
    await putAgent(a);
    const { id } = await createKey(a);
    await new AgentStore(env.DB, env.CONFIG_CACHE).getCached(a);
    const noD1 = new Proxy({} as D1Database, {
      get() {
        throw new Error("D1 was queried");
      },
    });
    const cached = await new AgentStore(noD1, env.CONFIG_CACHE).getCached(a);
    expect(cached?.ingest_keys?.map((k) => k.id)).toEqual([id]);
  });

  it("survives a config change, and revoking one key by id leaves the others", async () => {
    const a = uniqueId("agent");
    await putAgent(a);
    const first = await createKey(a);
    const second = await createKey(a);
    await request("PATCH", `/agents/${a}`, { name: "Renamed" });
    expect((await postEvent(callEvent({ agent_id: a }), bearer(first.key))).status).toBe(202);

    expect((await request("DELETE", `/agents/${a}/ingest-key?key_id=${first.id}`)).status).toBe(204);
    expect((await postEvent(callEvent({ agent_id: a }), bearer(first.key))).status).toBe(401);
    expect((await postEvent(callEvent({ agent_id: a }), bearer(second.key))).status).toBe(202);
    expect((await request("DELETE", `/agents/${a}/ingest-key?key_id=${first.id}`)).status).toBe(404);
  });

  it("revoking without key_id revokes every key of the agent", async () => {
    const a = uniqueId("agent");
    await putAgent(a);
    const keys = [await createKey(a), await createKey(a)];
    expect((await request("DELETE", `/agents/${a}/ingest-key`)).status).toBe(204);
    for (const { key } of keys) expect((await postEvent(callEvent({ agent_id: a }), bearer(key))).status).toBe(401);
    expect((await request("DELETE", `/agents/${a}/ingest-key`)).status).toBe(204);
  });

  it(`answers 404 for an unknown agent and 409 past ${MAX_INGEST_KEYS} keys`, async () => {
    const ghost = uniqueId("ghost");
    expect((await request("POST", `/agents/${ghost}/ingest-key`)).status).toBe(404);
    expect((await request("DELETE", `/agents/${ghost}/ingest-key`)).status).toBe(404);
    const a = uniqueId("agent");
    await putAgent(a);
    for (let i = 0; i < MAX_INGEST_KEYS; i++) await createKey(a);
    const full = await request("POST", `/agents/${a}/ingest-key`);
    expect(full.status).toBe(409);
    expect(full.headers.get("content-type")).toBe("application/problem+json");
  });

  it("answers the key with Cache-Control: no-store, and only to the admin key", async () => {
    const a = uniqueId("agent");
    await putAgent(a);
    const res = await request("POST", `/agents/${a}/ingest-key`, undefined, ADMIN);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect((await request("POST", `/agents/${a}/ingest-key`, undefined, INGEST)).status).toBe(401);
  });
});
