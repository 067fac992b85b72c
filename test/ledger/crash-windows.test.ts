import { createExecutionContext, createMessageBatch, env, getQueueResult, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { readList } from "../../src/ledger/action-list";
import { CallLedger } from "../../src/ledger/call-ledger";
import { CRASH_BUDGET } from "../../src/ledger/state";
import { ledgerFor, ledgerStub } from "../../src/ledger/client";
import type { Job } from "../../src/ledger/plan";
import { DeliveryLog } from "../../src/store/delivery-log";
import { callEvent, editActions, makeDue, pendingJobs, postEvent, putAgent, request, uniqueId } from "../helpers";

/**
 * Each test kills the relay at one point between two state changes and checks what is left:
 * nothing stranded, nothing sent twice where the provider cannot tell, nothing logged as done
 * that was not.
 */

const HOOK = { type: "webhook", url: "https://crm.example.com/hook" };
const TWILIO = { TWILIO_ACCOUNT_SID: "AC123", TWILIO_AUTH_TOKEN: "tok", TWILIO_FROM: "+15005550006" };
const RESEND = { RESEND_API_KEY: "re_test", EMAIL_FROM: "Acme <support@acme.test>" };
const SMS = { type: "sms", template: "Thanks for calling", provider: "twilio" };
const EMAIL = { type: "email", to: "{{caller_email}}", subject: "Summary", body: "Hello", provider: "resend" };

afterEach(() => vi.restoreAllMocks());

async function acceptedCall(actions: unknown[]) {
  const agentId = uniqueId("agent");
  await putAgent(agentId, { voice_tools: { post_call_follow_up: { enabled: true, actions } } });
  const event = callEvent({ agent_id: agentId });
  expect((await postEvent(event)).status).toBe(202);
  return { agentId, callId: event.call_id, stub: ledgerStub(env, agentId, event.call_id) };
}

/** Hands jobs to the real queue handler with provider settings added to the env. */
async function consume(jobs: Job[], settings: Record<string, string> = {}) {
  const batch = createMessageBatch<Job>("actions", jobs.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })));
  const ctx = createExecutionContext();
  await worker.queue!(batch as MessageBatch, { ...env, ...settings } as CloudflareBindings, ctx);
  return getQueueResult(batch, ctx);
}

const inLedger = <T>(stub: DurableObjectStub<CallLedger>, fn: (instance: CallLedger, state: DurableObjectState) => T | Promise<T>) =>
  runInDurableObject(stub, (instance, state) => fn(instance as CallLedger, state));
const ledgerEnv = (stub: DurableObjectStub<CallLedger>) =>
  inLedger(stub, (instance) => (instance as unknown as { env: CloudflareBindings }).env);
const alarmOf = (stub: DurableObjectStub<CallLedger>) => inLedger(stub, (_i, state) => state.storage.getAlarm());
/** Lets the current claim's lease run out, as after a crash. */
const expireLease = (stub: DurableObjectStub<CallLedger>) =>
  inLedger(stub, (_i, state) => editActions(state, () => ({ leased_until: 0 })));
const overdue = (stub: DurableObjectStub<CallLedger>) =>
  inLedger(stub, (_i, state) => editActions(state, () => ({ due_at: Date.now() - 3_600_000, leased_until: 0 })));

async function delivery(agentId: string, callId: string, index = 0) {
  const call = (await (await request("GET", `/calls/${callId}?agent_id=${agentId}`)).json()) as any;
  return call.actions[index];
}

function countFetches(answer: () => Response) {
  const seen: Request[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    seen.push(new Request(input as RequestInfo, init as RequestInit));
    return answer();
  });
  return seen;
}

