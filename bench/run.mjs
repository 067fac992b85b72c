#!/usr/bin/env node
// `npm run bench`: how much the relay costs compared with a Worker that does nothing, and
// whether every accepted call-ended event is delivered to its webhook exactly once.
//
// One run starts a webhook sink (which also plays Twilio and Resend), the relay (wrangler dev,
// fresh local state, METER=true), the relay with its ledger sharded over 64 objects
// (bench/sharded-relay.ts, "relay-sharded": the shape not chosen, run by the same code), the
// relay with its `actions` consumer left out ("relay-ingest": its ingest alone, metering off
// as deployed), a bare Worker (bench/bare-worker.js) and two Durable Object floors
// (bench/do-floor-worker.js: one row inserted into a fresh object per call, "do-floor", the
// floor of the relay's one-ledger-per-call shape; or into one of 64 warm objects,
// "warm-floor", the floor of a sharded ledger), then:
//   1. throughput: autocannon against each target in turn, three times (alternating averages out
//      drift of a shared machine); after each relay round it waits for that round's
//      deliveries (after a relay-ingest round, for its calls' alarms to log them), so their
//      work does not slow the next round;
//   then, for each relay in turn:
//   2. burst: posts N more events back to back and times each from its 202 to its arrival;
//   3. steady: posts at half that relay's measured ingest rate, deliveries included, and times
//      the same;
//   4. cost: posts events for the seed's three-action agent (SMS, webhook, email) and reads the
//      relay's billable-operation counters (GET /usage) before and after, priced with
//      bench/prices.json;
//   5. waits for every event accepted during the run to arrive, and counts losses and duplicates.
// Prints a table, writes bench/results.json, and exits non-zero if anything was lost.
//
//   npm run bench -- --duration 5 --connections 20   shorter rounds
//   npm run bench -- --only bare                      just the baseline (checks the harness)
//   npm run bench -- --only do-floor                  just the per-call Durable Object floor
//   npm run bench -- --only do-floor,relay            the relay beside its floor, side by side
//   npm run bench -- --only do-floor,relay-ingest     its ingest alone beside its floor
//   npm run bench -- --only relay-sharded             just the sharded relay
//   npm run bench -- --only relay --profile           where the relay's time goes during the burst

import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { formatEnvFile } from "../scripts/lib/env-file.mjs";
import { projectRoot, runWrangler } from "../scripts/lib/wrangler.mjs";
import { benchConfig, ingestOnlyConfig, shardedConfig } from "./lib/configs.mjs";
import { callEndedBody, callIdSource, now, postEvents, throughputRound } from "./lib/load.mjs";
import { freePort, startWranglerDev, stopAll, stopAllNow, waitUntilReady } from "./lib/processes.mjs";
import { selfTimes, startProfile } from "./lib/profile.mjs";
import { startSink } from "./lib/sink.mjs";
import { median, percentile, round } from "./lib/stats.mjs";

const BENCH_DIR = path.join(projectRoot, "bench");
/**
 * Each target's local state (its Durable Objects' SQLite files, D1, KV) lives on disk by
 * default. `--state-dir` on a RAM disk shows what the disk costs (every new object's database
 * file is created and synced on the Worker's only thread), but there a target creates objects
 * so fast that one local runtime soon holds more open databases than it can map, and answers
 * SQLITE_NOMEM errors (counted as non-2xx): see the README.
 */
const DEFAULT_STATE_DIR = path.join(BENCH_DIR, ".state");
/** statfs's type for tmpfs (linux/magic.h). */
const TMPFS_MAGIC = 0x01021994;
const AGENT_ID = "agent_bench";
/** The seed's agent (an SMS, a webhook and an email): what the cost phase meters. */
const SEED_AGENT_ID = "agent_seed";
const SEED_ACTIONS = (webhookUrl) => [
  { type: "sms", template: "Thanks for calling {agent_name}! Your reference number is {call_id}." },
  { type: "webhook", url: webhookUrl, include_transcript: true, include_recording_url: true },
  { type: "email", to: "{caller_email}", subject: "Your call summary — {date}", body_template: "call_summary" },
];
const TARGETS = ["bare", "warm-floor", "do-floor", "relay", "relay-ingest", "relay-sharded"]; // also the order of each throughput round
/** The relay as built, and with its ledger sharded: both deliver, both are metered. */
const RELAYS = ["relay", "relay-sharded"];
const isRelay = (target) => RELAYS.includes(target);
/**
 * Builds of the relay's code: the relays, and "relay-ingest", the relay with its `actions`
 * consumer left out of its config, which measures ingest alone in the throughput rounds.
 */
const BUILDS = [...RELAYS, "relay-ingest"];
const isBuild = (target) => BUILDS.includes(target);
/** The number of objects of both sharded shapes: the warm floor and the sharded relay. */
const WARM_SHARDS = 64;

