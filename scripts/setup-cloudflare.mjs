#!/usr/bin/env node
// `npm run setup:cloudflare`: creates callrelay's resources in your own Cloudflare account,
// writes their ids into wrangler.toml, applies the D1 schema, and tells you how to add the
// secrets and deploy. Safe to re-run: resources that already exist are looked up and reused.
//
//   npm run setup:cloudflare              do it
//   npm run setup:cloudflare -- --dry-run print the commands it would run, change nothing

import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import {
  changedLines,
  findD1DatabaseId,
  findKvNamespaceId,
  generateApiKey,
  generateSigningSecret,
  parseD1CreateOutput,
  parseKvCreateOutput,
  setResourceIds,
} from "./lib/cloudflare-setup.mjs";
import { projectRoot, runWrangler, wranglerBin } from "./lib/wrangler.mjs";

// These match wrangler.toml; the Worker code looks its resources up by these bindings.
const D1_NAME = "callrelay";
const D1_BINDING = "DB";
const KV_BINDING = "CONFIG_CACHE";
const QUEUES = ["actions", "actions-dlq"];
const SECRETS = [
  { name: "ADMIN_API_KEY", generate: generateApiKey, note: "you send it to the admin API" },
  { name: "INGEST_API_KEY", generate: generateApiKey, note: "your voice platform sends it with call-ended events" },
  { name: "INGEST_SIGNING_SECRET", generate: generateSigningSecret, note: "or your voice platform signs call-ended events with it" },
  { name: "WEBHOOK_SIGNING_SECRET", generate: generateSigningSecret, note: "your webhook receivers verify deliveries with it" },
];

const WRANGLER_TOML = path.join(projectRoot, "wrangler.toml");

async function main() {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) return printUsage();
  const dryRun = args.includes("--dry-run");
  const wrangler = dryRun ? printOnly : runVisibly;
  if (dryRun) console.log("Dry run: printing each wrangler command instead of running it; nothing is changed.\n");
  else ensureLoggedIn();

  const databaseId = await ensureD1Database(wrangler, dryRun);
  const kvNamespaceId = await ensureKvNamespace(wrangler, dryRun);
  for (const queue of QUEUES) await ensureQueue(wrangler, queue);
  writeResourceIds({ databaseId, kvNamespaceId }, dryRun);

  const migrated = await wrangler(["d1", "migrations", "apply", D1_BINDING, "--remote"]);
  if (migrated.code !== 0) fail("Applying the D1 migrations remotely failed (see above).");

  printNextSteps(dryRun);
}

function printUsage() {
  console.log("Usage: npm run setup:cloudflare [-- --dry-run]");
  console.log("Creates the D1 database, KV namespace and queues in your Cloudflare account,");
  console.log("writes their ids into wrangler.toml and applies the D1 migrations remotely.");
}

function display(args) {
  return `npx wrangler ${args.join(" ")}`;
}

async function printOnly(args) {
  console.log(`$ ${display(args)}`);
  return { code: 0, stdout: "", stderr: "" };
}

async function runVisibly(args) {
  console.log(`\n$ ${display(args)}`);
  return runWrangler(args);
}

/**
 * The commands below run without a TTY (their output is parsed), where wrangler cannot open
 * the browser login or pick between accounts, so settle both up front while the user can answer.
 */
function ensureLoggedIn() {
  let whoami = whoamiJson();
  if (!whoami && !process.env.CLOUDFLARE_API_TOKEN && process.stdin.isTTY) {
    console.log("Not logged in to Cloudflare; starting `wrangler login`...");
    spawnSync(wranglerBin(), ["login"], { cwd: projectRoot, stdio: "inherit", shell: process.platform === "win32" });
    whoami = whoamiJson();
  }
  if (!whoami) {
    fail("Not authenticated with Cloudflare. Run `npx wrangler login`, or set CLOUDFLARE_API_TOKEN (and CLOUDFLARE_ACCOUNT_ID).");
  }
  const accounts = whoami.accounts ?? [];
  if (accounts.length > 1 && !process.env.CLOUDFLARE_ACCOUNT_ID) {
    const list = accounts.map((a) => `  CLOUDFLARE_ACCOUNT_ID=${a.id}  # ${a.name}`).join("\n");
    fail(`Your login can reach several Cloudflare accounts; choose one by setting CLOUDFLARE_ACCOUNT_ID:\n${list}`);
  }
}

