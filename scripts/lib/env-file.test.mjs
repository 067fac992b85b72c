import assert from "node:assert/strict";
import { test } from "node:test";
import { parseEnvFile, withNewSettings } from "./env-file.mjs";

test("an older .dev.vars gains the settings the example added, and keeps its own values", () => {
  const current = "ADMIN_API_KEY=mine\n# OUTBOX is not here yet\n";
  const example = "ADMIN_API_KEY=example\nOUTBOX=true\n# EMAIL_FROM=commented out\n";
  const { text, added } = withNewSettings(current, example);
  assert.deepEqual(added, ["OUTBOX"]);
  assert.deepEqual(parseEnvFile(text), { ADMIN_API_KEY: "mine", OUTBOX: "true" });
  assert.deepEqual(withNewSettings(text, example).added, []);
});
