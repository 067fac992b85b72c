// The vitest suite never reads the developer's .dev.vars or .env. Proved by running the
// workerd test that lists every setting the Worker sees (test/hermetic-settings.test.ts),
// plus one that the outbox/provider settings change, in a scratch copy of the project whose
// .dev.vars and .env set every provider default the example file invites. The copy links
// src, test, migrations and node_modules, so the project's own files are never touched.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";

const ROOT = path.join(import.meta.dirname, "..", "..");

const PROVIDER_DEFAULTS = `
ADMIN_API_KEY=dev-admin-key-0123456789abcdef
INGEST_API_KEY=dev-ingest-key-0123456789abcdef
INGEST_SIGNING_SECRET=whsec_ZGV2LWluZ2VzdC1zaWduaW5nLXNlY3JldC0wMDAx
WEBHOOK_SIGNING_SECRET=whsec_ZGV2LXdlYmhvb2stc2lnbmluZy1zZWNyZXQtMDAwMQ==
ALLOW_PRIVATE_TARGETS=true
OUTBOX=false
MAX_BODY_BYTES=10
EMAIL_FROM="Acme Support <support@acme.example>"
EMAIL_PROVIDER=resend
RESEND_API_KEY=re_dev
SMS_PROVIDER=twilio
TWILIO_ACCOUNT_SID=AC0000
TWILIO_AUTH_TOKEN=dev
TWILIO_FROM=+15550000000
TASK_PROVIDER=todoist
TODOIST_API_TOKEN=dev
VAPI_WEBHOOK_SECRET=vapi-dev-secret
RETELL_WEBHOOK_KEY=retell-dev-key
`;

test("the vitest suite ignores .dev.vars and .env full of provider defaults", { timeout: 120_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), "callrelay-hermetic-"));
  try {
    for (const name of ["src", "test", "migrations", "node_modules", "package.json", "tsconfig.json", "worker-configuration.d.ts"]) {
      symlinkSync(path.join(ROOT, name), path.join(dir, name));
    }
    // Copied, not linked: the config finds wrangler.toml (and would find .dev.vars) by its own folder.
    for (const name of ["vitest.config.ts", "wrangler.toml"]) copyFileSync(path.join(ROOT, name), path.join(dir, name));
    writeFileSync(path.join(dir, ".dev.vars"), PROVIDER_DEFAULTS);
    writeFileSync(path.join(dir, ".env"), PROVIDER_DEFAULTS);

    const files = ["test/hermetic-settings.test.ts", "test/providers/outbox-fallback.test.ts"];
    const run = spawnSync(path.join(dir, "node_modules", ".bin", "vitest"), ["run", ...files], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, CI: "1", NO_COLOR: "1" },
    });
    const output = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.status, 0, output);
    assert.doesNotMatch(output, /Using secrets defined in/, "wrangler loaded a settings file");
    assert.match(output, /Test Files\s+2 passed/, output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
