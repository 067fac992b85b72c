// Deliveries keep flowing while call-ended events keep arriving, under `wrangler dev` as a user
// runs it. Local Queues used to hold every message until the posting paused (see
// patches/README.md): this test fails without the patch. It compares calls delivered with
// calls accepted, both counted while posting still runs, rather than timing anything, and
// leaves the early calls half the posting time (3 s) to arrive.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startReceiver, startRelay } from "./harness.mjs";

const IN_FLIGHT = 20;
const POSTING_MS = 6_000;

let relay;
let receiver;

before(async () => {
  [relay, receiver] = await Promise.all([startRelay(), startReceiver()]);
});

after(async () => {
  await relay?.stop();
  await receiver?.close();
});

test("calls are delivered while posting continues, not only once it pauses", async () => {
  // An agent per poster keeps each under the per-agent ingest rate limit.
  const agents = Array.from({ length: IN_FLIGHT }, (_, i) => `agent_load_${i}`);
  for (const agentId of agents) {
    const saved = await relay.api("PUT", `/agents/${agentId}`, {
      name: "Load",
      voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "webhook", url: `${receiver.origin}/crm` }] } },
    });
    assert.equal(saved.status, 201, await saved.text());
  }

  const accepted = new Map(); // call_id → when its 202 came
  const started = Date.now();
  let next = 0;
  async function poster(agentId) {
    while (Date.now() - started < POSTING_MS) {
      const callId = `load_${next++}`;
      const body = { call_id: callId, agent_id: agentId, summary: "Asked about an order.", ended_at: "2026-03-10T15:04:05Z" };
      const res = await relay.api("POST", "/calls/ended", body, relay.secrets.INGEST_API_KEY);
      await res.arrayBuffer();
      assert.equal(res.status, 202, `POST /calls/ended answered ${res.status}`);
      accepted.set(callId, Date.now());
    }
  }
  await Promise.all(agents.map(poster));
  const deliveredWhilePosting = new Set(receiver.received.map((r) => JSON.parse(r.body).call_id));

  // The calls accepted in the first half had at least half the posting time to be delivered.
  const early = [...accepted].filter(([, at]) => at - started < POSTING_MS / 2).map(([id]) => id);
  const delivered = early.filter((id) => deliveredWhilePosting.has(id)).length;
  assert.ok(early.length >= 20, `only ${early.length} calls accepted in ${POSTING_MS / 2} ms`);
  assert.ok(
    delivered >= early.length / 2,
    `${delivered} of the ${early.length} calls accepted in the first ${POSTING_MS / 2} ms were delivered before posting ended`,
  );
});
