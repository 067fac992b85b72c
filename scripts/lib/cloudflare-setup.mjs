// The pure parts of `npm run setup:cloudflare`: reading ids out of wrangler's output and
// writing them into wrangler.toml. Kept free of I/O so node:test can pin them against
// real wrangler 4.86 output (see cloudflare-setup.test.mjs).

import { randomBytes } from "node:crypto";

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the ESC control character is the point.
const ANSI_ESCAPE = /\u001b\[[0-9;]*[A-Za-z]/g;

export function stripAnsi(text) {
  return String(text).replace(ANSI_ESCAPE, "");
}

/**
 * `wrangler d1 create` ends with a config snippet for the new database: TOML
 * (`database_id = "…"`) when the project uses wrangler.toml, JSON for wrangler.json(c).
 */
export function parseD1CreateOutput(output) {
  const match = stripAnsi(output).match(/"?database_id"?\s*[=:]\s*"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"/i);
  return match ? match[1] : null;
}

/** `wrangler kv namespace create` prints a `[[kv_namespaces]]` snippet whose `id` is the new namespace. */
export function parseKvCreateOutput(output) {
  const match = stripAnsi(output).match(/(?:^|[\s{,])"?id"?\s*[=:]\s*"([0-9a-f]{32})"/im);
  return match ? match[1] : null;
}

/** Finds a database by name in `wrangler d1 list --json` output. */
export function findD1DatabaseId(listOutput, name) {
  const database = parseJsonArray(listOutput).find((db) => db?.name === name);
  return database?.uuid ?? null;
}

/**
 * Finds a namespace by title in `wrangler kv namespace list` output (a JSON array).
 * Wrangler 4 titles a namespace exactly as given to `kv namespace create`, with no Worker-name prefix.
 */
export function findKvNamespaceId(listOutput, title) {
  const namespace = parseJsonArray(listOutput).find((ns) => ns?.title === title);
  return namespace?.id ?? null;
}

// Both list commands print only JSON, but a warning may share stdout with it, and wrangler's
// warnings themselves contain brackets ("▲ [WARNING]"), so the array starts on a line of its own.
function parseJsonArray(output) {
  const text = stripAnsi(output);
  const start = text.search(/^\[\s*(\]|\{|$)/m);
  const end = text.lastIndexOf("]");
  if (start === -1 || end < start) return [];
  try {
    const parsed = JSON.parse(text.slice(start, end + 1));
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

/**
 * Sets `key = "value"` inside the `[[table]]` block whose `binding` is `binding`, changing only
 * that one line so comments, ordering and the other blocks stay exactly as written.
 * Throws if there is no such block or line, rather than silently leaving a placeholder behind.
 */
export function setBindingValue(toml, { table, binding, key, value }) {
  const lines = toml.split("\n");
  const block = findBindingBlock(lines, table, binding);
  if (!block) throw new Error(`wrangler.toml has no [[${table}]] block with binding = "${binding}"`);
  // [^\n]* rather than .* so that the \r of a CRLF file stays on the line instead of defeating the match.
  const keyLine = new RegExp(`^(\\s*${key}\\s*=\\s*)"[^"]*"([^\\n]*)$`);
  for (let i = block.start; i < block.end; i++) {
    const match = lines[i].match(keyLine);
    if (match) {
      lines[i] = `${match[1]}"${value}"${match[2]}`;
      return lines.join("\n");
    }
  }
  throw new Error(`the [[${table}]] block for "${binding}" in wrangler.toml has no ${key} line`);
}

/** Line range [start, end) of the body of the `[[table]]` block that declares `binding`. */
function findBindingBlock(lines, table, binding) {
  const header = new RegExp(`^\\s*\\[\\[\\s*${escapeRegExp(table)}\\s*\\]\\]\\s*(#.*)?$`);
  const bindingLine = new RegExp(`^\\s*binding\\s*=\\s*"${escapeRegExp(binding)}"\\s*(#.*)?$`);
  for (let i = 0; i < lines.length; i++) {
    if (!header.test(lines[i])) continue;
    let end = i + 1;
    while (end < lines.length && !/^\s*\[/.test(lines[end])) end++;
    if (lines.slice(i + 1, end).some((line) => bindingLine.test(line))) return { start: i + 1, end };
  }
  return null;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Writes the D1 database id and KV namespace id that `wrangler deploy` needs into wrangler.toml. */
export function setResourceIds(toml, { d1Binding, databaseId, kvBinding, kvNamespaceId }) {
  const withDatabase = setBindingValue(toml, { table: "d1_databases", binding: d1Binding, key: "database_id", value: databaseId });
  return setBindingValue(withDatabase, { table: "kv_namespaces", binding: kvBinding, key: "id", value: kvNamespaceId });
}

/** The lines that differ between two versions of a file, for showing what a rewrite changed. */
export function changedLines(before, after) {
  const old = before.split("\n");
  return after
    .split("\n")
    .map((line, i) => ({ line: i + 1, before: old[i], after: line }))
    .filter((change) => change.before !== change.after);
}

/** A bearer key: 32 random bytes, base64url so it survives headers, URLs and shells unquoted. */
export function generateApiKey() {
  return randomBytes(32).toString("base64url");
}

/** A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function generateSigningSecret() {
  return `whsec_${randomBytes(32).toString("base64")}`;
}
