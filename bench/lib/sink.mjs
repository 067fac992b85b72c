// Main-thread side of the webhook sink: starts sink-thread.mjs and keeps, per call_id,
// when it first arrived and how many times.

import { once } from "node:events";
import { Worker } from "node:worker_threads";

export async function startSink() {
  const worker = new Worker(new URL("./sink-thread.mjs", import.meta.url));
  const [ready] = await once(worker, "message");
  const deliveries = new Map(); // call_id -> { first, count }
  const totals = { malformed: 0, unsigned: 0 };

  /** Pulls the arrivals recorded since the last call into `deliveries`. */
  async function collect() {
    worker.postMessage({ type: "collect" });
    const [message] = await once(worker, "message");
    for (const [callId, at] of message.arrivals) {
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

  return { url: `http://127.0.0.1:${ready.port}/hook`, deliveries, totals, collect, close };
}