const OPTIONS = {
  duration: { type: "string", default: "10", help: "seconds per throughput round" },
  connections: { type: "string", default: "50", help: "autocannon connections" },
  rounds: { type: "string", default: "3", help: "throughput rounds per target" },
  warmup: { type: "string", default: "2", help: "seconds of unmeasured load per target first" },
  events: { type: "string", default: "1000", help: "events in the end-to-end burst (0 skips it)" },
  steady: { type: "string", default: "10", help: "seconds of steady load at half each relay's ingest rate (0 skips it)" },
  "cost-events": { type: "string", default: "300", help: "seed-agent events whose billable operations are metered (0 skips it)" },
  concurrency: { type: "string", default: "20", help: "end-to-end requests in flight" },
  timeout: { type: "string", default: "120", help: "seconds to wait for deliveries" },
  only: { type: "string", help: `one or more of ${TARGETS.join(", ")}, comma-separated: benchmark just those` },
  profile: { type: "boolean", default: false, help: "profile each relay during its burst, and relay-ingest during its last round: top functions, and a .cpuprofile kept in the run's directory" },
  "state-dir": { type: "string", help: "where each run keeps its Workers' local state and logs (default bench/.state)" },
  "keep-state": { type: "boolean", default: false, help: "keep the run's directory (logs, local D1) afterwards" },
  help: { type: "boolean", default: false, help: "show this" },
};

let sink = null;
let runDir = null;
let keepState = false;

