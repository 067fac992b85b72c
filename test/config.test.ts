import { describe, expect, it } from "vitest";
import { readConfig } from "../src/config";
import { AppError } from "../src/errors";

describe("deployment settings", () => {
  it("reads defaults and rotation lists", () => {
    const config = readConfig({ ADMIN_API_KEY: " k ", INGEST_SIGNING_SECRET: "whsec_YWJj whsec_ZGVm", ALLOW_PRIVATE_TARGETS: "true" });
    expect(config).toMatchObject({
      adminApiKey: "k",
      ingestSigningSecrets: ["whsec_YWJj", "whsec_ZGVm"],
      allowPrivateTargets: true,
      maxBodyBytes: 1_048_576,
      watchdogSeconds: 60,
      retentionDays: 30,
    });
  });

  it("names a malformed setting instead of failing later", () => {
    for (const env of [{ MAX_BODY_BYTES: "lots" }, { WEBHOOK_SIGNING_SECRET: "whsec_***" }, { ALLOW_PRIVATE_TARGETS: "yes" }]) {
      const name = Object.keys(env)[0]!;
      try {
        readConfig(env);
        expect.unreachable(`${name} should be refused`);
      } catch (err) {
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).status).toBe(503);
        expect((err as AppError).message).toContain(name);
      }
    }
  });
});
