import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import type { Job } from "../../src/ledger/plan";
import { executeAction } from "../../src/pipeline/execute";
import { AgentSecretStore } from "../../src/store/agent-secrets";
import { callEvent, pendingJobs, postEvent, putAgent, request, uniqueId } from "../helpers";

const DEPLOYMENT_SECRET = "whsec_dGVzdC13ZWJob29rLXNpZ25pbmctc2VjcmV0";
const HOOK_URL = "https://crm.example.com/api/call-completed";
const WEBHOOK_AGENT = { voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "webhook", url: HOOK_URL }] } } };

interface Captured {
  headers: Record<string, string>;
  body: string;
}

/** Records every outbound request and answers 200. */
function captureFetch(): Captured[] {
  const seen: Captured[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init as RequestInit);
    seen.push({ headers: Object.fromEntries(req.headers), body: await req.text() });
    return new Response("ok", { status: 200 });
  });
  return seen;
}

afterEach(() => vi.restoreAllMocks());

/** Whether the official library accepts a captured webhook with this one secret. */
function verifies(secret: string, req: { headers: Record<string, string>; body: string }): boolean {
  try {
    new Webhook(secret).verify(req.body, req.headers);
    return true;
  } catch {
    return false;
  }
}

async function newSecret(agentId: string) {
  const res = await request("POST", `/agents/${agentId}/webhook-secret`);
  expect(res.status).toBe(201);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return (await res.json()) as { agent_id: string; secret: string; created_at: string; previous_secret_expires_at: string | null };
}

/** One attempt of the agent's webhook action, through the real send path. */
async function attempt(agentId: string, now?: Date) {
  if (now) vi.useFakeTimers({ now, toFake: ["Date"] });
  try {
    const event = callEvent({ agent_id: agentId });
    const claim = {
      ok: true,
      action: { type: "webhook", url: HOOK_URL, include_transcript: false, include_recording_url: false },
      event,
      delivery_id: `dlv_${uniqueId("x")}`,
      idempotency_key: "k",
      agent: { id: agentId, name: agentId, templates: {} },
      received_at: new Date().toISOString(),
    } as unknown as Parameters<typeof executeAction>[0];
    return await executeAction(claim, env, { fetch: globalThis.fetch }, { beforeSend: async () => {} });
  } finally {
    vi.useRealTimers();
  }
}

