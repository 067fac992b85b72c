// The webhook sink's HTTP server, on a worker thread of its own so that answering the relay's
// deliveries never stalls autocannon's event loop (which would inflate the relay's latencies).
// It only records arrivals; the main thread collects them in batches (see sink.mjs).
//
// Besides webhooks (any other path) it answers as two providers would, so an agent's SMS and
// email actions go through real provider requests: Twilio's Messages.json under /twilio and
// Resend's /emails under /resend (the relay's TWILIO_BASE_URL and RESEND_BASE_URL point here).

import http from "node:http";
import { performance } from "node:perf_hooks";
import { parentPort } from "node:worker_threads";

let arrivals = []; // [kind, key, epoch ms] since the last collect: key is the call_id, or the email's idempotency key
let malformed = 0; // deliveries without a JSON body carrying a call_id
let unsigned = 0; // deliveries missing a Standard Webhooks header

const server = http.createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    // Stamped before parsing, as close as we get to "the receiver had it".
    const at = performance.timeOrigin + performance.now();
    const body = Buffer.concat(chunks);
    if (request.url.startsWith("/twilio/")) {
      const text = new URLSearchParams(body.toString("utf8")).get("Body") ?? "";
      arrivals.push(["sms", text.match(/reference number is ([\w-]+)/)?.[1] ?? text, at]);
      return answer(response, 201, { sid: `SM${Math.random().toString(16).slice(2)}`, status: "queued" });
    }
    if (request.url.startsWith("/resend/")) {
      arrivals.push(["email", String(request.headers["idempotency-key"] ?? Math.random()), at]);
      return answer(response, 200, { id: crypto.randomUUID() });
    }
    record(request.headers, body, at);
    answer(response, 200, { ok: true });
  });
});

function answer(response, status, json) {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(json));
}

function record(headers, body, at) {
  if (!headers["webhook-id"] || !headers["webhook-timestamp"] || !headers["webhook-signature"]) unsigned++;
  try {
    const callId = JSON.parse(body.toString("utf8")).call_id;
    if (typeof callId === "string") return arrivals.push(["webhook", callId, at]);
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