async function main() {
  const settings = readSettings();
  keepState = settings.keepState;
  runDir = createRunDir(settings.stateDir);
  const secrets = benchSecrets();
  const targets = settings.only ? TARGETS.filter((t) => settings.only.includes(t)) : TARGETS;
  const relays = targets.filter(isRelay);

  const builds = {};
  const built = targets.filter(isBuild);
  if (built.length > 0) {
    sink = await startSink();
    for (const relay of built) {
      builds[relay] = await buildRelay(relay);
      await applyMigrations(relay);
    }
  }
  const servers = await startServers(targets, secrets, builds);
  for (const relay of built) {
    await configureAgent(servers[relay], secrets.ADMIN_API_KEY, AGENT_ID, [
      { type: "webhook", url: sink.url, include_transcript: true, include_recording_url: true },
    ]);
    await configureAgent(servers[relay], secrets.ADMIN_API_KEY, SEED_AGENT_ID, SEED_ACTIONS(sink.url));
  }

  const accepted = new Map(); // every relay call_id answered 202, throughput phase included
  const runId = randomBytes(3).toString("hex");
  const profiles = {};
  const throughput = await runThroughput({ settings, servers, secrets, accepted, runId, targets, profiles, builds });
  const endToEnd = {};
  const steady = {};
  const cost = {};
  for (const relay of relays) {
    const phase = { settings, relay, server: servers[relay], secrets, accepted, runId: `${runId}_${relay}` };
    if (settings.events > 0) {
      const profiler = settings.profile ? await startProfile(servers[relay].inspectorPort) : null;
      endToEnd[relay] = await runEndToEnd(phase);
      if (profiler) profiles[relay] = saveProfile(`${relay}-burst`, await profiler.stop(), builds[relay].script);
    }
    if (settings.steadySeconds > 0) steady[relay] = await runSteady({ ...phase, throughput });
    if (settings.costEvents > 0) cost[relay] = await runCost(phase);
  }
  const delivery = relays.length > 0 ? await finalDelivery(accepted, settings.timeout) : null;

  const results = buildResults({ settings, throughput, endToEnd, steady, cost, profiles, delivery });
  printReport(results);
  writeFileSync(path.join(BENCH_DIR, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log("\nWrote bench/results.json");

  await shutdown();
  const failed = delivery && delivery.lost > 0;
  if (!failed && !settings.keepState) rmSync(runDir, { recursive: true, force: true });
  else console.log(`Logs and local state kept in ${shown(runDir)}`);
  process.exitCode = failed ? 1 : 0;
}

function readSettings() {
  const { values } = parseArgs({ options: OPTIONS, strict: true });
  if (values.help) {
    console.log("Usage: npm run bench -- [options]\n");
    for (const [name, option] of Object.entries(OPTIONS)) {
      const fallback = option.default !== undefined && option.type === "string" ? ` (default ${option.default})` : "";
      console.log(`  --${name.padEnd(12)} ${option.help}${fallback}`);
    }
    process.exit(0);
  }
  const number = (name, min) => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number >= ${min}`);
    return value;
  };
  const only = values.only?.split(",").map((t) => t.trim());
  if (only && (only.length === 0 || !only.every((t) => TARGETS.includes(t)))) {
    throw new Error(`--only takes one or more of ${TARGETS.join(", ")}, separated by commas`);
  }
  return {
    durationSeconds: number("duration", 1),
    connections: number("connections", 1),
    rounds: number("rounds", 1),
    warmupSeconds: number("warmup", 0),
    events: number("events", 0),
    steadySeconds: number("steady", 0),
    costEvents: number("cost-events", 0),
    concurrency: number("concurrency", 1),
    timeout: number("timeout", 1),
    only: only ?? null,
    profile: values.profile,
    stateDir: path.resolve(values["state-dir"] ?? DEFAULT_STATE_DIR),
    // A profile is only of use if its file outlives the run.
    keepState: values["keep-state"] || values.profile,
  };
}

function createRunDir(stateDir) {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const dir = path.join(stateDir, `run-${stamp}-${process.pid}`);
  for (const target of TARGETS) mkdirSync(path.join(dir, `${target}-state`), { recursive: true });
  return dir;
}

/** Throwaway secrets for this run only, so the bench never depends on (or shows) .dev.vars. */
function benchSecrets() {
  const key = () => randomBytes(24).toString("base64url");
  const signing = () => `whsec_${randomBytes(32).toString("base64")}`;
  return {
    ADMIN_API_KEY: key(),
    INGEST_API_KEY: key(),
    INGEST_SIGNING_SECRET: signing(),
    WEBHOOK_SIGNING_SECRET: signing(),
  };
}

/**
 * `wrangler dev` rebuilds and restarts a Worker whenever its sources or config change, and a
 * restart empties Miniflare's local queues. Run beside someone editing src/, the bench would
 * report those dropped jobs as lost deliveries. So the relay is bundled once, and served from
 * that bundle with a copy of its config: the run measures one fixed version of the code.
 */
async function buildRelay(relay) {
  console.log(`Bundling ${relay}...`);
  const outdir = path.join(runDir, `${relay}-build`);
  const config = path.join(runDir, `${relay}.wrangler.toml`);
  const toml = benchConfig(readFileSync(path.join(projectRoot, "wrangler.toml"), "utf8"));
  writeFileSync(config, relay === "relay-sharded" ? shardedConfig(toml) : relay === "relay-ingest" ? ingestOnlyConfig(toml) : toml);
  const entry = relay === "relay-sharded" ? path.join(BENCH_DIR, "sharded-relay.ts") : path.join(projectRoot, "src", "index.ts");
  const result = await runWrangler(["deploy", entry, "--dry-run", "--outdir", outdir, "--config", config], { echo: false });
  if (result.code !== 0) throw new Error(`bundling ${relay} failed:\n${result.stdout}\n${result.stderr}`);
  const scripts = readdirSync(outdir).filter((file) => file.endsWith(".js"));
  if (scripts.length !== 1) throw new Error(`expected one bundled script, found: ${scripts.join(", ") || "none"}`);
  return { script: path.join(outdir, scripts[0]), config };
}

// The relay's D1 must have its schema in the very dir `wrangler dev --persist-to` will use.
async function applyMigrations(relay) {
  console.log(`Applying D1 migrations to ${relay}'s fresh local state...`);
  const args = ["d1", "migrations", "apply", "DB", "--local", "--persist-to", path.join(runDir, `${relay}-state`)];
  const result = await runWrangler(args, { echo: false });
  if (result.code !== 0) throw new Error(`D1 migrations failed:\n${result.stdout}\n${result.stderr}`);
}

function projectCompatibilityDate() {
  const toml = readFileSync(path.join(projectRoot, "wrangler.toml"), "utf8");
  return toml.match(/^compatibility_date\s*=\s*"([^"]+)"/m)?.[1];
}

async function startServers(targets, secrets, builds) {
  console.log(`Starting ${targets.join(", ")} with wrangler dev...`);
  const servers = {};
  // One at a time, each ready before the next asks for ports: wrangler also binds ports of its
  // own, so a port free when asked can be taken by the time a later process binds it. A clash
  // all the same is retried on fresh ports.
  for (const target of targets) {
    for (let attempt = 1; ; attempt++) {
      try {
        servers[target] = await startServer(target, secrets, builds);
        break;
      } catch (error) {
        if (attempt >= 3 || !/Address already in use/.test(error.message)) throw error;
        console.log(`  ${target}: a port was taken meanwhile, starting again`);
      }
    }
  }
  return servers;
}

async function startServer(target, secrets, builds) {
  const port = await freePort();
  let inspectorPort = await freePort();
  while (inspectorPort === port) inspectorPort = await freePort();
  const args = [
    "--ip", "127.0.0.1",
    "--port", String(port),
    "--inspector-port", String(inspectorPort),
    "--show-interactive-dev-session=false",
    // All targets log the same (little), so logging costs none of them more than the others.
    "--log-level", "warn",
    ...(isBuild(target) ? relayArgs(target, secrets, builds[target]) : baselineArgs(target)),
  ];
  const child = startWranglerDev({ name: target, args, logFile: path.join(runDir, `${target}.log`) });
  const baseUrl = `http://127.0.0.1:${port}`;
  // The relay is ready when its health check passes; the bare Worker answers anything; the
  // do-floor Worker when an event goes through its Durable Object (so a broken binding or
  // migration fails here, not as a round of errors).
  if (isBuild(target)) await waitUntilReady(child, `${baseUrl}/healthz`, { isReady: (status) => status === 200 });
  else if (target === "do-floor" || target === "warm-floor") {
    const init = { method: "POST", headers: { "content-type": "application/json" }, body: callEndedBody("bench_ready", AGENT_ID) };
    await waitUntilReady(child, `${baseUrl}/calls/ended`, { init, isReady: (status) => status === 202 });
  } else await waitUntilReady(child, baseUrl);
  return { child, baseUrl, inspectorPort };
}

function relayArgs(relay, secrets, build) {
  // An explicit --env-file replaces .dev.vars entirely (wrangler loads one or the other), so no
  // OUTBOX: the seed agent's SMS and email go to Twilio and Resend, both played by the sink.
  const envFile = path.join(runDir, `${relay}.env`);
  const providers = {
    TWILIO_ACCOUNT_SID: "ACbench",
    TWILIO_AUTH_TOKEN: randomBytes(16).toString("hex"),
    TWILIO_FROM: "+14155550100",
    TWILIO_BASE_URL: `${sink.origin}/twilio`,
    RESEND_API_KEY: `re_${randomBytes(16).toString("hex")}`,
    EMAIL_FROM: "Bench <bench@example.com>",
    RESEND_BASE_URL: `${sink.origin}/resend`,
  };
  writeFileSync(envFile, formatEnvFile({ ...secrets, ...providers }), { mode: 0o600 });
  return [
    build.script,
    "--no-bundle",
    "--config", build.config,
    "--persist-to", path.join(runDir, `${relay}-state`),
    "--env-file", envFile,
    // The sink listens on 127.0.0.1, which the relay refuses unless told otherwise.
    "--var", "ALLOW_PRIVATE_TARGETS:true",
    // Count billable operations (GET /usage), for the cost phase. relay-ingest has none, and
    // runs as the relay is deployed (metering off), so its rounds time ingest and nothing else.
    ...(isRelay(relay) ? ["--var", "METER:true"] : []),
    ...(relay === "relay-sharded" ? ["--var", `SHARDS:${WARM_SHARDS}`] : []),
    // Its watchdog would re-send each undelivered call's job a minute on, in a later round.
    ...(relay === "relay-ingest" ? ["--var", "WATCHDOG_SECONDS:86400"] : []),
  ];
}

/**
 * The bare and floor Workers: bench/<script>-worker.js with bench/<script>.wrangler.toml; the
 * warm floor is the do-floor Worker with its calls spread over WARM_SHARDS objects.
 */
function baselineArgs(target) {
  const date = projectCompatibilityDate();
  const script = target === "warm-floor" ? "do-floor" : target;
  // Served from a copy of its config, like the relay, so wrangler's scratch dir (.wrangler/,
  // next to the config) lands in the run dir rather than in bench/.
  const config = path.join(runDir, `${target}.wrangler.toml`);
  copyFileSync(path.join(BENCH_DIR, `${script}.wrangler.toml`), config);
  return [
    path.join(BENCH_DIR, `${script}-worker.js`),
    "--config", config,
    "--persist-to", path.join(runDir, `${target}-state`),
    ...(date ? ["--compatibility-date", date] : []),
    ...(target === "warm-floor" ? ["--var", `SHARDS:${WARM_SHARDS}`] : []),
  ];
}

async function configureAgent(relay, adminKey, agentId, actions) {
  const response = await fetch(`${relay.baseUrl}/agents/${agentId}`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "Bench Agent", voice_tools: { post_call_follow_up: { enabled: true, actions } } }),
  });
  const body = await response.text();
  if (response.status !== 200 && response.status !== 201) {
    throw new Error(`configuring the agent failed: ${response.status} ${body}`);
  }
}

