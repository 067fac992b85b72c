import { SELF, createExecutionContext, createMessageBatch, env, getQueueResult, runInDurableObject } from "cloudflare:test";
import { vi } from "vitest";
import { type StoredAction, readList, writeList } from "../src/ledger/action-list";
import { readRecord } from "../src/ledger/call-record";
import type { Job } from "../src/ledger/plan";
import { ledgerStub } from "../src/ledger/client";
import worker from "../src/index";
import { CALL_ENDED_EXAMPLE } from "../src/schemas/call-event";

export const ADMIN = { authorization: "Bearer test-admin-key" };
export const INGEST = { authorization: "Bearer test-ingest-key" };

/** The seed's PATCH body, verbatim. */
export const SEED_CONFIG = {
  voice_tools: {
    post_call_follow_up: {
      enabled: true,
      actions: [
        { type: "sms", template: "Thanks for calling {agent_name}! Your reference number is {call_id}." },
        { type: "webhook", url: "https://your-crm.com/api/call-completed", include_transcript: true, include_recording_url: true },
        { type: "email", to: "{caller_email}", subject: "Your call summary — {date}", body_template: "call_summary" },
      ],
    },
  },
};

let counter = 0;
/** A unique id per call, so tests never share a ledger. */
export const uniqueId = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${(counter++).toString(36)}`;

/** The seed's call-ended event with a call id of its own (a copy: tests may change it). */
export function callEvent(overrides: Record<string, unknown> = {}) {
  return { ...structuredClone(CALL_ENDED_EXAMPLE), call_id: uniqueId("call"), ...overrides };
}

export function request(method: string, path: string, body?: unknown, headers: Record<string, string> = ADMIN) {
  return SELF.fetch(`https://relay.test${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

export async function putAgent(agentId: string, config: unknown = SEED_CONFIG) {
  const res = await request("PUT", `/agents/${agentId}`, config);
  if (res.status >= 300) throw new Error(`PUT agent failed: ${res.status} ${await res.text()}`);
  return res.json();
}

export const postEvent = (event: unknown, headers: Record<string, string> = INGEST) =>
  request("POST", "/calls/ended", event, headers);

/** The jobs a call's ledger would send now: one per active action. */
export async function pendingJobs(agentId: string, callId: string): Promise<Job[]> {
  return runInDurableObject(ledgerStub(env, agentId, callId), async (_instance, state) => {
    const call = readRecord(state.storage.kv)!;
    return readList(state.storage.kv)
      .actions
      .filter((a) => a.state === "pending" || a.state === "retrying")
      .map((a) => ({
        delivery_id: a.delivery_id,
        agent_id: call.agent_id,
        call_id: call.call_id,
        action_index: a.idx,
        generation: a.generation,
      }));
  });
}

type KvOperation = "get" | "put" | "delete" | "list";

/**
 * Key-value storage that calls `before` with each operation and its key before running it: a
 * test's way of counting a ledger's reads and writes, or of failing one as a full disk would.
 */
export function tracedKv(real: SyncKvStorage, before: (operation: KvOperation, key?: string) => void): SyncKvStorage {
  return {
    get: <T>(key: string) => {
      before("get", key);
      return real.get<T>(key);
    },
    put: <T>(key: string, value: T) => {
      before("put", key);
      real.put(key, value);
    },
    delete: (key: string) => {
      before("delete", key);
      return real.delete(key);
    },
    list: <T>(options?: SyncKvListOptions) => {
      before("list");
      return real.list<T>(options);
    },
  };
}

/** Gives a CallLedger instance other key-value storage; returns how to give back its own. */
export function swapLedgerKv(instance: unknown, wrap: (real: SyncKvStorage) => SyncKvStorage): () => void {
  const ledger = instance as { kv: SyncKvStorage };
  const real = ledger.kv;
  ledger.kv = wrap(real);
  return () => {
    ledger.kv = real;
  };
}

/** Changes a call's stored actions in place, as a test's way of moving time or breaking things. */
export function editActions(state: DurableObjectState, change: (action: StoredAction) => Partial<StoredAction>): void {
  const kv = state.storage.kv;
  const list = readList(kv);
  writeList(kv, { ...list, actions: list.actions.map((a) => ({ ...a, ...change(a) })) });
}

/** Makes every active action of a call due now, as if its retry delay had passed. */
export async function makeDue(agentId: string, callId: string): Promise<void> {
  await runInDurableObject(ledgerStub(env, agentId, callId), (_instance, state) => {
    const now = Date.now();
    editActions(state, (a) => (a.state === "pending" || a.state === "retrying" ? { due_at: now } : {}));
  });
}

/** Watches the jobs a call's ledger sends from now on (its own queue binding). */
export async function watchLedgerSends(agentId: string, callId: string) {
  return runInDurableObject(ledgerStub(env, agentId, callId), (instance) => {
    const queue = (instance as unknown as { env: CloudflareBindings }).env.ACTIONS;
    return vi.spyOn(queue, "sendBatch");
  });
}

/** An outbound request the relay made, as a stubbed fetch saw it. */
export interface Captured {
  url: string;
  headers: Headers;
  body: string;
}

/** Replaces outbound fetch with `answer`, recording every request the relay makes. */
export function stubFetch(answer: (req: Captured, n: number) => Response | Promise<Response>) {
  const seen: Captured[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init as RequestInit);
    const captured = { url: req.url, headers: req.headers, body: await req.text() };
    seen.push(captured);
    return answer(captured, seen.length);
  });
  return seen;
}

/**
 * Runs one batch of `actions` queue messages (`msg-0`, `msg-1`, …) through the real queue
 * handler, with `settings` added to the env, and returns what it did to each message with the
 * delays of its retries (getQueueResult does not report them).
 */
export async function consumeMessages(bodies: unknown[], options: { settings?: Record<string, string>; attempts?: number } = {}) {
  const batch = createMessageBatch("actions", bodies.map((body, i) => ({ id: `msg-${i}`, timestamp: new Date(), attempts: options.attempts ?? 1, body })));
  const retryDelays: (number | undefined)[] = [];
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (retryOptions) => {
      retryDelays.push(retryOptions?.delaySeconds);
      retry(retryOptions);
    };
  }
  const ctx = createExecutionContext();
  await worker.queue!(batch as MessageBatch, { ...env, ...options.settings } as CloudflareBindings, ctx);
  return { ...(await getQueueResult(batch, ctx)), retryDelays };
}
