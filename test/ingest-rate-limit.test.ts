import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { enforceIngestRateLimit, ingestRateLimitKey, ingestRateLimiter } from "../src/security/rate-limit";
import { INGEST, callEvent, postEvent, putAgent, request, uniqueId } from "./helpers";

/** The limit wrangler.toml gives INGEST_RATE_LIMITER. */
const LIMIT = 600;

/** Uses up an agent's allowance through the real binding, as that many events would. */
async function exhaust(agentId: string) {
  const limiter = ingestRateLimiter(env)!;
  for (let i = 0; i < LIMIT; i++) await limiter.limit({ key: ingestRateLimitKey(agentId) });
}

afterEach(() => vi.restoreAllMocks());

describe("per-agent ingest rate limit (INGEST_RATE_LIMITER binding)", () => {
  it("is bound in workerd from wrangler.toml", () => {
    expect(ingestRateLimiter(env)).toBeDefined();
  });

  it("answers 429 problem+json with Retry-After once an agent is over it, and stores nothing", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    expect((await postEvent(callEvent({ agent_id: agentId }))).status).toBe(202);
    await exhaust(agentId);

    const event = callEvent({ agent_id: agentId });
    const res = await postEvent(event);
    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("retry-after")).toBe("60");
    const problem = (await res.json()) as any;
    expect(problem).toMatchObject({ status: 429, title: "Too Many Requests" });
    expect(problem.detail).toContain(agentId);
    expect((await request("GET", `/calls/${event.call_id}?agent_id=${agentId}`)).status).toBe(404);
  });

  it("counts each agent on its own", async () => {
    const busy = uniqueId("agent");
    const quiet = uniqueId("agent");
    await exhaust(busy);
    expect((await postEvent(callEvent({ agent_id: busy }))).status).toBe(429);
    expect((await postEvent(callEvent({ agent_id: quiet }))).status).toBe(202);
  });

  it("is checked after auth: a caller without credentials cannot use up an agent's allowance", async () => {
    const agentId = uniqueId("agent");
    const limit = vi.spyOn(ingestRateLimiter(env)!, "limit");
    expect((await postEvent(callEvent({ agent_id: agentId }), {})).status).toBe(401);
    expect((await postEvent(callEvent({ agent_id: agentId }), { authorization: "Bearer cri_not-a-key" })).status).toBe(401);
    expect(limit).not.toHaveBeenCalled();
    expect((await postEvent(callEvent({ agent_id: agentId }), INGEST)).status).toBe(202);
    expect(limit).toHaveBeenCalledWith({ key: ingestRateLimitKey(agentId) });
  });

  it("lets ingest work when a deployment has no binding", async () => {
    const { INGEST_RATE_LIMITER: _removed, ...unbound } = env;
    const event = callEvent({ agent_id: uniqueId("agent") });
    const ctx = createExecutionContext();
    const res = await worker.fetch!(
      new Request("https://relay.test/calls/ended", {
        method: "POST",
        headers: { ...INGEST, "content-type": "application/json" },
        body: JSON.stringify(event),
      }) as Request<unknown, IncomingRequestCfProperties>,
      unbound as CloudflareBindings,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(202);
  });
});

describe("enforceIngestRateLimit", () => {
  const limiter = (outcome: RateLimitOutcome | Error): RateLimit => ({
    limit: async () => {
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
  });

  it("passes under the limit, without a binding, and when the binding fails", async () => {
    await expect(enforceIngestRateLimit(limiter({ success: true }), "a")).resolves.toBeUndefined();
    await expect(enforceIngestRateLimit(undefined, "a")).resolves.toBeUndefined();
    vi.spyOn(console, "warn").mockImplementation(() => {});
    await expect(enforceIngestRateLimit(limiter(new Error("down")), "a")).resolves.toBeUndefined();
  });

  it("throws a 429 AppError with Retry-After over the limit", async () => {
    await expect(enforceIngestRateLimit(limiter({ success: false }), "agent_x")).rejects.toMatchObject({
      status: 429,
      code: "rate_limited",
      headers: { "retry-after": "60" },
    });
  });

  it("finds no binding on an env without one, or with something else under the name", () => {
    expect(ingestRateLimiter({})).toBeUndefined();
    expect(ingestRateLimiter({ INGEST_RATE_LIMITER: "600" })).toBeUndefined();
  });
});
