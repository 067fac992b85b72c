import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { AppError, fieldProblem, validationFailed } from "../errors";
import { ledgerFor } from "../ledger/client";
import { ACTION_TYPES } from "../schemas/agent";
import { Delivery, DeliveryStatus, DeliveryWithAttempts } from "../schemas/delivery";
import { Identifier } from "../schemas/call-event";
import { Problem, authErrors, json, notFound } from "../schemas/problem";
import { DeliveryLog } from "../store/delivery-log";
import { adminRoute } from "./admin-route";

export function registerDeliveryRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    adminRoute({
      method: "get",
      path: "/deliveries",
      summary: "The delivery log, newest first, with filters",
      tags: ["deliveries"],
      request: {
        query: z.object({
          status: DeliveryStatus.optional(),
          type: z.enum(ACTION_TYPES).optional(),
          agent_id: Identifier.optional(),
          call_id: Identifier.max(256).optional(),
          since: z.iso.datetime({ offset: true }).optional().openapi({ description: "created at or after (ISO 8601)" }),
          until: z.iso.datetime({ offset: true }).optional().openapi({ description: "created before (ISO 8601)" }),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().max(512).optional(),
        }),
      },
      responses: {
        200: json(z.object({ deliveries: z.array(Delivery), next_cursor: z.string().nullable() }), "A page of deliveries"),
        ...authErrors,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const iso = (v?: string) => (v ? new Date(v).toISOString() : undefined);
      const page = await new DeliveryLog(c.env.DB).list({ ...q, since: iso(q.since), until: iso(q.until) });
      if (!page) throw validationFailed("unreadable cursor", [fieldProblem(["cursor"], "use next_cursor from a previous page")]);
      return c.json(page, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/deliveries/{delivery_id}",
      summary: "One delivery with every attempt",
      tags: ["deliveries"],
      request: { params: z.object({ delivery_id: z.string().max(64).openapi({ param: { name: "delivery_id", in: "path" } }) }) },
      responses: { 200: json(DeliveryWithAttempts, "The delivery and its attempts"), ...authErrors, ...notFound },
    }),
    async (c) => {
      const { delivery_id } = c.req.valid("param");
      const log = new DeliveryLog(c.env.DB);
      const delivery = await log.get(delivery_id);
      if (!delivery) throw new AppError("not_found", `no delivery "${delivery_id}"`);
      return c.json({ ...delivery, attempt_log: await log.attempts(delivery_id) }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "post",
      path: "/deliveries/{delivery_id}/retry",
      summary: "Send a delivery again now, with a fresh retry budget (replay)",
      tags: ["deliveries"],
      request: { params: z.object({ delivery_id: z.string().max(64).openapi({ param: { name: "delivery_id", in: "path" } }) }) },
      responses: {
        202: json(z.object({ id: z.string(), status: z.literal("pending") }), "Queued again"),
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