describe("1. between the commit and the alarm", () => {
  it("the watchdog is armed before the jobs are sent, so a lost send is sent again", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, { voice_tools: { post_call_follow_up: { enabled: true, actions: [HOOK] } } });
    const event = callEvent({ agent_id: agentId });
    const stub = ledgerStub(env, agentId, event.call_id);
    let alarmAtSend: number | null = null;
    await inLedger(stub, (instance, state) => {
      const queue = (instance as unknown as { env: CloudflareBindings }).env.ACTIONS;
      vi.spyOn(queue, "sendBatch").mockImplementation(async () => {
        alarmAtSend = await state.storage.getAlarm();
        throw new Error("object reset");
      });
    });
    expect((await postEvent(event)).status).toBe(202);
    expect(alarmAtSend).not.toBeNull();

    vi.restoreAllMocks();
    await overdue(stub);
    const sends = vi.spyOn((await ledgerEnv(stub)).ACTIONS, "sendBatch");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(sends).toHaveBeenCalledTimes(1);
    // A copy of the job it lost, not a new one.
    expect([...sends.mock.calls[0]![0]].map((m) => (m.body as Job).generation)).toEqual([1]);
  });

  it("a queue running more than the watchdog's margin behind still delivers: the late copy is not superseded", async () => {
    const { agentId, callId, stub } = await acceptedCall([HOOK]);
    const seen = countFetches(() => new Response("ok"));
    // Each round, 70 s pass with the job still queued, the watchdog sends a copy, and only then
    // does the older copy reach the consumer.
    let queued = await pendingJobs(agentId, callId);
    for (let round = 0; round < 2; round++) {
      await inLedger(stub, (_i, state) => editActions(state, (a) => ({ due_at: a.due_at - 70_000 })));
      const sends = vi.spyOn((await ledgerEnv(stub)).ACTIONS, "sendBatch");
      await runDurableObjectAlarm(stub);
      const copies = sends.mock.calls.flatMap(([messages]) => [...messages].flatMap((m) => [m.body].flat() as Job[]));
      sends.mockRestore();
      await consume(queued);
      queued = copies;
    }
    expect(seen).toHaveLength(1);
    expect(await delivery(agentId, callId)).toMatchObject({ status: "delivered", attempts: 1 });
    // The copy still queued finds the work done.
    await consume(queued);
    expect(seen).toHaveLength(1);
  });

  it("a duplicate post re-arms the watchdog when work is still due", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, { voice_tools: { post_call_follow_up: { enabled: true, actions: [HOOK] } } });
    const event = callEvent({ agent_id: agentId });
    await postEvent(event);
    const stub = ledgerStub(env, agentId, event.call_id);
    await inLedger(stub, (_i, state) => state.storage.deleteAlarm());
    expect(await alarmOf(stub)).toBeNull();
    expect((await postEvent(event)).status).toBe(200);
    expect(await alarmOf(stub)).not.toBeNull();
  });
});

