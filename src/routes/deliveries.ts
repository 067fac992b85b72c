import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { AppError, fieldProblem, validationFailed } from "../errors";
import { ledgerFor } from "../ledger/client";
import { ACTION_TYPES } from "../schemas/agent";
import { Delivery, DeliveryStatus, DeliveryWithAttempts, EXAMPLE_DELIVERY } from "../schemas/delivery";
import { Identifier } from "../schemas/call-event";
import { Problem, authErrors, bodyErrors, json, notFound } from "../schemas/problem";
import { jsonBody } from "../middleware/json-body";
import { BULK_RETRY_MAX, bulkReplay } from "../pipeline/recovery";
import { DeliveryLog } from "../store/delivery-log";
import { adminRoute } from "./admin-route";
import { inUtc, timeBound, unreadableCursor } from "./listing";

/** The filters of the delivery log: what `GET /deliveries` and the bulk retry both take. */
const DeliveryFilters = z.object({
  status: DeliveryStatus.optional(),
  type: z.enum(ACTION_TYPES).optional(),
  agent_id: Identifier.optional(),
  call_id: Identifier.max(256).optional(),
  since: timeBound("created at or after"),
  until: timeBound("created before"),
});
const BULK_FILTERS = DeliveryFilters.keyof().options;

const BulkRetryRequest = DeliveryFilters.extend({
  limit: z
    .number()
    .int()
    .min(1)
    .max(BULK_RETRY_MAX)
    .default(BULK_RETRY_MAX)
    .openapi({ description: `How many deliveries this request replays at most (newest first); at most ${BULK_RETRY_MAX}` }),
  cursor: z.string().max(512).optional().openapi({ description: "`next_cursor` of the previous request, to continue" }),
  })
  .strict()
  .openapi("BulkRetryRequest", {
    description: "The filters of `GET /deliveries`, at least one of them, in a JSON body.",
    example: { status: "failed", type: "webhook", agent_id: "agent_abc123", since: "2026-03-10T00:00:00Z" },
  });

const BulkRetryResult = z
  .object({
    matched: z.number().int().openapi({ description: "Deliveries matching the filters in this request's page" }),
    replayed: z.number().int().openapi({ description: "Started over with a fresh retry budget" }),
    skipped: z.number().int().openapi({ description: "Refused by the call's ledger: an attempt is in flight, or the call is no longer kept" }),
    errors: z.number().int().openapi({ description: "The ledger could not be reached; send the same request again" }),
    truncated: z.boolean().openapi({ description: "More deliveries match: send the same filters again with `cursor: next_cursor`" }),
    next_cursor: z.string().nullable(),
  })
  .openapi("BulkRetryResult", {
    example: { matched: 42, replayed: 41, skipped: 1, errors: 0, truncated: false, next_cursor: null },
  });