function whoamiJson() {
  const result = spawnSync(wranglerBin(), ["whoami", "--json"], {
    cwd: projectRoot,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    shell: process.platform === "win32",
  });
  if (result.status !== 0) return null;
  try {
    return JSON.parse(result.stdout.slice(result.stdout.indexOf("{")));
  } catch {
    return null;
  }
}

async function ensureD1Database(wrangler, dryRun) {
  const created = await wrangler(["d1", "create", D1_NAME]);
  if (dryRun) return "<database_id printed by wrangler d1 create>";
  const id = created.code === 0 ? parseD1CreateOutput(created.stdout) : null;
  if (id) return id;
  // Most likely it already exists (a re-run); the list tells, and gives its id.
  const listed = await runWrangler(["d1", "list", "--json"], { echo: false });
  const existing = listed.code === 0 ? findD1DatabaseId(listed.stdout, D1_NAME) : null;
  if (!existing) fail(`Could not create or find the D1 database "${D1_NAME}" (see above).`);
  console.log(`Using the existing D1 database "${D1_NAME}" (${existing}).`);
  return existing;
}

async function ensureKvNamespace(wrangler, dryRun) {
  const created = await wrangler(["kv", "namespace", "create", KV_BINDING]);
  if (dryRun) return "<id printed by wrangler kv namespace create>";
  const id = created.code === 0 ? parseKvCreateOutput(created.stdout) : null;
  if (id) return id;
  const listed = await runWrangler(["kv", "namespace", "list"], { echo: false });
  const existing = listed.code === 0 ? findKvNamespaceId(listed.stdout, KV_BINDING) : null;
  if (!existing) fail(`Could not create or find the KV namespace "${KV_BINDING}" (see above).`);
  console.log(`Using the existing KV namespace "${KV_BINDING}" (${existing}).`);
  return existing;
}

async function ensureQueue(wrangler, queue) {
  const created = await wrangler(["queues", "create", queue]);
  if (created.code === 0) return;
  // `queues info` fails for a queue that does not exist, so success means a re-run.
  const info = await runWrangler(["queues", "info", queue], { echo: false });
  if (info.code !== 0) fail(`Could not create the queue "${queue}" (see above).`);
  console.log(`Using the existing queue "${queue}".`);
}

function writeResourceIds(ids, dryRun) {
  const before = readFileSync(WRANGLER_TOML, "utf8");
  const after = setResourceIds(before, { d1Binding: D1_BINDING, kvBinding: KV_BINDING, ...ids });
  const changes = changedLines(before, after);
  const verb = dryRun ? "would set" : "set";
  if (changes.length === 0) console.log("\nwrangler.toml already has these ids.");
  console.log("");
  for (const change of changes) console.log(`wrangler.toml line ${change.line}: ${verb} ${change.after.trim()}`);
  if (!dryRun && changes.length > 0) writeFileSync(WRANGLER_TOML, after);
}

function printNextSteps(dryRun) {
  const lines = [
    "",
    dryRun ? "Then you would store the secrets." : "Resources are ready. Next, store the secrets.",
    "Fresh random values are suggested below. Keep them somewhere safe: the API keys are how",
    "you and your voice platform call the relay, and webhook receivers need the signing secret.",
    "",
  ];
  for (const secret of SECRETS) {
    lines.push(`# ${secret.name}: ${secret.note}`);
    lines.push(`printf '%s' '${secret.generate()}' | npx wrangler secret put ${secret.name}`);
  }
  lines.push("", "Then deploy:", "", "npx wrangler deploy", "");
  console.log(lines.join("\n"));
}

function fail(message) {
  console.error(`\n${message}`);
  process.exit(1);
}

main().catch((error) => fail(error.message ?? String(error)));