async function runThroughput({ settings, servers, secrets, accepted, runId, targets, profiles, builds }) {
  const rounds = [];
  const ids = Object.fromEntries(TARGETS.map((target) => [target, callIdSource(`bench_${runId}_${target}`)]));
  // The relay-ingest's calls are never delivered, so each call's ledger logs it by its alarm,
  // 30 s after its 202: that work, like a relay's deliveries, is let finish between rounds.
  const ingestOnly = new Map(); // call_id -> its 202 read at
  const load = (target, durationSeconds) =>
    throughputRound({
      url: `${servers[target].baseUrl}/calls/ended`,
      headers: { authorization: `Bearer ${secrets.INGEST_API_KEY}` },
      connections: settings.connections,
      durationSeconds,
      nextCallId: ids[target],
      agentId: AGENT_ID,
      accepted: isRelay(target) ? accepted : target === "relay-ingest" ? ingestOnly : null,
    });
  const settle = async (target) => {
    if (isRelay(target)) return waitForDeliveries(accepted, settings.timeout);
    if (target === "relay-ingest") return waitForLog(servers[target], ingestOnly, secrets.ADMIN_API_KEY, settings.timeout);
    return null;
  };

  if (settings.warmupSeconds > 0) {
    for (const target of targets) {
      console.log(`Warming up ${target} for ${settings.warmupSeconds} s...`);
      await load(target, settings.warmupSeconds);
      // Its deliveries (a relay-ingest's alarms) would otherwise run during the first measured round.
      await settle(target);
    }
  }
  for (let round = 1; round <= settings.rounds; round++) {
    for (const target of targets) {
      console.log(`Round ${round}: ${target}, ${settings.connections} connections for ${settings.durationSeconds} s...`);
      // With --profile, the relay-ingest's last round shows where ingest alone spends its thread.
      const profiler = settings.profile && target === "relay-ingest" && round === settings.rounds ? await startProfile(servers[target].inspectorPort) : null;
      const figures = await load(target, settings.durationSeconds);
      if (profiler) profiles[target] = saveProfile(`${target}-round`, await profiler.stop(), builds[target].script);
      const entry = { target, round, ...figures };
      const drain = await settle(target);
      if (drain) {
        entry.drainSeconds = drain.seconds;
        if (drain.missing > 0) console.log(`  ${drain.missing} ${isRelay(target) ? "deliveries" : "calls unlogged"} still outstanding after ${settings.timeout} s`);
      }
      rounds.push(entry);
    }
  }
  return rounds;
}