export function registerDeliveryRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    adminRoute({
      method: "get",
      path: "/deliveries",
      summary: "The delivery log, newest first, with filters",
      description:
        "One row per action of every call, with its current state, attempt count and last error. Filters combine; pass " +
        "`next_cursor` as `cursor`, with the same filters, for the next page (null on the last). A cursor made for other " +
        "filters may be refused (422).",
      tags: ["deliveries"],
      request: {
        query: DeliveryFilters.extend({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().max(512).optional(),
        }),
      },
      responses: {
        200: json(
          z
            .object({ deliveries: z.array(Delivery), next_cursor: z.string().nullable() })
            .openapi({ example: { deliveries: [EXAMPLE_DELIVERY], next_cursor: "eyJ0IjoiMjAyNi0wMy0xMFQxNTowNDowNi4xMjBaIn0" } }),
          "A page of deliveries",
        ),
        ...authErrors,
      },
    }),
    async (c) => {
      const page = await new DeliveryLog(c.env.DB).list(inUtc(c.req.valid("query")));
      if (!page) throw unreadableCursor();
      return c.json(page, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "post",
      path: "/deliveries/retry",
      summary: "Replay every delivery matching the list's filters (bulk retry)",
      description:
        "Takes the filters of `GET /deliveries` (`status`, `type`, `agent_id`, `call_id`, `since`, `until`) in a JSON " +
        "body, at least one of them, and replays every matching delivery as `POST /deliveries/{delivery_id}/retry` " +
        `would: a fresh retry budget, a new idempotency key, the same \`webhook-id\`. One request replays at most ` +
        `\`limit\` (at most ${BULK_RETRY_MAX}) deliveries, newest first; when more match, \`truncated\` is true and the same ` +
        "filters with `cursor: next_cursor` continue where it stopped. A delivery with an attempt in flight is not " +
        "replayed and counts as `skipped`. For example, every failed webhook of one agent since a time: " +
        '`{"status": "failed", "type": "webhook", "agent_id": "agent_abc123", "since": "2026-03-10T00:00:00Z"}`.',
      tags: ["deliveries"],
      middleware: [jsonBody()],
      request: { body: { required: true, content: { "application/json": { schema: BulkRetryRequest } } } },
      responses: {
        202: json(BulkRetryResult, "Replays committed; each is sent by its call's ledger"),
        ...authErrors,
        ...bodyErrors,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      if (!BULK_FILTERS.some((name) => body[name] !== undefined)) {
        throw validationFailed(
          "give at least one filter: replaying every delivery is never what was meant",
          BULK_FILTERS.map((name) => fieldProblem([name], "one of these filters is required")),
        );
      }
      const { limit, ...filter } = body;
      const result = await bulkReplay(c.env, inUtc(filter), limit);
      if (!result) throw unreadableCursor("body");
      return c.json(result, 202);
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/deliveries/{delivery_id}",
      summary: "One delivery with every attempt",
      description: "The delivery's state and its attempt log, oldest attempt first: status code, error, duration and the first KiB of each answer.",
      tags: ["deliveries"],
      request: { params: z.object({ delivery_id: z.string().max(64).openapi({ param: { name: "delivery_id", in: "path" } }) }) },
      responses: { 200: json(DeliveryWithAttempts, "The delivery and its attempts"), ...authErrors, ...notFound },
    }),
    async (c) => {
      const { delivery_id } = c.req.valid("param");
      const log = new DeliveryLog(c.env.DB);
      const delivery = await log.withAttempts(delivery_id);
      if (!delivery) throw new AppError("not_found", `no delivery "${delivery_id}"`);
      return c.json(delivery, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "post",
      path: "/deliveries/{delivery_id}/retry",
      summary: "Send a delivery again now, with a fresh retry budget (replay)",
      description:
        "Queues the delivery at once whatever its state (delivered, failed, gone, skipped, unknown or waiting to retry), " +
        "with the same id, so a webhook receiver sees the same `webhook-id` and can deduplicate. 409 while an attempt is in flight.",
      tags: ["deliveries"],
      request: { params: z.object({ delivery_id: z.string().max(64).openapi({ param: { name: "delivery_id", in: "path" } }) }) },
      responses: {
        202: json(
          z.object({ id: z.string(), status: z.literal("pending") }).openapi({ example: { id: "dlv_01HQ7Z8K3M4N5P6Q7R8S9T0V1X", status: "pending" } }),
          "Queued again",
        ),
        409: { description: "An attempt is in flight", content: { "application/problem+json": { schema: Problem } } },
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { delivery_id } = c.req.valid("param");
      const delivery = await new DeliveryLog(c.env.DB).get(delivery_id);
      if (!delivery) throw new AppError("not_found", `no delivery "${delivery_id}"`);
      const result = await ledgerFor(c.env, delivery.agent_id, delivery.call_id).replay(delivery.action_index);
      if (!result.ok) throw new AppError("conflict", result.reason);
      return c.json({ id: delivery_id, status: "pending" as const }, 202);
    },
  );
}
