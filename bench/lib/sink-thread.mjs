// The webhook sink's HTTP server, on a worker thread of its own so that answering the relay's
// deliveries never stalls autocannon's event loop (which would inflate the relay's latencies).
// It only records arrivals; the main thread collects them in batches (see sink.mjs).

import http from "node:http";
import { performance } from "node:perf_hooks";
import { parentPort } from "node:worker_threads";

let arrivals = []; // [call_id, epoch ms] since the last collect
let malformed = 0; // deliveries without a JSON body carrying a call_id
let unsigned = 0; // deliveries missing a Standard Webhooks header

const server = http.createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    // Stamped before parsing, as close as we get to "the receiver had it".
    const at = performance.timeOrigin + performance.now();
    record(request.headers, Buffer.concat(chunks), at);
    response.writeHead(200, { "content-type": "application/json" });
    response.end('{"ok":true}');
  });
});

function record(headers, body, at) {
  if (!headers["webhook-id"] || !headers["webhook-timestamp"] || !headers["webhook-signature"]) unsigned++;
  try {
    const callId = JSON.parse(body.toString("utf8")).call_id;
    if (typeof callId === "string") return arrivals.push([callId, at]);
  } catch {
    // counted below
  }
  malformed++;
}

// The relay may keep connections open; many parallel deliveries need a generous backlog.
server.keepAliveTimeout = 30_000;
server.listen({ host: "127.0.0.1", port: 0, backlog: 1024 }, () => {
  parentPort.postMessage({ type: "listening", port: server.address().port });
});

parentPort.on("message", (message) => {
  if (message.type === "collect") {
    parentPort.postMessage({ type: "arrivals", arrivals, malformed, unsigned });
    arrivals = [];
  } else if (message.type === "close") {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  }
});
