// The end-to-end harness: a fresh relay under `wrangler dev` (its own state, throwaway
// secrets, no .dev.vars), a local webhook receiver, and Debian's Chromium driven by
// playwright-core. Never a downloaded browser: without /usr/bin/chromium the test is skipped,
// loudly.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { formatEnvFile } from "../../scripts/lib/env-file.mjs";
import { projectRoot, runWrangler, wranglerBin } from "../../scripts/lib/wrangler.mjs";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const ARTIFACTS = path.join(projectRoot, "test-artifacts", "e2e");

export const chromiumPresent = () => existsSync(CHROMIUM);

/** A port the OS says is free right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/**
 * A webhook receiver on 127.0.0.1. `answer` decides each status (e.g. fail the first delivery
 * to have something to replay); every request is kept for the test to look at.
 */
export async function startReceiver() {
  const received = [];
  const state = { status: 200 };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({ url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(state.status, { "content-type": "application/json" }).end('{"ok":true}');
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, received, state, close: () => new Promise((r) => server.close(r)) };
}

/** A relay of its own: fresh local D1/KV/DO state, migrations applied, throwaway keys. */
export async function startRelay() {
  const dir = mkdtempSync(path.join(tmpdir(), "callrelay-e2e-"));
  const stateDir = path.join(dir, "state");
  const migrated = await runWrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir], { echo: false });
  if (migrated.code !== 0) throw new Error(`D1 migrations failed:\n${migrated.stdout}\n${migrated.stderr}`);
  const secrets = {
    ADMIN_API_KEY: randomBytes(18).toString("base64url"),
    INGEST_API_KEY: randomBytes(18).toString("base64url"),
    WEBHOOK_SIGNING_SECRET: `whsec_${randomBytes(32).toString("base64")}`,
    OUTBOX: "true",
    ALLOW_SIMULATOR: "true",
    ALLOW_PRIVATE_TARGETS: "true",
  };
  const envFile = path.join(dir, "relay.env");
  writeFileSync(envFile, formatEnvFile(secrets), { mode: 0o600 });
  const port = await freePort();
  const inspector = await freePort();
  const child = spawn(
    wranglerBin(),
    ["dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector), "--persist-to", stateDir, "--env-file", envFile,
      "--show-interactive-dev-session=false", "--log-level", "warn"],
    { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited:\n${output}`);
    try {
      if ((await fetch(`${origin}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`wrangler dev did not start in 2 min:\n${output}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const api = (method, pathname, body, key = secrets.ADMIN_API_KEY) =>
    fetch(`${origin}${pathname}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.on("exit", resolve);
      child.kill("SIGTERM");
    });
  return { origin, secrets, api, stop, output: () => output };
}

/** The four looks of every page: phone and desktop widths, light and dark. */
export const LOOKS = [
  { name: "desktop-light", viewport: { width: 1280, height: 900 }, colorScheme: "light" },
  { name: "desktop-dark", viewport: { width: 1280, height: 900 }, colorScheme: "dark" },
  { name: "phone-light", viewport: { width: 390, height: 844 }, colorScheme: "light" },
  { name: "phone-dark", viewport: { width: 390, height: 844 }, colorScheme: "dark" },
];

/** Saves a page in every look, as test artifacts. */
export async function screenshots(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const original = page.viewportSize();
  for (const look of LOOKS) {
    await page.setViewportSize(look.viewport);
    await page.emulateMedia({ colorScheme: look.colorScheme });
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.${look.name}.png`), fullPage: true });
  }
  if (original) await page.setViewportSize(original);
  await page.emulateMedia({ colorScheme: "light" });
}
