// The Durable Object floors of `npm run bench`: the least a Worker can do with a call-ended
// event when, like the relay, it must store it in a SQLite-backed Durable Object before
// answering. It reads the body, asks the object to insert one row, and answers 202.
//
//   do-floor     one object per call (agent_id + call_id), as the relay's CallLedger is: every
//                call meets a fresh object, which creates its table first.
//   warm-floor   SHARDS objects (the var, e.g. 64), chosen by a hash of agent_id + call_id, each
//                holding many calls as rows: the objects and their tables stay warm.
//
// What the floors cost over the bare Worker is the price of each ledger shape under
// `wrangler dev`; what the relay costs over its floor is the relay's own.

import { DurableObject } from "cloudflare:workers";
import { shardOf } from "./shard-of";

export class FloorLedger extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, event TEXT NOT NULL) WITHOUT ROWID");
  }

  /** One row per call: the event, keyed by agent and call. */
  store(key, event) {
    this.ctx.storage.sql.exec("INSERT OR IGNORE INTO calls (key, event) VALUES (?, ?)", key, event);
  }
}

export default {
  async fetch(request, env) {
    const body = await request.text();
    const { call_id: callId, agent_id: agentId } = JSON.parse(body);
    // Per call, named exactly as the relay names its CallLedger (src/ledger/client.ts).
    const key = `${agentId}\n${callId}`;
    const shards = Number(env.SHARDS ?? 0);
    const name = shards > 0 ? `shard-${shardOf(key, shards)}` : key;
    await env.FLOOR_LEDGER.get(env.FLOOR_LEDGER.idFromName(name)).store(key, body);
    return new Response('{"status":"accepted"}', {
      status: 202,
      headers: { "content-type": "application/json" },
    });
  },
};
