import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { AgentStore } from "../../src/store/agents";
import { uniqueId } from "../helpers";

const followUp = (enabled: boolean) => ({
  voice_tools: { post_call_follow_up: { enabled, actions: [{ type: "sms" as const, template: "Hi" }] } },
});

describe("agent config cache", () => {
  it("a save that lands while an event is reading the agent is seen by the next event", async () => {
    const id = uniqueId("agent");
    const writer = new AgentStore(env.DB, env.CONFIG_CACHE);
    await writer.put(id, followUp(true), new Date().toISOString());

    // The reader has read the enabled config from D1; before its cache put lands, the
    // agent is disabled (D1 written, cache invalidated). Then the reader's put goes through.
    let raced = false;
    const racingCache = {
      get: env.CONFIG_CACHE.get.bind(env.CONFIG_CACHE),
      delete: env.CONFIG_CACHE.delete.bind(env.CONFIG_CACHE),
      async put(key: string, value: string, options?: KVNamespacePutOptions) {
        if (!raced) {
          raced = true;
          await writer.put(id, followUp(false), new Date(Date.now() + 1).toISOString());
        }
        return env.CONFIG_CACHE.put(key, value, options);
      },
    } as unknown as KVNamespace;
    const seenByRacingEvent = await new AgentStore(env.DB, racingCache).getCached(id);
    expect(seenByRacingEvent?.voice_tools.post_call_follow_up.enabled).toBe(true);

    const next = await new AgentStore(env.DB, env.CONFIG_CACHE).getCached(id);
    expect(next?.voice_tools.post_call_follow_up.enabled).toBe(false);
  });

  it("never caches for longer than 60 s, so other locations are at most a minute behind", async () => {
    const id = uniqueId("agent");
    const store = new AgentStore(env.DB, env.CONFIG_CACHE);
    await store.put(id, followUp(true), new Date().toISOString());
    const puts = vi.spyOn(env.CONFIG_CACHE, "put");
    const gets = vi.spyOn(env.CONFIG_CACHE, "get");
    await store.getCached(id);
    await store.getCached(uniqueId("no_such_agent"));
    expect(puts.mock.calls.length).toBeGreaterThan(0);
    for (const call of puts.mock.calls) expect((call[2] as KVNamespacePutOptions).expirationTtl).toBeLessThanOrEqual(60);
    for (const call of gets.mock.calls) expect((call[1] as { cacheTtl?: number }).cacheTtl).toBeLessThanOrEqual(60);
    vi.restoreAllMocks();
  });

  it("answers a busy agent from this isolate's memory, and sees a save made here at once", async () => {
    const id = uniqueId("agent");
    const store = new AgentStore(env.DB, env.CONFIG_CACHE);
    await store.put(id, followUp(true), new Date().toISOString());
    const gets = vi.spyOn(env.CONFIG_CACHE, "get");
    for (let i = 0; i < 5; i++) expect((await store.getCached(id))?.voice_tools.post_call_follow_up.enabled).toBe(true);
    expect(gets).toHaveBeenCalledTimes(1);
    await store.put(id, followUp(false), new Date().toISOString());
    expect((await store.getCached(id))?.voice_tools.post_call_follow_up.enabled).toBe(false);
    vi.restoreAllMocks();
  });

  it("forgets what it remembered after ten seconds", async () => {
    const id = uniqueId("agent");
    const store = new AgentStore(env.DB, env.CONFIG_CACHE);
    await store.put(id, followUp(true), new Date().toISOString());
    await store.getCached(id);
    const gets = vi.spyOn(env.CONFIG_CACHE, "get");
    vi.useFakeTimers({ now: Date.now() + 10_001, toFake: ["Date"] });
    try {
      await store.getCached(id);
      expect(gets).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
      vi.restoreAllMocks();
    }
  });
});