describe("2. an attempt that crashes every time", () => {
  it("fails with 'crashed N times' after a small budget, and the watchdog stops re-sending it", async () => {
    const { agentId, callId, stub } = await acceptedCall([HOOK]);
    vi.spyOn(crypto.subtle, "sign").mockRejectedValue(new Error("deterministic bug"));
    for (let i = 0; i < 3; i++) {
      const result = await consume(await pendingJobs(agentId, callId));
      expect(result.retryMessages).toHaveLength(1);
      await expireLease(stub);
    }
    expect(await delivery(agentId, callId)).toMatchObject({ status: "pending", attempts: 0 });
    const last = await consume(await pendingJobs(agentId, callId));
    expect(last.explicitAcks).toHaveLength(1);
    const failed = await delivery(agentId, callId);
    expect(failed).toMatchObject({ status: "failed" });
    expect(failed.last_error).toBe("crashed 3 times without recording an attempt; last: attempt crashed: deterministic bug");

    vi.restoreAllMocks();
    const sends = vi.spyOn((await ledgerEnv(stub)).ACTIONS, "sendBatch");
    await overdue(stub);
    await runDurableObjectAlarm(stub);
    expect(sends).not.toHaveBeenCalled();
  });

  it("with resend_on_unknown, a text that crashes after every send goes out at most three times, then fails", async () => {
    const { agentId, callId, stub } = await acceptedCall([{ ...SMS, resend_on_unknown: true }]);
    const seen = countFetches(() => Response.json({ sid: "SM1", status: "queued" }, { status: 201 }));
    vi.spyOn(CallLedger.prototype, "recordAll").mockRejectedValue(new Error("object reset"));
    for (let round = 0; round < 6; round++) {
      await consume(await pendingJobs(agentId, callId), TWILIO);
      await expireLease(stub);
    }
    vi.restoreAllMocks();
    expect(seen).toHaveLength(CRASH_BUDGET);
    const d = await delivery(agentId, callId);
    expect(d.status).toBe("failed");
    expect(d.last_error).toMatch(/^crashed 3 times without recording an attempt, the last after sending to twilio; last: attempt crashed/);
  });

  it("failing for crashes keeps the real attempts before it in the log", async () => {
    const { agentId, callId, stub } = await acceptedCall([HOOK]);
    countFetches(() => new Response("busy", { status: 503 }));
    await consume(await pendingJobs(agentId, callId));
    vi.restoreAllMocks();
    vi.spyOn(crypto.subtle, "sign").mockRejectedValue(new Error("deterministic bug"));
    for (let i = 0; i <= CRASH_BUDGET; i++) {
      await makeDue(agentId, callId);
      await consume(await pendingJobs(agentId, callId));
      await expireLease(stub);
    }
    vi.restoreAllMocks();
    await runDurableObjectAlarm(stub);
    const d = await delivery(agentId, callId);
    expect(d.status).toBe("failed");
    expect(d.attempt_log.map((a: any) => [a.outcome, a.status_code ?? null])).toEqual([
      ["retry", 503],
      ["failed", null],
    ]);
  });

  it("a stored template that no longer renders fails at once with its message", async () => {
    const { agentId, callId, stub } = await acceptedCall([{ type: "sms", template: "Hi" }]);
    await inLedger(stub, (_i, state) => {
      editActions(state, () => ({ action: JSON.stringify({ type: "sms", template: "{{#open}} never closed" }) }));
    });
    const result = await consume(await pendingJobs(agentId, callId));
    expect(result.retryMessages).toHaveLength(0);
    const failed = await delivery(agentId, callId);
    expect(failed.status).toBe("failed");
    expect(failed.last_error).toMatch(/template/);
  });
});

describe("3. stale writes", () => {
  it("an attempt that outlived its lease cannot overwrite a replay", async () => {
    const { agentId, callId, stub } = await acceptedCall([HOOK]);
    const ledger = ledgerFor(env, agentId, callId);
    const [job] = await pendingJobs(agentId, callId);
    const slow = await ledger.claim(0, job!.generation);
    expect(slow.ok).toBe(true);
    await expireLease(stub);
    // The log has the delivery once the alarm writes it (nothing was recorded to write it sooner).
    await runDurableObjectAlarm(stub);
    expect((await request("POST", `/deliveries/${job!.delivery_id}/retry`)).status).toBe(202);
    const late = { outcome: "failed" as const, started_at: new Date().toISOString(), duration_ms: 70_000, error: "HTTP 400" };
    expect(await ledger.recordAll([{ index: 0, token: (slow as { token: number }).token, attempt: late }])).toEqual([false]);
    expect(await delivery(agentId, callId)).toMatchObject({ status: "pending", attempts: 0 });

    countFetches(() => new Response("ok"));
    await consume(await pendingJobs(agentId, callId));
    expect(await delivery(agentId, callId)).toMatchObject({ status: "delivered", attempts: 1 });
  });

  it("a dead letter of an older job does not fail the action a newer job is delivering", async () => {
    const { agentId, callId } = await acceptedCall([HOOK]);
    countFetches(() => new Response("busy", { status: 503 }));
    const [first] = await pendingJobs(agentId, callId);
    await consume([first!]);
    const batch = createMessageBatch<Job>("actions-dlq", [{ id: "d1", timestamp: new Date(), attempts: 1, body: first! }]);
    const ctx = createExecutionContext();
    await worker.queue!(batch as MessageBatch, env, ctx);
    await getQueueResult(batch, ctx);
    expect(await delivery(agentId, callId)).toMatchObject({ status: "retrying" });
  });

  it("a duplicate copy of a retry's job cannot make the attempt before it is due", async () => {
    const { agentId, callId } = await acceptedCall([HOOK]);
    const seen = countFetches(() => new Response("busy", { status: 503 }));
    await consume(await pendingJobs(agentId, callId));
    const next = await pendingJobs(agentId, callId);
    await consume([...next, ...next]);
    expect(seen).toHaveLength(1);
    expect(await delivery(agentId, callId)).toMatchObject({ status: "retrying", attempts: 1 });
  });
});