/** Collects from the sink until every accepted call_id has arrived, or the timeout passes. */
async function waitForDeliveries(accepted, timeoutSeconds) {
  const started = now();
  const deadline = started + timeoutSeconds * 1000;
  let missing = Infinity;
  while (true) {
    const deliveries = await sink.collect();
    missing = 0;
    for (const callId of accepted.keys()) if (!deliveries.has(callId)) missing++;
    if (missing === 0 || now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { seconds: (now() - started) / 1000, missing };
}

/**
 * Waits until the delivery log holds the last call a relay-ingest accepted since the last wait
 * (each call's alarm logs it, in the order they were accepted; `accepted` is in that order),
 * then a second more for any alarm that fired out of order.
 */
async function waitForLog(server, accepted, adminKey, timeoutSeconds) {
  const started = now();
  const lastCallId = [...accepted.keys()].at(-1);
  accepted.clear();
  if (lastCallId === undefined) return { seconds: 0, missing: 0 };
  const deadline = started + timeoutSeconds * 1000;
  const headers = { authorization: `Bearer ${adminKey}` };
  while (true) {
    const response = await fetch(`${server.baseUrl}/calls/${lastCallId}`, { headers });
    await response.arrayBuffer();
    if (response.status === 200) break;
    if (now() > deadline) return { seconds: (now() - started) / 1000, missing: 1 };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return { seconds: (now() - started) / 1000, missing: 0 };
}

/** Keeps the whole profile for DevTools and returns its top functions for the report. */
function saveProfile(name, profile, script) {
  const file = path.join(runDir, `${name}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  return { file: shown(file), ...selfTimes(profile, script) };
}

async function runEndToEnd({ settings, relay, server, secrets, accepted, runId }) {
  console.log(`End to end, ${relay}: ${settings.events} events, ${settings.concurrency} at a time...`);
  const batch = await postEvents({
    url: `${server.baseUrl}/calls/ended`,
    headers: { authorization: `Bearer ${secrets.INGEST_API_KEY}` },
    count: settings.events,
    concurrency: settings.concurrency,
    nextCallId: callIdSource(`bench_${runId}_e2e`),
    agentId: AGENT_ID,
  });
  for (const [callId, at] of batch.accepted) accepted.set(callId, at);
  await waitForDeliveries(batch.accepted, settings.timeout);
  return endToEndFigures(batch);
}

/**
 * A steady load at half the given relay's measured ingest rate: what a deployment sees on an
 * ordinary busy day, where accepted-to-delivered latency is what matters.
 */
async function runSteady({ settings, relay, server, secrets, accepted, runId, throughput }) {
  // Half the rate the relay sustains, its deliveries included: locally one thread ingests and
  // delivers, and half its ingest alone (relay-ingest) would already fill that thread.
  const capacity = summarizeTarget(throughput, relay)?.requestsPerSecond ?? 0;
  const perSecond = Math.max(1, Math.round(capacity / 2));
  const count = Math.round(perSecond * settings.steadySeconds);
  console.log(`Steady, ${relay}: ${count} events at ${perSecond}/s (half of ${round(capacity)} req/s)...`);
  const batch = await postEvents({
    url: `${server.baseUrl}/calls/ended`,
    headers: { authorization: `Bearer ${secrets.INGEST_API_KEY}` },
    count,
    concurrency: Math.max(10, perSecond),
    perSecond,
    nextCallId: callIdSource(`bench_${runId}_steady`),
    agentId: AGENT_ID,
  });
  for (const [callId, at] of batch.accepted) accepted.set(callId, at);
  await waitForDeliveries(batch.accepted, settings.timeout);
  return { perSecond, ...endToEndFigures(batch) };
}

/**
 * The seed's three-action agent under a steady load, metered: GET /usage before and after, once
 * every SMS, email and webhook has arrived and the ledgers have caught up with the log.
 */
async function runCost({ settings, relay, server, secrets, runId }) {
  const usage = async () => {
    const response = await fetch(`${server.baseUrl}/usage`, { headers: { authorization: `Bearer ${secrets.ADMIN_API_KEY}` } });
    if (response.status !== 200) throw new Error(`GET /usage answered ${response.status}: is METER=true?`);
    return (await response.json()).usage;
  };
  console.log(`Cost, ${relay}: ${settings.costEvents} events for the seed's three-action agent...`);
  // The log writes of calls delivered just before land after their deliveries: not in this count.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const before = await usage();
  const emailsBefore = sink.messages.email.size;
  const batch = await postEvents({
    url: `${server.baseUrl}/calls/ended`,
    headers: { authorization: `Bearer ${secrets.INGEST_API_KEY}` },
    count: settings.costEvents,
    concurrency: 10,
    perSecond: 50,
    nextCallId: callIdSource(`bench_${runId}_cost`),
    agentId: SEED_AGENT_ID,
  });
  const calls = batch.accepted.size;
  const deadline = now() + settings.timeout * 1000;
  const arrived = () => {
    const webhooks = [...batch.accepted.keys()].filter((id) => sink.deliveries.has(id)).length;
    const sms = [...batch.accepted.keys()].filter((id) => sink.messages.sms.has(id)).length;
    return { webhooks, sms, emails: sink.messages.email.size - emailsBefore };
  };
  let counts = arrived();
  while ((counts.webhooks < calls || counts.sms < calls || counts.emails < calls) && now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    await sink.collect();
    counts = arrived();
  }
  // The last log writes run after the deliveries they record.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const after = await usage();
  const perCall = Object.fromEntries(Object.keys(after).map((k) => [k, round((after[k] - before[k]) / calls, 3)]));
  const duplicates = [...sink.messages.sms.values(), ...sink.messages.email.values()].filter((n) => n > 1).length;
  return { calls, arrived: counts, duplicateMessages: duplicates, perCall, dollars: priceCalls(perCall) };
}

async function finalDelivery(accepted, timeoutSeconds) {
  const wait = await waitForDeliveries(accepted, timeoutSeconds);
  const deliveries = await sink.collect();
  let duplicateDeliveries = 0;
  let duplicatedCallIds = 0;
  let unexpected = 0;
  for (const [callId, { count }] of deliveries) {
    if (count > 1) {
      duplicatedCallIds++;
      duplicateDeliveries += count - 1;
    }
    if (!accepted.has(callId)) unexpected++;
  }
  const lost = [...accepted.keys()].filter((callId) => !deliveries.has(callId));
  return {
    accepted: accepted.size,
    delivered: accepted.size - lost.length,
    lost: lost.length,
    // A few to look up with GET /calls/{call_id} (run with --keep-state to keep the relay's data).
    lostSample: lost.slice(0, 10),
    duplicateDeliveries,
    duplicatedCallIds,
    // Delivered but never seen accepted: requests still in flight when an autocannon round
    // ended. The relay took them; autocannon closed the connection before reading the 202.
    unexpected,
    malformed: sink.totals.malformed,
    unsigned: sink.totals.unsigned,
    finalWaitSeconds: round(wait.seconds, 2),
  };
}

function summarizeTarget(rounds, target) {
  const mine = rounds.filter((r) => r.target === target);
  if (mine.length === 0) return null;
  return {
    requestsPerSecond: round(median(mine.map((r) => r.requestsPerSecond))),
    latencyP50: round(median(mine.map((r) => r.latencyP50)), 2),
    latencyP99: round(median(mine.map((r) => r.latencyP99)), 2),
    non2xx: mine.reduce((sum, r) => sum + r.non2xx, 0),
    errors: mine.reduce((sum, r) => sum + r.errors + r.timeouts, 0),
  };
}

function endToEndFigures(batch) {
  const deliveries = sink.deliveries;
  // The relay accepted each call between its post and its 202, so the latency is given from
  // both: from the 202 (a lower bound: the 202 comes back through wrangler's local proxy, so a
  // prompt delivery can reach the sink first, below zero) and from the post (an upper bound).
  const latencies = [];
  const fromPost = [];
  let firstArrival = Infinity;
  let lastArrival = batch.startedAt;
  for (const [callId, acceptedAt] of batch.accepted) {
    const delivery = deliveries.get(callId);
    if (!delivery) continue;
    latencies.push(delivery.first - acceptedAt);
    fromPost.push(delivery.first - batch.posted.get(callId));
    firstArrival = Math.min(firstArrival, delivery.first);
    lastArrival = Math.max(lastArrival, delivery.first);
  }
  const seconds = (lastArrival - batch.startedAt) / 1000;
  const deliveringSeconds = (lastArrival - firstArrival) / 1000;
  // Accepted by the time posting ended and not yet delivered then: what delivery was behind
  // by. Keeping pace, it is about the latency's worth of calls; falling behind, it grows with
  // the burst.
  let backlog = 0;
  for (const [callId, acceptedAt] of batch.accepted) {
    if (acceptedAt > batch.finishedAt) continue;
    const delivery = deliveries.get(callId);
    if (!delivery || delivery.first > batch.finishedAt) backlog++;
  }
  return {
    posted: batch.accepted.size + Object.values(batch.failures).reduce((a, b) => a + b, 0),
    accepted: batch.accepted.size,
    rejected: batch.failures,
    delivered: latencies.length,
    acceptedPerSecond: round(batch.accepted.size / ((batch.finishedAt - batch.startedAt) / 1000)),
    // From the first arrival to the last: the rate delivery ran at, over its own window as
    // acceptedPerSecond is over posting's.
    deliveriesPerSecond: deliveringSeconds > 0 ? round(latencies.length / deliveringSeconds) : null,
    // From the first post to the last arrival: the whole pipeline, one latency included.
    pipelinePerSecond: seconds > 0 ? round(latencies.length / seconds) : null,
    backlogWhenPostingEnded: backlog,
    postingSeconds: round((batch.finishedAt - batch.startedAt) / 1000, 2),
    firstDeliveryAfterSeconds: round((firstArrival - batch.startedAt) / 1000, 2),
    lastDeliveryAfterSeconds: round((lastArrival - batch.startedAt) / 1000, 2),
    latencyP50: round(percentile(latencies, 50), 1),
    latencyP99: round(percentile(latencies, 99), 1),
    latencyMax: round(Math.max(...latencies), 1),
    postedLatencyP50: round(percentile(fromPost, 50), 1),
    postedLatencyP99: round(percentile(fromPost, 99), 1),
    postedLatencyMax: round(Math.max(...fromPost), 1),
  };
}

/** A path as the user would type it: relative inside the working directory, absolute outside it. */
function shown(file) {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith("..") ? file : relative;
}

/** Whether the targets' local state was in memory or on a disk. */
function storageKind(dir) {
  return statfsSync(dir).type === TMPFS_MAGIC ? "memory (tmpfs)" : "disk";
}

/**
 * A directory as the results record it: relative to the project, or null outside it (a RAM
 * disk, say, which `stateOn` names), so the results name no machine's paths.
 */
function pathInProject(dir) {
  const relative = path.relative(projectRoot, dir);
  const outside = relative === ".." || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative);
  return outside ? null : relative || ".";
}

/** Which code was measured: the commit, and whether the working tree differed from it. */
function gitRevision() {
  const git = (...args) => spawnSync("git", args, { cwd: projectRoot, encoding: "utf8" });
  const head = git("rev-parse", "--short", "HEAD");
  if (head.status !== 0) return null;
  const dirty = git("status", "--porcelain", "--untracked-files=no").stdout.trim() !== "";
  return { commit: head.stdout.trim(), dirty };
}

function wranglerVersion() {
  return JSON.parse(readFileSync(path.join(projectRoot, "node_modules", "wrangler", "package.json"), "utf8")).version;
}

/** How `a`'s medians compare with `b`'s: "relay/bare" 0.1 means a tenth of bare's req/s. */
function ratioOf(a, b) {
  if (!a || !b) return null;
  return {
    requestsPerSecond: round(a.requestsPerSecond / b.requestsPerSecond, 3),
    latencyP50: round(a.latencyP50 / b.latencyP50, 2),
    latencyP99: round(a.latencyP99 / b.latencyP99, 2),
  };
}

const RATIOS = [
  ["relay", "bare"],
  ["relay", "do-floor"],
  ["relay-ingest", "do-floor"],
  ["relay", "relay-ingest"],
  ["relay-sharded", "bare"],
  ["relay-sharded", "warm-floor"],
  ["relay-sharded", "relay"],
  ["do-floor", "bare"],
  ["warm-floor", "bare"],
  ["do-floor", "warm-floor"],
];

/** bench/prices.json: Cloudflare's published prices, with the date they were read. */
function readPrices() {
  return JSON.parse(readFileSync(path.join(BENCH_DIR, "prices.json"), "utf8"));
}

/**
 * Dollars for the metered operations of one call: per million calls at list price (nothing
 * included), and the month's bill at several volumes once the plan's included amounts are
 * used up (the plan's base fee included).
 */
function priceCalls(perCall) {
  const prices = readPrices();
  const lines = Object.entries(prices.operations).map(([name, p]) => {
    const quantity = p.per_call_from.reduce((sum, key) => sum + (perCall[key] ?? 0), 0) * (p.factor ?? 1);
    return { name, quantity: round(quantity, 3), unit: p.unit, dollarsPerMillionCalls: round(quantity * p.usd_per_million, 3), p };
  });
  const perMillion = lines.reduce((sum, l) => sum + l.dollarsPerMillionCalls, 0);
  const monthly = Object.fromEntries(
    prices.volumes.map((calls) => {
      const usage = lines.reduce((sum, l) => sum + (Math.max(0, l.quantity * calls - l.p.included_per_month) / 1e6) * l.p.usd_per_million, 0);
      return [calls, round(prices.base_usd_per_month + usage, 2)];
    }),
  );
  return {
    pricesRead: prices.read_on,
    perMillionCalls: round(perMillion, 2),
    lines: lines.map(({ p: _p, ...line }) => line),
    monthlyBill: monthly,
  };
}

function buildResults({ settings, throughput, endToEnd, steady, cost, profiles, delivery }) {
  const summaries = Object.fromEntries(TARGETS.map((target) => [target, summarizeTarget(throughput, target)]));
  const ratios = Object.fromEntries(RATIOS.map(([a, b]) => [`${a}/${b}`, ratioOf(summaries[a], summaries[b])]));
  return {
    timestamp: new Date().toISOString(),
    node: process.version,
    wrangler: wranglerVersion(),
    git: gitRevision(),
    platform: `${os.platform()} ${os.arch()}`,
    cpus: os.cpus().length,
    settings: { ...settings, stateDir: pathInProject(settings.stateDir), bodyBytes: 1024 },
    stateOn: storageKind(settings.stateDir),
    throughput: {
      note: "per target: median of its rounds; ratios: a/b of those medians (null when a target did not run)",
      ...summaries,
      ratios,
      rounds: throughput.map((r) => ({
        ...r,
        requestsPerSecond: round(r.requestsPerSecond),
        drainSeconds: r.drainSeconds === undefined ? undefined : round(r.drainSeconds, 2),
      })),
    },
    note: "endToEnd, steady, cost and profile: per relay",
    endToEnd,
    steady,
    cost,
    ...(Object.keys(profiles).length > 0 ? { profile: profiles } : {}),
    delivery,
  };
}

function table(rows) {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => String(row[col]).length)));
  return rows.map((row) => row.map((cell, col) => String(cell)[col === 0 ? "padEnd" : "padStart"](widths[col])).join("  ")).join("\n");
}

