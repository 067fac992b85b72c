// The load the bench generates: call-ended events with unique call_ids, sent either by
// autocannon (throughput) or by a small fetch pool (end to end, where each response matters).

import { performance } from "node:perf_hooks";
import autocannon from "autocannon";

export const now = () => performance.timeOrigin + performance.now();

const TARGET_BODY_BYTES = 1024;
const TRANSCRIPT_LINES = [
  "Agent: Thanks for calling Acme Support, this is Ava. How can I help you today?",
  "Caller: Hi, I ordered a standing desk last week and wanted to check on the delivery.",
  "Agent: Of course. Could you give me the order number?",
  "Caller: It's 12345, under John Smith.",
  "Agent: Thank you, John. It shipped yesterday and should arrive on Thursday.",
  "Caller: Great, thanks. Can you email me the tracking link?",
  "Agent: Sure, I'll send it to the email on file right after this call.",
];

/** A realistic call-ended event of about 1 KB; the transcript is trimmed to hit the size. */
export function callEndedBody(callId, agentId) {
  const event = {
    call_id: callId,
    agent_id: agentId,
    caller_number: "+14155551234",
    duration_seconds: 230,
    summary: "Caller asked about the delivery of order 12345; it ships Thursday and a tracking link will be emailed.",
    transcript: "",
    ended_at: "2026-03-10T15:04:05Z",
    metadata: { order_id: "12345", caller_name: "John Smith", caller_email: "john@example.com" },
  };
  const room = TARGET_BODY_BYTES - JSON.stringify(event).length;
  event.transcript = TRANSCRIPT_LINES.join("\n").slice(0, Math.max(0, room));
  return JSON.stringify(event);
}

/** Unique, readable call_ids: the run id keeps repeated runs against one state apart. */
export function callIdSource(prefix) {
  let next = 0;
  return () => `${prefix}_${(next++).toString(36)}`;
}

/**
 * One autocannon round. Every request gets a fresh call_id (setupRequest), and each 202 is
 * recorded in `accepted` (onResponse) so the deliveries can be checked afterwards. Without
 * pipelining a connection has one request in flight, so its context holds that request's id.
 */
export async function throughputRound({ url, headers, connections, durationSeconds, nextCallId, agentId, accepted }) {
  const result = await autocannon({
    url,
    method: "POST",
    connections,
    duration: durationSeconds,
    headers: { ...headers, "content-type": "application/json" },
    requests: [
      {
        setupRequest(request, context) {
          context.callId = nextCallId();
          return { ...request, body: callEndedBody(context.callId, agentId) };
        },
        onResponse(status, _body, context) {
          if (status === 202 && accepted) accepted.set(context.callId, now());
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationSeconds: result.duration,
  };
}

/**
 * Posts `count` events, `concurrency` at a time, and returns when each was posted and when its
 * 202 came back: the relay accepted it somewhere between the two. With `perSecond`, the posts
 * are spread evenly at that rate (a steady load) instead of back to back.
 */
export async function postEvents({ url, headers, count, concurrency, nextCallId, agentId, perSecond = null }) {
  const posted = new Map(); // call_id -> posted at (epoch ms)
  const accepted = new Map(); // call_id -> its 202 read at (epoch ms)
  const failures = new Map(); // status or error -> count
  let remaining = count;
  let issued = 0;
  const startedAt = now();

  async function lane() {
    while (remaining > 0) {
      remaining--;
      if (perSecond) {
        const due = startedAt + (issued++ * 1000) / perSecond;
        if (due > now()) await new Promise((resolve) => setTimeout(resolve, due - now()));
      }
      const callId = nextCallId();
      const postedAt = now();
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { ...headers, "content-type": "application/json" },
          body: callEndedBody(callId, agentId),
        });
        await response.arrayBuffer();
        if (response.status === 202) {
          posted.set(callId, postedAt);
          accepted.set(callId, now());
        } else failures.set(response.status, (failures.get(response.status) ?? 0) + 1);
      } catch (error) {
        const key = error.cause?.code ?? error.name;
        failures.set(key, (failures.get(key) ?? 0) + 1);
      }
    }
  }

  await Promise.all(Array.from({ length: concurrency }, lane));
  return { posted, accepted, failures: Object.fromEntries(failures), startedAt, finishedAt: now() };
}
