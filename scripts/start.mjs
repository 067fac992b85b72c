#!/usr/bin/env node
// `npm start`: a fresh clone to a running local relay in one command.
// Prepares .dev.vars and the local D1 schema, then hands the terminal to `wrangler dev`.
// Extra arguments (`npm start -- --port 9000`) go to `wrangler dev` unchanged.

import { spawn } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { readEnvFile, withNewSettings } from "./lib/env-file.mjs";
import { projectRoot, readFlag, runWrangler, wranglerBin } from "./lib/wrangler.mjs";

const DEFAULT_IP = "127.0.0.1";
const DEFAULT_PORT = "8787";

const SEED_AGENT = {
  name: "Acme Support",
  voice_tools: {
    post_call_follow_up: {
      enabled: true,
      actions: [
        { type: "sms", template: "Thanks for calling {agent_name}! Your reference number is {call_id}." },
        {
          type: "webhook",
          url: "https://your-crm.com/api/call-completed",
          include_transcript: true,
          include_recording_url: true,
        },
        { type: "email", to: "{caller_email}", subject: "Your call summary — {date}", body_template: "call_summary" },
      ],
    },
  },
};

const SAMPLE_CALL = {
  call_id: "call_xyz789",
  agent_id: "agent_abc123",
  caller_number: "+14155551234",
  duration_seconds: 230,
  summary: "Caller asked about the status of order 12345; told it ships tomorrow.",
  transcript: "Agent: Thanks for calling Acme Support, how can I help?\nCaller: Hi, where is my order 12345?",
  ended_at: "2026-03-10T15:04:05Z",
  metadata: { order_id: "12345", caller_name: "John Smith", caller_email: "john@example.com" },
};

/** The agent's calling settings for local runs: the simulator dials nobody. */
const SIMULATED_CALLING = { voice_tools: { outbound_calls: { platform: { type: "simulator" }, redial: { max_attempts: 2, interval_seconds: 60 } } } };

/** The integration guide's payload, as a Zapier, Make or n8n step would POST it. */
const SEED_PAYLOAD = {
  phone_number: "+14155551234",
  task: "Confirm the appointment for Dental cleaning on March 12 at 10:30. If they cannot come, offer to reschedule.",
  caller_name: "Ana Silva",
  webhook_url: "http://127.0.0.1:9000/callback",
  metadata: { event_id: "evt_123", calendar_id: "cal_9", simulate_outcome: "confirmed" },
};

async function main() {
  const userArgs = process.argv.slice(2);
  const devVars = ensureDevVars();
  await applyLocalMigrations(readFlag(userArgs, "--persist-to"));

  const ip = readFlag(userArgs, "--ip") ?? DEFAULT_IP;
  const port = readFlag(userArgs, "--port") ?? DEFAULT_PORT;
  const baseUrl = `http://${ip}:${port}`;
  const child = startWranglerDev(devArgs(userArgs));
  // wrangler's own startup output would scroll the banner away, so show it once the server answers.
  waitUntilListening(baseUrl, child).then((up) => up && printBanner(baseUrl, devVars));
}

function ensureDevVars() {
  const devVarsPath = path.join(projectRoot, ".dev.vars");
  const examplePath = path.join(projectRoot, ".dev.vars.example");
  if (!existsSync(devVarsPath)) {
    copyFileSync(examplePath, devVarsPath);
    console.log("Created .dev.vars from .dev.vars.example (local development secrets; git-ignored).");
  } else {
    const { text, added } = withNewSettings(readFileSync(devVarsPath, "utf8"), readFileSync(examplePath, "utf8"));
    if (added.length > 0) {
      writeFileSync(devVarsPath, text);
      console.log(`Added ${added.join(", ")} to .dev.vars from .dev.vars.example (settings new in this release).`);
    }
  }
  return readEnvFile(devVarsPath);
}

// Same persist dir as `wrangler dev`: both default to .wrangler/state next to wrangler.toml,
// and a --persist-to given to `npm start` is passed to both.
async function applyLocalMigrations(persistTo) {
  console.log("Applying D1 migrations to the local database...");
  const args = ["d1", "migrations", "apply", "DB", "--local"];
  if (persistTo) args.push("--persist-to", persistTo);
  // runWrangler gives wrangler no TTY on stdin, so its "continue?" prompt takes the
  // non-interactive default (yes) instead of waiting for a keypress.
  const result = await runWrangler(args);
  if (result.code !== 0) {
    console.error("\nCould not apply the local D1 migrations (see the wrangler output above).");
    process.exit(result.code);
  }
}

function devArgs(userArgs) {
  const args = ["dev"];
  // Passing a flag twice makes yargs turn it into an array, so only add defaults the user did not give.
  if (readFlag(userArgs, "--ip") === undefined) args.push("--ip", DEFAULT_IP);
  if (readFlag(userArgs, "--port") === undefined) args.push("--port", DEFAULT_PORT);
  return [...args, ...userArgs];
}

