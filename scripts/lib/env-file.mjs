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

/**
 * Settings the example sets that an existing file lacks (a release added them, e.g. OUTBOX),
 * appended so an older .dev.vars keeps working. Returns the new text and the names added.
 */
export function withNewSettings(currentText, exampleText) {
  const current = parseEnvFile(currentText);
  const added = Object.entries(parseEnvFile(exampleText)).filter(([key]) => !(key in current));
  if (added.length === 0) return { text: currentText, added: [] };
  const lines = added.map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  const separator = currentText.endsWith("\n") || currentText === "" ? "" : "\n";
  const text = `${currentText}${separator}\n# Added from .dev.vars.example (new settings):\n${lines.join("\n")}\n`;
  return { text, added: added.map(([key]) => key) };
}
