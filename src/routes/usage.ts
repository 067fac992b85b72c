import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { USAGE_KEYS, meteringOn, readUsage } from "../lib/meter";
import { authErrors, json, notFound } from "../schemas/problem";
import { adminRoute } from "./admin-route";

const Usage = z
  .object({
    since: z.string().openapi({ description: "When this isolate started counting" }),
    usage: z.object(Object.fromEntries(USAGE_KEYS.map((k) => [k, z.number().int()])) as Record<(typeof USAGE_KEYS)[number], z.ZodNumber>),
  })
  .openapi("Usage", {
    example: {
      since: "2026-03-10T15:00:00.000Z",
      usage: {
        worker_invocations: 1200,
        durable_object_requests: 3100,
        sqlite_rows_read: 9000,
        sqlite_rows_written: 12000,
        queue_operations: 3000,
        d1_rows_read: 1000,
        d1_rows_written: 8000,
        kv_reads: 2,
        kv_writes: 1,
      },
    },
  });

export function registerUsageRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    adminRoute({
      method: "get",
      path: "/usage",
      summary: "Billable operations counted by this isolate (METER=true only)",
      description:
        "With METER=true the relay counts every operation Cloudflare bills for: Worker invocations, Durable Object " +
        "requests (RPC calls and alarms), SQLite rows read and written in the ledgers, Queue operations (a write per message " +
        "sent, a read per message received, a delete per message acknowledged), D1 rows read and written, KV reads and " +
        "writes. Two readings and the calls accepted between them give the cost of a call. The counters are this " +
        "isolate's: exact under `wrangler dev`, one isolate's share when deployed. 404 when metering is off.",
      tags: ["meta"],
      responses: {
        200: json(Usage, "Counters since the isolate started"),
        ...authErrors,
        ...notFound,
      },
    }),
    (c) => {
      if (!meteringOn(c.env)) throw new AppError("not_found", "metering is off: set METER=true to count billable operations");
      return c.json(readUsage(), 200);
    },
  );
}
