import { createExecutionContext, createMessageBatch, env, getQueueResult, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { CallLedger } from "../../src/ledger/call-ledger";
import { ledgerStub } from "../../src/ledger/client";
import { readList } from "../../src/ledger/action-list";
import { type Job, type JobMessage, jobsIn, packJobs } from "../../src/ledger/plan";
import { callEvent, consumeMessages, pendingJobs, postEvent, putAgent, request, swapLedgerKv, tracedKv, uniqueId, watchLedgerSends } from "../helpers";

/**
 * A call's actions due together travel in one queue message: one message, one claim request
 * and one record request per call instead of one of each per action.
 */

const TWILIO = { TWILIO_ACCOUNT_SID: "AC123", TWILIO_AUTH_TOKEN: "tok", TWILIO_FROM: "+15005550006" };
const ACTIONS = [
  { type: "webhook", url: "https://crm.example.com/hook" },
  { type: "sms", template: "Thanks for calling", provider: "twilio" },
  { type: "webhook", url: "https://tasks.example.com/hook" },
];

afterEach(() => vi.restoreAllMocks());

const job = (action_index: number, overrides: Partial<Job> = {}): Job => ({
  delivery_id: `dlv_${action_index}`,
  agent_id: "agent_a",
  call_id: "call_1",
  action_index,
  generation: 1,
  ...overrides,
});

const consume = (bodies: JobMessage[], settings: Record<string, string> = {}) => consumeMessages(bodies, { settings });

async function threeActionCall() {
  const agentId = uniqueId("agent");
  await putAgent(agentId, { voice_tools: { post_call_follow_up: { enabled: true, actions: ACTIONS } } });
  const event = callEvent({ agent_id: agentId });
  const sends = await watchLedgerSends(agentId, event.call_id);
  expect((await postEvent(event)).status).toBe(202);
  return { agentId, callId: event.call_id, sends };
}

async function statuses(agentId: string, callId: string): Promise<string[]> {
  const call = (await (await request("GET", `/calls/${callId}?agent_id=${agentId}`)).json()) as { actions: { status: string }[] };
  return call.actions.map((a) => a.status);
}

function answerAll() {
  const seen: string[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
    const url = new Request(input as RequestInfo).url;
    seen.push(url);
    return url.includes("twilio") ? Response.json({ sid: "SM1", status: "queued" }, { status: 201 }) : new Response("ok");
  });
  return seen;
}

describe("jobsIn and packJobs", () => {
  it("reads a job or the jobs of one call, and nothing else", () => {
    expect(jobsIn(job(0))).toEqual([job(0)]);
    expect(jobsIn([job(0), job(1)])).toEqual([job(0), job(1)]);
    expect(jobsIn([])).toBeNull();
    expect(jobsIn([job(0), job(1, { call_id: "call_2" })])).toBeNull();
    expect(jobsIn([job(0), { hello: "world" }])).toBeNull();
    expect(jobsIn("job")).toBeNull();
  });

  it("packs jobs due together into one message and keeps a lone job as itself", () => {
    const packed = packJobs([
      { job: job(0), delaySeconds: 0 },
      { job: job(1), delaySeconds: 0 },
      { job: job(2), delaySeconds: 300 },
    ]);
    expect(packed).toEqual([
      { body: [job(0), job(1)], delaySeconds: 0 },
      { body: job(2), delaySeconds: 300 },
    ]);
  });
});

