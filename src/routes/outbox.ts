import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { Identifier } from "../schemas/call-event";
import { authErrors, json } from "../schemas/problem";
import { Outbox } from "../store/outbox";
import { adminRoute } from "./admin-route";

const OutboxMessage = z
  .object({
    id: z.string(),
    delivery_id: z.string(),
    call_id: z.string(),
    agent_id: z.string(),
    kind: z.enum(["email", "sms", "task"]),
    recipient: z.string().nullable(),
    subject: z.string().nullable(),
    message: z.record(z.string(), z.unknown()).openapi({ description: "Exactly what the provider would have been sent, rendered" }),
    created_at: z.string(),
  })
  .openapi("OutboxMessage");

export function registerOutboxRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    adminRoute({
      method: "get",
      path: "/outbox",
      summary: "Development sink: the emails, texts and tasks that would have been sent, newest first",
      tags: ["outbox"],
      request: {
        query: z.object({
          call_id: Identifier.max(256).optional(),
          kind: z.enum(["email", "sms", "task"]).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
      },
      responses: { 200: json(z.object({ messages: z.array(OutboxMessage) }), "Recent messages"), ...authErrors },
    }),
    async (c) => {
      const messages = await new Outbox(c.env.DB).list(c.req.valid("query"));
      return c.json({ messages }, 200);
    },
  );
}
