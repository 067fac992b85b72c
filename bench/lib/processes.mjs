// Child processes of the bench (wrangler dev, which starts workerd) and how to be sure
// they are gone afterwards, whatever way the bench ends.

import { spawn } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";
import net from "node:net";
import { wranglerBin, projectRoot } from "../../scripts/lib/wrangler.mjs";

const children = new Set();

export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve, reject) => server.listen(0, "127.0.0.1", resolve).on("error", reject));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts `wrangler dev` in a process group of its own (detached), so that stopping the group
 * also stops the workerd processes wrangler spawns, and a Ctrl-C in the terminal reaches only
 * the bench, which then stops them in order. Output goes to a log file, not the terminal.
 */
export function startWranglerDev({ name, args, logFile }) {
  const log = openSync(logFile, "a");
  const child = spawn(wranglerBin(), ["dev", ...args], {
    cwd: projectRoot,
    detached: true,
    stdio: ["ignore", log, log],
    // No telemetry: it would only add network attempts (and CPU) while we measure.
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  closeSync(log);
  const entry = { name, child, logFile, exited: false };
  child.on("exit", () => (entry.exited = true));
  children.add(entry);
  return entry;
}

/**
 * Polls until `url` answers with a status `isReady` accepts; fails early if the process died.
 * `init` (fetch options, e.g. a POST with a body) is sent with every attempt.
 */
export async function waitUntilReady(entry, url, { timeoutMs = 90_000, isReady = (status) => status < 500, init = {} } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (entry.exited) throw new Error(`${entry.name} exited during startup:\n${tail(entry.logFile)}`);
    try {
      const response = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (isReady(response.status)) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`${entry.name} was not ready within ${timeoutMs / 1000} s:\n${tail(entry.logFile)}`);
}

function tail(file, lines = 30) {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM each group, give wrangler a moment to stop workerd itself, then SIGKILL what is left. */
export async function stopAll({ graceMs = 5000 } = {}) {
  const entries = [...children];
  for (const { child } of entries) signalGroup(child.pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (entries.some(({ child }) => groupAlive(child.pid)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  stopAllNow();
}

/** The last resort, usable in a synchronous 'exit' handler. */
export function stopAllNow() {
  for (const entry of children) {
    if (groupAlive(entry.child.pid)) signalGroup(entry.child.pid, "SIGKILL");
    children.delete(entry);
  }
}
