// Reads dotenv-style files such as .dev.vars: KEY=VALUE lines, # comments, optional quotes.
// Only what our own .dev.vars.example uses; wrangler has the full parser for the worker itself.

import { readFileSync } from "node:fs";

export function parseEnvFile(text) {
  const vars = {};
  for (const line of text.split(/\r?\n/)) {
    const match = line.match(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (!match) continue;
    vars[match[1]] = unquote(match[2]);
  }
  return vars;
}

export function readEnvFile(file) {
  return parseEnvFile(readFileSync(file, "utf8"));
}

/** Writes vars back as KEY=VALUE lines, quoting values so that wrangler reads them back verbatim. */
export function formatEnvFile(vars) {
  return `${Object.entries(vars)
    .map(([key, value]) => `${key}=${JSON.stringify(String(value))}`)
    .join("\n")}\n`;
}

function unquote(value) {
  const quoted = value.match(/^(["'])(.*)\1$/);
  if (quoted) return quoted[2];
  // An unquoted value may carry a trailing comment: KEY=value # note
  return value.replace(/\s+#.*$/, "");
}