describe("4. a replay whose send fails", () => {
  it("answers 202 and the watchdog sends it", async () => {
    const { agentId, callId, stub } = await acceptedCall([HOOK]);
    countFetches(() => new Response("no", { status: 400 }));
    await consume(await pendingJobs(agentId, callId));
    expect(await delivery(agentId, callId)).toMatchObject({ status: "failed" });

    vi.spyOn((await ledgerEnv(stub)).ACTIONS, "sendBatch").mockRejectedValue(new Error("queue unavailable"));
    const [failedJob] = await inLedger(stub, (_i, state) => readList(state.storage.kv).actions);
    expect((await request("POST", `/deliveries/${failedJob!.delivery_id}/retry`)).status).toBe(202);
    expect(await alarmOf(stub)).not.toBeNull();
    expect(await delivery(agentId, callId)).toMatchObject({ status: "pending" });

    vi.restoreAllMocks();
    const sends = vi.spyOn((await ledgerEnv(stub)).ACTIONS, "sendBatch");
    await overdue(stub);
    await runDurableObjectAlarm(stub);
    expect(sends).toHaveBeenCalledTimes(1);
  });
});

describe("5. the delivery log", () => {
  it("when D1 refuses a write, the ledger keeps the attempt and its alarm writes it later", async () => {
    const { agentId, callId, stub } = await acceptedCall([HOOK]);
    const log = new DeliveryLog(env.DB);
    const [job] = await pendingJobs(agentId, callId);
    const db = (await ledgerEnv(stub)).DB;
    vi.spyOn(db, "batch").mockRejectedValue(new Error("D1_ERROR: overloaded"));
    countFetches(() => new Response("ok"));
    await consume([job!]);
    // The accept leaves the log to the first attempt's result, which D1 refused.
    expect(await log.get(job!.delivery_id)).toBeNull();
    const alarm = await alarmOf(stub);
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(Date.now() + 31_000);

    vi.mocked(db.batch).mockRestore();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await log.get(job!.delivery_id)).toMatchObject({ status: "delivered", attempts: 1 });
    expect((await log.attempts([job!.delivery_id])).get(job!.delivery_id)).toHaveLength(1);
  });

  it("an older copy of a delivery never overwrites a newer one", async () => {
    const { agentId, callId } = await acceptedCall([HOOK]);
    const log = new DeliveryLog(env.DB);
    const [job] = await pendingJobs(agentId, callId);
    await runDurableObjectAlarm(ledgerStub(env, agentId, callId));
    const current = (await log.get(job!.delivery_id))!;
    await log.write({ actions: [{ ...current, status: "delivered", attempts: 1, version: current.version + 5 }], attempts: [] });
    await log.write({ actions: [{ ...current, status: "retrying", attempts: 1, version: current.version + 2 }], attempts: [] });
    expect(await log.get(job!.delivery_id)).toMatchObject({ status: "delivered", version: current.version + 5 });
  });
});

