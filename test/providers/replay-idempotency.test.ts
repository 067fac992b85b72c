import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import type { Job } from "../../src/ledger/plan";
import { callEvent, makeDue, pendingJobs, postEvent, putAgent, request, uniqueId } from "../helpers";
import { jsonResponse } from "./harness";

const SETTINGS = { RESEND_API_KEY: "re_test", EMAIL_FROM: "Acme <support@acme.test>" };

async function consume(job: Job) {
  const batch = createMessageBatch<Job>("actions", [{ id: "m", timestamp: new Date(), attempts: 1, body: job }]);
  const ctx = createExecutionContext();
  await worker.queue!(batch as MessageBatch, { ...env, ...SETTINGS } as CloudflareBindings, ctx);
  return getQueueResult(batch, ctx);
}

afterEach(() => vi.restoreAllMocks());

describe("provider idempotency keys", () => {
  it("stay the same across retries of a delivery and change with each replay", async () => {
    const keys: string[] = [];
    let calls = 0;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (_input, init) => {
      keys.push(new Headers(init?.headers).get("idempotency-key")!);
      calls++;
      return calls === 1 ? jsonResponse(503, { name: "application_error", message: "busy" }) : jsonResponse(200, { id: `em_${calls}` });
    });
    const agentId = uniqueId("agent");
    await putAgent(agentId, {
      voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "email", to: "{{caller_email}}", subject: "Hi", body: "Thanks" }] } },
    });
    const event = callEvent({ agent_id: agentId });
    await postEvent(event);
    const [job] = await pendingJobs(agentId, event.call_id);

    await consume(job!); // 503: retried later, as a new job
    await makeDue(agentId, event.call_id);
    const [retry] = await pendingJobs(agentId, event.call_id);
    await consume(retry!); // the retry delivers
    expect(keys).toEqual([job!.delivery_id, job!.delivery_id]);

    expect((await request("POST", `/deliveries/${job!.delivery_id}/retry`)).status).toBe(202);
    const [replayed] = await pendingJobs(agentId, event.call_id);
    await consume(replayed!);
    expect(keys[2]).toBe(`${job!.delivery_id}-r1`);
  });
});
