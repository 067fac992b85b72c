// The Durable Object floor of `npm run bench`: the least a Worker can do with a call-ended event
// when, like the relay, it must reach one SQLite-backed Durable Object per call (agent_id +
// call_id) before answering. It reads the body, calls a no-op RPC method on that call's object
// (no storage writes) and answers 202. What it costs over the bare Worker is the price of any
// one-DO-per-call design under `wrangler dev`; what the relay costs over it is the relay's own.

import { DurableObject } from "cloudflare:workers";

export class FloorLedger extends DurableObject {
  /** Does nothing: the round trip to a fresh object is what is being measured. */
  async touch() {}
}

export default {
  async fetch(request, env) {
    const { call_id: callId, agent_id: agentId } = await request.json();
    // Named exactly as the relay names its CallLedger (src/pipeline/consumer.ts).
    const ledger = env.FLOOR_LEDGER.get(env.FLOOR_LEDGER.idFromName(`${agentId}\n${callId}`));
    await ledger.touch();
    return new Response('{"status":"accepted"}', {
      status: 202,
      headers: { "content-type": "application/json" },
    });
  },
};