describe("at most once where the provider cannot deduplicate", () => {
  /** The provider accepts; the ledger is reset before it records the answer. */
  async function crashAfterSend(_stub: DurableObjectStub<CallLedger>) {
    // RPC calls reach the class's prototype methods, not an instance's own properties.
    vi.spyOn(CallLedger.prototype, "recordAll").mockImplementationOnce(async () => {
      throw new Error("object reset");
    });
  }

  it("an SMS cut off after Twilio accepted it is recorded unknown and not sent again", async () => {
    const { agentId, callId, stub } = await acceptedCall([SMS]);
    const seen = countFetches(() => Response.json({ sid: "SM1", status: "queued" }, { status: 201 }));
    await crashAfterSend(stub);
    expect((await consume(await pendingJobs(agentId, callId), TWILIO)).retryMessages).toHaveLength(1);
    await expireLease(stub);
    await consume(await pendingJobs(agentId, callId), TWILIO);
    expect(seen).toHaveLength(1);
    const d = await delivery(agentId, callId);
    expect(d.status).toBe("unknown");
    expect(d.last_error).toMatch(/outcome unknown.*not re-sent/);
    expect(d.attempt_log.map((a: any) => a.outcome)).toEqual(["unknown"]);
  });

  it("sends again when the action opts into resend_on_unknown", async () => {
    const { agentId, callId, stub } = await acceptedCall([{ ...SMS, resend_on_unknown: true }]);
    const seen = countFetches(() => Response.json({ sid: "SM1", status: "queued" }, { status: 201 }));
    await crashAfterSend(stub);
    await consume(await pendingJobs(agentId, callId), TWILIO);
    await expireLease(stub);
    await consume(await pendingJobs(agentId, callId), TWILIO);
    expect(seen).toHaveLength(2);
    const d = await delivery(agentId, callId);
    expect(d.status).toBe("delivered");
    expect(d.attempt_log.map((a: any) => a.outcome)).toEqual(["unknown", "delivered"]);
  });

  it.each([
    ["a timeout", () => Promise.reject(new DOMException("The operation was aborted due to timeout", "TimeoutError")), /timeout/],
    ["a connection lost mid-answer", () => Promise.reject(new Error("Network connection lost.")), /connection lost/],
    ["a gateway timeout", () => Promise.resolve(new Response("upstream timed out", { status: 504 })), /HTTP 504/],
  ])("an SMS whose answer was lost to %s is recorded unknown and not sent again", async (_label, answer, cause) => {
    const { agentId, callId } = await acceptedCall([SMS]);
    const seen: Request[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      seen.push(new Request(input as RequestInfo, init as RequestInit));
      // Twilio queued the text each time; only the first answer never arrived.
      return seen.length === 1 ? answer() : Response.json({ sid: "SM2", status: "queued" }, { status: 201 });
    });
    expect((await consume(await pendingJobs(agentId, callId), TWILIO)).explicitAcks).toHaveLength(1);
    await makeDue(agentId, callId);
    await consume(await pendingJobs(agentId, callId), TWILIO);
    expect(seen).toHaveLength(1);
    const d = await delivery(agentId, callId);
    expect(d.status).toBe("unknown");
    expect(d.last_error).toMatch(cause);
    expect(d.last_error).toMatch(/outcome unknown: it may have reached twilio, which cannot deduplicate, so it is not re-sent$/);
    expect(d.attempt_log.map((a: any) => a.outcome)).toEqual(["unknown"]);
  });

  it("an SMS whose answer was lost is sent again when the action opts into resend_on_unknown", async () => {
    const { agentId, callId } = await acceptedCall([{ ...SMS, resend_on_unknown: true }]);
    const seen: Request[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      seen.push(new Request(input as RequestInfo, init as RequestInit));
      if (seen.length === 1) throw new DOMException("The operation was aborted due to timeout", "TimeoutError");
      return Response.json({ sid: "SM2", status: "queued" }, { status: 201 });
    });
    await consume(await pendingJobs(agentId, callId), TWILIO);
    expect(await delivery(agentId, callId)).toMatchObject({ status: "retrying" });
    await makeDue(agentId, callId);
    await consume(await pendingJobs(agentId, callId), TWILIO);
    expect(seen).toHaveLength(2);
    const d = await delivery(agentId, callId);
    expect(d.attempt_log.map((a: any) => a.outcome)).toEqual(["retry", "delivered"]);
    expect(d.attempt_log[0].error).toMatch(/sent again as the action sets resend_on_unknown$/);
  });

  it("an SMS refused before it left (the host did not resolve) is retried", async () => {
    const { agentId, callId } = await acceptedCall([SMS]);
    const seen: Request[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      seen.push(new Request(input as RequestInfo, init as RequestInit));
      if (seen.length === 1) throw new TypeError("fetch failed", { cause: Object.assign(new Error("getaddrinfo ENOTFOUND api.twilio.com"), { code: "ENOTFOUND" }) });
      return Response.json({ sid: "SM2", status: "queued" }, { status: 201 });
    });
    await consume(await pendingJobs(agentId, callId), TWILIO);
    await makeDue(agentId, callId);
    await consume(await pendingJobs(agentId, callId), TWILIO);
    expect(seen).toHaveLength(2);
    expect(await delivery(agentId, callId)).toMatchObject({ status: "delivered" });
  });

  it("Resend deduplicates, so an email whose answer was lost is sent again with the same Idempotency-Key", async () => {
    const { agentId, callId } = await acceptedCall([EMAIL]);
    const seen: Request[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      seen.push(new Request(input as RequestInfo, init as RequestInit));
      if (seen.length === 1) throw new DOMException("The operation was aborted due to timeout", "TimeoutError");
      return Response.json({ id: "em_1" });
    });
    await consume(await pendingJobs(agentId, callId), RESEND);
    await makeDue(agentId, callId);
    await consume(await pendingJobs(agentId, callId), RESEND);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.headers.get("idempotency-key")).toBe(seen[0]!.headers.get("idempotency-key"));
    expect(await delivery(agentId, callId)).toMatchObject({ status: "delivered" });
  });

  it("Resend deduplicates, so the email is sent again with the same Idempotency-Key", async () => {
    const { agentId, callId, stub } = await acceptedCall([EMAIL]);
    const seen = countFetches(() => Response.json({ id: "em_1" }));
    await crashAfterSend(stub);
    await consume(await pendingJobs(agentId, callId), RESEND);
    await expireLease(stub);
    await makeDue(agentId, callId);
    await consume(await pendingJobs(agentId, callId), RESEND);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.headers.get("idempotency-key")).toBe(seen[0]!.headers.get("idempotency-key"));
    expect(await delivery(agentId, callId)).toMatchObject({ status: "delivered" });
  });

  it("a Resend email is not retried once its idempotency key would have expired", async () => {
    const { agentId, callId, stub } = await acceptedCall([EMAIL]);
    countFetches(() => Response.json({ name: "internal_server_error", message: "down" }, { status: 500 }));
    await consume(await pendingJobs(agentId, callId), RESEND);
    expect(await delivery(agentId, callId)).toMatchObject({ status: "retrying" });
    // As if the first attempt had been 22 h 58 min ago: the next retry (about 5 min on) would land past 23 h.
    await inLedger(stub, (_i, state) => editActions(state, () => ({ round_started_at: Date.now() - 23 * 3_600_000 + 120_000 })));
    await makeDue(agentId, callId);
    await consume(await pendingJobs(agentId, callId), RESEND);
    const d = await delivery(agentId, callId);
    expect(d.status).toBe("failed");
    expect(d.last_error).toMatch(/forgets its idempotency key/);
  });
});

describe("the alarm's cost", () => {
  it("is set when the call is accepted and again when it settles, not at every claim and record", async () => {
    const { agentId, callId, stub } = await acceptedCall([HOOK, HOOK]);
    const watchdog = await alarmOf(stub);
    expect(watchdog).not.toBeNull();
    const sets = await inLedger(stub, (_i, state) => vi.spyOn(state.storage, "setAlarm"));
    countFetches(() => new Response("ok"));
    await consume(await pendingJobs(agentId, callId));
    await vi.waitFor(async () => expect((await delivery(agentId, callId, 1)).status).toBe("delivered"));
    // Logged and settled: the only alarm left is the end of retention (30 days), set once.
    await vi.waitFor(async () => expect(await alarmOf(stub)).toBeGreaterThan(Date.now() + 29 * 86_400_000));
    expect(sets).toHaveBeenCalledTimes(1);
  });
});