describe("a call's actions in one message", () => {
  it("are sent as one message at acceptance, claimed and recorded in one request each, and all delivered", async () => {
    const { agentId, callId, sends } = await threeActionCall();
    expect(sends).toHaveBeenCalledTimes(1);
    const messages = [...sends.mock.calls[0]![0]];
    expect(messages).toHaveLength(1);
    const body = messages[0]!.body as Job[];
    expect(body.map((j) => j.action_index)).toEqual([0, 1, 2]);

    const seen = answerAll();
    const claimAll = vi.spyOn(CallLedger.prototype, "claimAll");
    const recordAll = vi.spyOn(CallLedger.prototype, "recordAll");
    const result = await consume([body], TWILIO);
    expect(result.explicitAcks).toEqual(["msg-0"]);
    expect(seen).toHaveLength(3);
    expect(claimAll).toHaveBeenCalledTimes(1);
    expect(recordAll).toHaveBeenCalledTimes(1);
    expect(await statuses(agentId, callId)).toEqual(["delivered", "delivered", "delivered"]);
  });

  it("costs one row written for the message's claims, one for its results and one for the log's confirmation", async () => {
    const { agentId, callId, sends } = await threeActionCall();
    const body = [...sends.mock.calls[0]![0]][0]!.body as Job[];
    const stub = ledgerStub(env, agentId, callId);
    // Counts the writes of the call's record, which holds the action list (each one a row billed).
    let writes = 0;
    await runInDurableObject(stub, (instance) =>
      swapLedgerKv(instance, (real) =>
        tracedKv(real, (operation) => {
          if (operation === "put") writes += 1;
        }),
      ),
    );
    answerAll();
    await consume([body], TWILIO);
    const read = () => runInDurableObject(stub, (_i, state) => ({ writes, list: readList(state.storage.kv) }));
    let seen = await read();
    for (let i = 0; i < 50 && seen.list.actions.some((a) => a.unlogged); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen = await read();
    }
    // The three claims; the SMS marked in flight before Twilio is called (it cannot deduplicate);
    // the three results with their attempts; the log's confirmation, which drops the attempts.
    expect(seen.writes).toBe(4);
    expect(seen.list.actions.map((a) => a.unlogged)).toEqual([undefined, undefined, undefined]);
    expect(seen.list.mark).toMatchObject({ call: true });
  });

  it("dies after sending, before the results are recorded: webhooks go again under the same id, the SMS is not re-sent", async () => {
    const { agentId, callId, sends } = await threeActionCall();
    const body = [...sends.mock.calls[0]![0]][0]!.body as Job[];
    const seen: Request[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const req = new Request(input as RequestInfo, init as RequestInit);
      seen.push(req);
      return req.url.includes("twilio") ? Response.json({ sid: "SM1", status: "queued" }, { status: 201 }) : new Response("ok");
    });
    vi.spyOn(CallLedger.prototype, "recordAll").mockImplementationOnce(async () => {
      throw new Error("object reset");
    });
    expect((await consume([body], TWILIO)).retryMessages).toHaveLength(1);
    expect(seen).toHaveLength(3);

    vi.useFakeTimers({ now: Date.now() + 91_000, toFake: ["Date"] });
    try {
      expect((await consume([body], TWILIO)).explicitAcks).toEqual(["msg-0"]);
    } finally {
      vi.useRealTimers();
    }
    const hooks = seen.filter((r) => !r.url.includes("twilio"));
    expect(hooks).toHaveLength(4);
    expect(new Set(hooks.map((r) => `${r.url} ${r.headers.get("webhook-id")}`)).size).toBe(2);
    expect(seen.filter((r) => r.url.includes("twilio"))).toHaveLength(1);
    expect(await statuses(agentId, callId)).toEqual(["delivered", "unknown", "delivered"]);
  });

  it("retries each failed action as a job of its own", async () => {
    const { agentId, callId, sends } = await threeActionCall();
    const body = [...sends.mock.calls[0]![0]][0]!.body as Job[];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      const url = new Request(input as RequestInfo).url;
      if (url.includes("twilio")) return Response.json({ sid: "SM1", status: "queued" }, { status: 201 });
      return new Response("busy", { status: url.includes("crm") ? 503 : 200 });
    });
    const result = await consume([body], TWILIO);
    expect(result.explicitAcks).toEqual(["msg-0"]);
    expect(await statuses(agentId, callId)).toEqual(["retrying", "delivered", "delivered"]);
    const retries = sends.mock.calls.slice(1).flatMap((call) => [...call[0]]);
    expect(retries).toHaveLength(1);
    expect(retries[0]!.body).toMatchObject({ action_index: 0, generation: 2 });
    expect(await pendingJobs(agentId, callId)).toHaveLength(1);
  });

  it("dead-letters every job of a message that exhausted its retries", async () => {
    const { agentId, callId, sends } = await threeActionCall();
    const body = [...sends.mock.calls[0]![0]][0]!.body as Job[];
    const batch = createMessageBatch<JobMessage>("actions-dlq", [{ id: "d0", timestamp: new Date(), attempts: 1, body }]);
    const ctx = createExecutionContext();
    await worker.queue!(batch as MessageBatch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["d0"]);
    expect(await statuses(agentId, callId)).toEqual(["failed", "failed", "failed"]);
  });
});
