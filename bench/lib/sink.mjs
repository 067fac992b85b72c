// Main-thread side of the webhook sink: starts sink-thread.mjs and keeps, per call_id,
// when it first arrived and how many times.

import { once } from "node:events";
import { Worker } from "node:worker_threads";

export async function startSink() {
  const worker = new Worker(new URL("./sink-thread.mjs", import.meta.url));
  const [ready] = await once(worker, "message");
  const deliveries = new Map(); // webhooks: call_id -> { first, count }
  const messages = { sms: new Map(), email: new Map() }; // key -> count
  const totals = { malformed: 0, unsigned: 0 };

  /** Pulls the arrivals recorded since the last call into `deliveries`. */
  async function collect() {
    worker.postMessage({ type: "collect" });
    const [message] = await once(worker, "message");
    for (const [kind, callId, at] of message.arrivals) {
      if (kind !== "webhook") {
        messages[kind].set(callId, (messages[kind].get(callId) ?? 0) + 1);
        continue;
      }
      const seen = deliveries.get(callId);
      if (seen) seen.count++;
      else deliveries.set(callId, { first: at, count: 1 });
    }
    totals.malformed = message.malformed;
    totals.unsigned = message.unsigned;
    return deliveries;
  }

  async function close() {
    worker.postMessage({ type: "close" });
    await Promise.race([once(worker, "exit"), new Promise((resolve) => setTimeout(resolve, 2000))]);
    await worker.terminate();
  }

  const origin = `http://127.0.0.1:${ready.port}`;
  return { url: `${origin}/hook`, origin, deliveries, messages, totals, collect, close };
}
