// Runs the project's pinned wrangler (node_modules/.bin), never a global one,
// so every script sees the same CLI behaviour the project was tested with.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export function wranglerBin() {
  const bin = path.join(projectRoot, "node_modules", ".bin", process.platform === "win32" ? "wrangler.cmd" : "wrangler");
  if (!existsSync(bin)) {
    throw new Error("wrangler is not installed: run `npm ci` first.");
  }
  return bin;
}

/**
 * Runs a wrangler command to completion. stdout is both shown and returned, because the
 * setup script parses ids out of it while the user should still see what wrangler says.
 * stdin is not a TTY here, so wrangler takes its non-interactive defaults instead of prompting.
 */
export function runWrangler(args, { env = {}, echo = true, cwd = projectRoot } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(wranglerBin(), args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      shell: process.platform === "win32",
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      if (echo) process.stdout.write(chunk);
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      if (echo) process.stderr.write(chunk);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? 1, signal, stdout, stderr }));
  });
}

/** The value of `--name value` or `--name=value` in an argv list, if present. */
export function readFlag(args, name) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
  }
  return undefined;
}