const show = (value, unit = "") => (value === null || value === undefined ? "-" : `${value}${unit}`);

function printReport(results) {
  const { settings, throughput, endToEnd, steady, cost, profile, delivery } = results;
  console.log(`\nThroughput: ${settings.connections} connections, ${settings.durationSeconds} s per round, ~1 KB call-ended events`);
  const rows = [["", "req/s", "p50 ms", "p99 ms", "non-2xx", "errors", "drain s"]];
  for (const r of throughput.rounds) {
    rows.push([`${r.target} #${r.round}`, r.requestsPerSecond, r.latencyP50, r.latencyP99, r.non2xx, r.errors + r.timeouts, show(r.drainSeconds)]);
  }
  for (const target of TARGETS) {
    const s = throughput[target];
    if (s) rows.push([`${target} median`, s.requestsPerSecond, s.latencyP50, s.latencyP99, s.non2xx, s.errors, ""]);
  }
  for (const [name, ratio] of Object.entries(throughput.ratios)) {
    if (ratio) rows.push([name.replace("/", " / "), `${ratio.requestsPerSecond}x`, `${ratio.latencyP50}x`, `${ratio.latencyP99}x`, "", "", ""]);
  }
  console.log(table(rows));

  for (const [relay, burst] of Object.entries(endToEnd)) printBurst(relay, burst, settings);
  for (const [relay, figures] of Object.entries(profile ?? {})) printProfile(relay, figures);
  for (const [relay, figures] of Object.entries(steady)) printSteady(relay, figures);
  for (const [relay, figures] of Object.entries(cost)) printCost(relay, figures);
  if (delivery) {
    console.log("\nDelivery over the whole run");
    console.log(
      table([
        ["accepted", delivery.accepted],
        ["delivered", delivery.delivered],
        ["lost", delivery.lost],
        ["duplicate deliveries", `${delivery.duplicateDeliveries} (${delivery.duplicatedCallIds} call_ids)`],
        ["delivered, 202 unread", `${delivery.unexpected} (in flight when a round ended)`],
        ["unsigned / malformed", `${delivery.unsigned} / ${delivery.malformed}`],
      ]),
    );
  }
}

