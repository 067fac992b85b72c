import { env } from "cloudflare:test";
import { expect, it } from "vitest";

// Every setting the tests run with: wrangler.toml's [vars] and the bindings vitest.config.ts
// gives. Nothing from the developer's .dev.vars or .env (test/node/hermetic-settings.test.mjs
// runs this file next to a .dev.vars full of provider defaults). A test that needs another
// setting passes it itself.
const SETTINGS = {
  ADMIN_API_KEY: "test-admin-key",
  ALLOW_SIMULATOR: "true",
  ALLOW_PRIVATE_TARGETS: "false",
  INGEST_API_KEY: "test-ingest-key",
  INGEST_SIGNING_SECRET: "whsec_dGVzdC1pbmdlc3Qtc2lnbmluZy1zZWNyZXQ=",
  MAX_BODY_BYTES: "1048576",
  OUTBOX: "true",
  VAPI_API_KEY: "test-vapi-key",
  WEBHOOK_SIGNING_SECRET: "whsec_dGVzdC13ZWJob29rLXNpZ25pbmctc2VjcmV0",
};

it("runs with the settings the test config states and no others", () => {
  const strings = Object.fromEntries(Object.entries(env).filter(([, value]) => typeof value === "string"));
  expect(strings).toEqual(SETTINGS);
  const e = env as unknown as Record<string, unknown>;
  for (const name of ["EMAIL_PROVIDER", "SMS_PROVIDER", "TASK_PROVIDER", "RESEND_API_KEY", "TWILIO_ACCOUNT_SID", "TODOIST_API_TOKEN"]) {
    expect(e[name], name).toBeUndefined();
  }
});
