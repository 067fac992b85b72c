import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { vi } from "vitest";
import worker from "../../src/index";
import type { Job } from "../../src/ledger/plan";
import { callEvent, pendingJobs, postEvent, putAgent, request, uniqueId, watchLedgerSends } from "../helpers";

export interface SeenRequest {
  method: string;
  url: string;
  headers: Headers;
  body: string;
}

export interface ActionRun {
  call_id: string;
  /** Every outbound request the relay made, in order. */
  requests: SeenRequest[];
  /** The delivery as GET /calls/{id} shows it, with its attempt_log. */
  delivery: any;
  /**
   * What became of the job: whether the consumer acked the message, and whether the ledger
   * queued a retry (a new job) and after what delay.
   */
  queue: { acked: boolean; retried: boolean; retryDelay?: number };
}

/**
 * Runs one action through the real pipeline: saves an agent with that action, posts a
 * call-ended event, then hands its job to the real queue consumer with `settings` added to
 * the Worker env (provider secrets) and outbound fetch answered by `answer`.
 */
export async function runAction(
  action: Record<string, unknown>,
  settings: Record<string, string>,
  answer: (req: SeenRequest) => Response | Promise<Response>,
  eventOverrides: Record<string, unknown> = {},
  agentConfig: Record<string, unknown> = {},
): Promise<ActionRun> {
  const agentId = uniqueId("agent");
  await putAgent(agentId, { name: "Acme Support", ...agentConfig, voice_tools: { post_call_follow_up: { enabled: true, actions: [action] } } });
  const event = callEvent({ agent_id: agentId, ...eventOverrides });
  const accepted = await postEvent(event);
  if (accepted.status !== 202) throw new Error(`event not accepted: ${accepted.status} ${await accepted.text()}`);
  const jobs = await pendingJobs(agentId, event.call_id);
  const ledgerSends = await watchLedgerSends(agentId, event.call_id);

  const requests: SeenRequest[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init as RequestInit);
    // Decoded by hand: workerd warns when .text() reads a form-encoded body.
    const seen = { method: req.method, url: req.url, headers: req.headers, body: new TextDecoder().decode(await req.arrayBuffer()) };
    requests.push(seen);
    return answer(seen);
  });
  const batch = createMessageBatch<Job>("actions", [{ id: "m1", timestamp: new Date(), attempts: 1, body: jobs[0]! }]);
  const ctx = createExecutionContext();
  try {
    await worker.queue!(batch as MessageBatch, { ...env, ...settings } as CloudflareBindings, ctx);
  } finally {
    spy.mockRestore();
  }
  const result = await getQueueResult(batch, ctx);
  // A retry is a new job the ledger sends, delayed until it is due.
  const retries = ledgerSends.mock.calls.flatMap(([messages]) => [...messages]);
  ledgerSends.mockRestore();
  const call = (await (await request("GET", `/calls/${event.call_id}?agent_id=${agentId}`)).json()) as any;
  return {
    call_id: event.call_id,
    requests,
    delivery: call.actions[0],
    queue: { acked: result.explicitAcks.includes("m1"), retried: retries.length > 0, retryDelay: retries[0]?.delaySeconds },
  };
}

export const jsonResponse = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