function printBurst(relay, endToEnd, settings) {
  console.log(`\nEnd to end, ${relay}: ${settings.events} events, ${settings.concurrency} in flight`);
  console.log(
    table([
      ["accepted", `${endToEnd.accepted} / ${endToEnd.posted}`],
      ["accepted/s", show(endToEnd.acceptedPerSecond)],
      ["deliveries/s (first to last delivery)", show(endToEnd.deliveriesPerSecond)],
      ["deliveries/s (first post to last delivery)", show(endToEnd.pipelinePerSecond)],
      ["posting took", show(endToEnd.postingSeconds, " s")],
      ["undelivered when posting ended", endToEnd.backlogWhenPostingEnded],
      ["first / last delivery after", `${show(endToEnd.firstDeliveryAfterSeconds, " s")} / ${show(endToEnd.lastDeliveryAfterSeconds, " s")}`],
      ...latencyRows(endToEnd, { max: true }),
    ]),
  );
  if (Object.keys(endToEnd.rejected).length) console.log(`not accepted: ${JSON.stringify(endToEnd.rejected)}`);
}

/** Accepted→delivered, bounded from both sides: from the post (above) and from its 202 (below). */
function latencyRows(figures, { max = false } = {}) {
  const rows = [
    ["posted→delivered p50 / p99", `${show(figures.postedLatencyP50, " ms")} / ${show(figures.postedLatencyP99, " ms")}`],
    ["202→delivered p50 / p99", `${show(figures.latencyP50, " ms")} / ${show(figures.latencyP99, " ms")}`],
  ];
  if (max) rows.push(["posted→delivered max", show(figures.postedLatencyMax, " ms")]);
  return rows;
}