function startWranglerDev(args) {
  const child = spawn(wranglerBin(), args, {
    cwd: projectRoot,
    stdio: "inherit",
    shell: process.platform === "win32",
  });
  // A terminal's Ctrl-C reaches wrangler directly (same process group), but a signal sent to
  // this process alone (npm, a supervisor, `kill`) would otherwise leave wrangler and workerd running.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  stopWhenOrphaned(child);
  child.on("error", (error) => {
    console.error(`Could not start wrangler dev: ${error.message}`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    // Report a signal death the shell way (128 + n) rather than pretending success.
    process.exit(code ?? 128 + (signalNumber(signal) ?? 1));
  });
  return child;
}

// `kill <npm pid>` makes npm signal only its `sh -c`, which dies without passing the signal on,
// leaving this process re-parented. Noticing that keeps workerd from outliving `npm start`.
function stopWhenOrphaned(child) {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) child.kill("SIGTERM");
  }, 1000);
  timer.unref();
}

function signalNumber(signal) {
  return { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[signal];
}

async function waitUntilListening(baseUrl, child, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
      return true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  return false;
}

/** Single-quotes a string for bash, so keys and JSON paste safely whatever they contain. */
function shellQuote(value) {
  return `'${String(value).replaceAll("'", `'\\''`)}'`;
}

function printBanner(baseUrl, devVars) {
  const adminAuth = shellQuote(`Authorization: Bearer ${devVars.ADMIN_API_KEY ?? "<ADMIN_API_KEY>"}`);
  const ingestAuth = shellQuote(`Authorization: Bearer ${devVars.INGEST_API_KEY ?? "<INGEST_API_KEY>"}`);
  const json = shellQuote("Content-Type: application/json");
  const lines = [
    "",
    "──────────────────────────────────────────────────────────────────────",
    ` callrelay is running at ${baseUrl}`,
    ` Admin API key (from .dev.vars): ${devVars.ADMIN_API_KEY ?? "(ADMIN_API_KEY missing from .dev.vars)"}`,
    "──────────────────────────────────────────────────────────────────────",
    "",
    "# 1. Configure agent agent_abc123 with post-call follow-up actions:",
    `curl -sS -w '\\n' -X PATCH ${baseUrl}/agents/agent_abc123 -H ${adminAuth} -H ${json} \\`,
    `  -d ${shellQuote(JSON.stringify(SEED_AGENT))}`,
    "",
    "# 2. Report that a call ended (the ingest key, as your voice platform would):",
    `curl -sS -w '\\n' -X POST ${baseUrl}/calls/ended -H ${ingestAuth} -H ${json} \\`,
    `  -d ${shellQuote(JSON.stringify(SAMPLE_CALL))}`,
    "",
    "# 3. See what happened to the call, and the queued follow-ups:",
    `curl -sS -w '\\n' ${baseUrl}/calls/call_xyz789 -H ${adminAuth}`,
    `curl -sS -w '\\n' ${baseUrl}/outbox -H ${adminAuth}`,
    "",
    "# 4. Outbound calls: catch the callback in another terminal with `npm run receiver`, then let",
    "#    the agent place calls through the simulator (it dials nobody and ends each call itself):",
    `curl -sS -w '\\n' -X PATCH ${baseUrl}/agents/agent_abc123 -H ${adminAuth} -H ${json} \\`,
    `  -d ${shellQuote(JSON.stringify(SIMULATED_CALLING))}`,
    "",
    "# 5. Create a trigger (the URL Zapier, Make or n8n POSTs to) and post the seed payload to it:",
    `TRIGGER=$(curl -sS -X POST ${baseUrl}/triggers -H ${adminAuth} -H ${json} -d ${shellQuote(JSON.stringify({ name: "Appointment confirmation", agent_id: "agent_abc123" }))})`,
    `curl -sS -w '\\n' -X POST "$(node -pe 'JSON.parse(process.argv[1]).url' "$TRIGGER")" -H ${json} \\`,
    `  -H "Authorization: Bearer $(node -pe 'JSON.parse(process.argv[1]).secret' "$TRIGGER")" \\`,
    `  -d ${shellQuote(JSON.stringify(SEED_PAYLOAD))}`,
    "",
    "# 6. A few seconds later the call has its outcome and the receiver has the signed callback:",
    `curl -sS -w '\\n' ${baseUrl}/outbound-calls -H ${adminAuth}`,
    "",
    "Press Ctrl-C to stop.",
    "",
  ];
  console.log(lines.join("\n"));
}

main().catch((error) => {
  console.error(error.message ?? error);
  process.exit(1);
});
