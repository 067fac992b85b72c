import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          // Jobs go to queues nobody consumes: tests drive the consumer themselves
          // (createMessageBatch), so retries, delays and dead-lettering happen when a test says.
          queueProducers: {
            ACTIONS: { queueName: "actions-under-test" },
            ACTIONS_DLQ: { queueName: "actions-dlq-under-test" },
          },
          // Fixed test secrets, overriding any .dev.vars.
          bindings: {
            TEST_MIGRATIONS: migrations,
            ADMIN_API_KEY: "test-admin-key",
            INGEST_API_KEY: "test-ingest-key",
            INGEST_SIGNING_SECRET: "whsec_dGVzdC1pbmdlc3Qtc2lnbmluZy1zZWNyZXQ=",
            WEBHOOK_SIGNING_SECRET: "whsec_dGVzdC13ZWJob29rLXNpZ25pbmctc2VjcmV0",
            ALLOW_PRIVATE_TARGETS: "false",
            // Actions without a configured provider land in the outbox, as in local development;
            // tests of a production deployment pass OUTBOX: "false" in their settings.
            OUTBOX: "true",
          },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts", "src/**/*.test.ts"],
      setupFiles: ["./test/setup.ts"],
    },
  };
});
