// CPU profiles of a Worker under `wrangler dev`, through its inspector port (the Chrome
// DevTools protocol): where the relay's isolate spends its time while the bench loads it.
// Everything a relay runs locally (its Worker, Durable Objects and queue consumer) shares that
// isolate and its one thread, so one profile covers ingest and delivery together.

import { readFileSync } from "node:fs";
import path from "node:path";
import WebSocket from "ws";

/** Starts sampling the isolate behind `inspectorPort`; `stop()` returns the profile. */
export async function startProfile(inspectorPort, { intervalMicros = 1000 } = {}) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const target = targets.find((t) => t.webSocketDebuggerUrl);
  if (!target) throw new Error(`no inspector target on port ${inspectorPort}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  let lastId = 0;
  const pending = new Map();
  socket.on("message", (data) => {
    const message = JSON.parse(String(data));
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++lastId;
      pending.set(id, (message) => (message.error ? reject(new Error(`${method}: ${message.error.message}`)) : resolve(message.result)));
      socket.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: intervalMicros });
  await send("Profiler.start");
  return {
    async stop() {
      const { profile } = await send("Profiler.stop");
      socket.close();
      return profile;
    },
  };
}

/**
 * Self time per function, largest first, each named with the module of `script` (the bundle
 * the Worker runs) it comes from, by the bundle's `// src/...` markers. `(idle)` is the thread
 * waiting (on storage, the network, timers), `(program)` the runtime's own work, a name without
 * a module a native function (SQL's `exec`); a call to a Durable Object stub counts, in its
 * JavaScript caller, whatever the runtime does before it returns (creating the object).
 */
export function selfTimes(profile, script, limit = 25) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const moduleAt = moduleLocator(script);
  const totals = new Map();
  let sampled = 0;
  profile.samples.forEach((id, i) => {
    const micros = profile.timeDeltas[i] ?? 0;
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    const where = url === path.basename(script) ? moduleAt(lineNumber) : url;
    const name = `${functionName || "(anonymous)"}${where ? ` (${where})` : ""}`;
    totals.set(name, (totals.get(name) ?? 0) + micros);
    sampled += micros;
  });
  const top = [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, micros]) => ({ name, ms: Math.round(micros / 1000), share: Math.round((1000 * micros) / sampled) / 10 }));
  return { sampledMs: Math.round(sampled / 1000), top };
}

/** Maps a line of the bundle to the module esbuild marked it with (`// src/ledger/client.ts`). */
function moduleLocator(script) {
  const markers = readFileSync(script, "utf8")
    .split("\n")
    .flatMap((text, i) => {
      const marker = /^\/\/ ((?:src|bench|node_modules)\/\S+)$/.exec(text);
      return marker ? [[i, marker[1].replace(/^node_modules\//, "")]] : [];
    });
  return (line) => {
    let found = null;
    for (const [at, module] of markers) {
      if (at > line) break;
      found = module;
    }
    return found;
  };
}