function printProfile(target, profile) {
  const phase = target === "relay-ingest" ? "its last throughput round" : "the burst";
  console.log(`\nWhere ${target}'s thread went during ${phase}: ${profile.sampledMs} ms sampled (${profile.file})`);
  console.log(table([["self time", "ms", "share"], ...profile.top.map((row) => [row.name, row.ms, `${row.share}%`])]));
}

function printSteady(relay, steady) {
  console.log(`\nSteady, ${relay}: ${steady.accepted} events at ${steady.perSecond}/s (half its ingest rate)`);
  console.log(
    table([
      ["accepted", `${steady.accepted} / ${steady.posted}`],
      ["accepted/s", show(steady.acceptedPerSecond)],
      ["deliveries/s (first to last delivery)", show(steady.deliveriesPerSecond)],
      ["undelivered when posting ended", steady.backlogWhenPostingEnded],
      ...latencyRows(steady),
    ]),
  );
}

function printCost(relay, cost) {
  console.log(`\nCost per call, ${relay}: seed agent (SMS, webhook, email), ${cost.calls} calls; prices of ${cost.dollars.pricesRead}`);
  const { webhooks, sms, emails } = cost.arrived;
  console.log(`arrived: ${webhooks} webhooks, ${sms} SMS, ${emails} emails; duplicated messages: ${cost.duplicateMessages}`);
  const rows = [["", "per call", "unit", "$ / M calls"]];
  for (const line of cost.dollars.lines) rows.push([line.name, line.quantity, line.unit, line.dollarsPerMillionCalls]);
  rows.push(["total", "", "", cost.dollars.perMillionCalls]);
  console.log(table(rows));
  console.log(
    `monthly bill, plan fee included: ${Object.entries(cost.dollars.monthlyBill)
      .map(([calls, usd]) => `${Number(calls).toLocaleString("en-US")} calls $${usd}`)
      .join(", ")}`,
  );
}

async function shutdown() {
  await stopAll();
  if (sink) await sink.close();
  sink = null;
}

// Whatever ends the run, workerd must not outlive it.
process.on("exit", stopAllNow);
for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]]) {
  process.on(signal, async () => {
    console.error(`\n${signal}: stopping wrangler dev...`);
    await shutdown();
    // An interrupted run's state is of no use; a failed one's logs are (see below).
    if (runDir && !keepState) rmSync(runDir, { recursive: true, force: true });
    process.exit(code);
  });
}

main().catch(async (error) => {
  console.error(`\nbench failed: ${error.message}`);
  await shutdown();
  if (runDir) console.error(`Logs kept in ${shown(runDir)}`);
  process.exit(1);
});
