#!/usr/bin/env node
// `npm run receiver`: a local webhook receiver for trying the relay without any account. It
// prints every POST it gets (an outbound call's callback, a follow-up webhook) and whether its
// Standard Webhooks signature checks out with WEBHOOK_SIGNING_SECRET from .dev.vars. It answers
// `{"ok":true,"id":"rcv_<n>"}`, so it can also stand in for an `http` dialer (call_id_path "id").
// `npm run receiver -- 9100` listens on another port.

import { createHmac, timingSafeEqual } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { readEnvFile } from "./lib/env-file.mjs";
import { projectRoot } from "./lib/wrangler.mjs";

const port = Number(process.argv[2] ?? 9000);
const devVars = path.join(projectRoot, ".dev.vars");
const secrets = (existsSync(devVars) ? (readEnvFile(devVars).WEBHOOK_SIGNING_SECRET ?? "") : "").split(/[\s,]+/).filter(Boolean);

/** Whether one of the `v1,` signatures is the HMAC of `id.timestamp.body` under one of the secrets. */
function verified(headers, body) {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = String(headers["webhook-signature"] ?? "").split(" ").filter((s) => s.startsWith("v1,")).map((s) => Buffer.from(s.slice(3), "base64"));
  if (!id || !timestamp || signatures.length === 0) return "unsigned";
  for (const secret of secrets) {
    const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
    const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest();
    if (signatures.some((s) => s.length === expected.length && timingSafeEqual(s, expected))) return "signature ok";
  }
  return secrets.length === 0 ? "signed (no WEBHOOK_SIGNING_SECRET in .dev.vars to check it)" : "SIGNATURE DOES NOT MATCH";
}

let received = 0;

createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    let shown = body;
    try {
      shown = JSON.stringify(JSON.parse(body), null, 2);
    } catch {
      // not JSON: shown as it came
    }
    console.log(`\n${new Date().toISOString()} ${req.method} ${req.url} (${verified(req.headers, body)}, webhook-id ${req.headers["webhook-id"] ?? "none"})\n${shown}`);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, id: `rcv_${++received}` }));
  });
}).listen(port, "127.0.0.1", () => console.log(`Receiving webhooks at http://127.0.0.1:${port}/ (Ctrl-C to stop)`));