describe("an agent's own webhook secret", () => {
  it("signs the agent's webhooks through the queue consumer, alone: the deployment secret no longer verifies", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, WEBHOOK_AGENT);
    const { secret, previous_secret_expires_at } = await newSecret(agentId);
    expect(secret).toMatch(/^whsec_/);
    expect(previous_secret_expires_at).toBeNull();

    const seen = captureFetch();
    const event = callEvent({ agent_id: agentId });
    expect((await postEvent(event)).status).toBe(202);
    const jobs = await pendingJobs(agentId, event.call_id);
    const batch = createMessageBatch<Job>("actions", jobs.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })));
    const ctx = createExecutionContext();
    await worker.queue!(batch as MessageBatch, env, ctx);
    await getQueueResult(batch, ctx);

    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
    expect(verifies(secret, seen[0]!)).toBe(true);
    expect(verifies(DEPLOYMENT_SECRET, seen[0]!)).toBe(false);
  });

  it("one agent's secret cannot verify (or forge) another agent's webhooks", async () => {
    const a = uniqueId("agent");
    const b = uniqueId("agent");
    await putAgent(a, WEBHOOK_AGENT);
    await putAgent(b, WEBHOOK_AGENT);
    const secretA = (await newSecret(a)).secret;
    const secretB = (await newSecret(b)).secret;
    const seen = captureFetch();
    await attempt(a);
    await attempt(b);
    expect(verifies(secretA, seen[0]!)).toBe(true);
    expect(verifies(secretB, seen[0]!)).toBe(false);
    expect(verifies(secretB, seen[1]!)).toBe(true);
    expect(verifies(secretA, seen[1]!)).toBe(false);
  });

  it("rotating keeps the previous secret signing beside the new one for 24 hours, read at each attempt", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, WEBHOOK_AGENT);
    const first = await newSecret(agentId);
    const second = await newSecret(agentId);
    expect(Date.parse(second.previous_secret_expires_at!) - Date.parse(second.created_at)).toBe(24 * 3600 * 1000);

    const seen = captureFetch();
    expect((await attempt(agentId)).result.outcome).toBe("delivered");
    expect(seen[0]!.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(verifies(first.secret, seen[0]!)).toBe(true);
    expect(verifies(second.secret, seen[0]!)).toBe(true);

    // A retry a day later: only the new secret signs.
    await attempt(agentId, new Date(Date.parse(second.previous_secret_expires_at!) + 1000));
    expect(seen[1]!.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
    const signedAt = Number(seen[1]!.headers["webhook-timestamp"]);
    const store = await new AgentSecretStore(env.DB).signingSecrets(agentId, [DEPLOYMENT_SECRET], new Date(signedAt * 1000));
    expect(store).toEqual({ secrets: [second.secret], source: "agent" });
  });

  it("rotating twice within a day retires the oldest at once: at most two secrets sign", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, WEBHOOK_AGENT);
    const first = await newSecret(agentId);
    const second = await newSecret(agentId);
    const third = await newSecret(agentId);
    const seen = captureFetch();
    await attempt(agentId);
    expect(verifies(third.secret, seen[0]!)).toBe(true);
    expect(verifies(second.secret, seen[0]!)).toBe(true);
    expect(verifies(first.secret, seen[0]!)).toBe(false);
  });

  it("DELETE returns the agent to the deployment's secrets", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, WEBHOOK_AGENT);
    const { secret } = await newSecret(agentId);
    expect((await request("DELETE", `/agents/${agentId}/webhook-secret`)).status).toBe(204);
    const seen = captureFetch();
    await attempt(agentId);
    expect(verifies(DEPLOYMENT_SECRET, seen[0]!)).toBe(true);
    expect(verifies(secret, seen[0]!)).toBe(false);
    expect((await request("DELETE", `/agents/${agentId}/webhook-secret`)).status).toBe(204);
  });

  it("preview shows the request signed the same way", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, WEBHOOK_AGENT);
    const { secret } = await newSecret(agentId);
    const preview = (await (await request("POST", `/agents/${agentId}/preview`)).json()) as any;
    const req = preview.actions[0].request;
    expect(verifies(secret, req)).toBe(true);
    expect(verifies(DEPLOYMENT_SECRET, req)).toBe(false);
    expect(JSON.stringify(preview)).not.toContain(secret);
  });

  it("is answered once: never by the agent API, and gone with the agent", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, WEBHOOK_AGENT);
    const { secret } = await newSecret(agentId);
    for (const path of [`/agents/${agentId}`, `/agents?cursor=${agentId.slice(0, -1)}`]) {
      expect(await (await request("GET", path)).text()).not.toContain(secret.slice(6));
    }
    expect((await postEvent(callEvent({ agent_id: agentId }))).status).toBe(202);
    const cached = await env.CONFIG_CACHE.get(`agent:${agentId}`);
    expect(cached).toContain(agentId);
    expect(cached).not.toContain(secret.slice(6));
    expect((await request("DELETE", `/agents/${agentId}`)).status).toBe(204);
    expect(await new AgentSecretStore(env.DB).stored(agentId)).toEqual([]);
  });

  it("answers 404 for an unknown agent, and only to the admin key", async () => {
    const ghost = uniqueId("ghost");
    expect((await request("POST", `/agents/${ghost}/webhook-secret`)).status).toBe(404);
    expect((await request("DELETE", `/agents/${ghost}/webhook-secret`)).status).toBe(404);
    expect(await new AgentSecretStore(env.DB).stored(ghost)).toEqual([]);
    expect((await request("POST", `/agents/${ghost}/webhook-secret`, undefined, {})).status).toBe(401);
  });
});

describe("an agent's secrets in an isolate's memory", () => {
  it("are read from D1 once per ten seconds, and a rotation or removal here applies at once", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, WEBHOOK_AGENT);
    const store = new AgentSecretStore(env.DB);
    const first = await store.rotate(agentId, new Date());
    const reads = vi.spyOn(env.DB, "prepare");
    for (let i = 0; i < 3; i++) expect((await store.stored(agentId)).map((s) => s.secret)).toEqual([first!.secret]);
    expect(reads).toHaveBeenCalledTimes(1);
    vi.restoreAllMocks();

    const second = await store.rotate(agentId, new Date());
    expect((await store.stored(agentId)).map((s) => s.secret).sort()).toEqual([first!.secret, second!.secret].sort());
    await store.remove(agentId);
    expect(await store.stored(agentId)).toEqual([]);
  });
});
