import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { Identifier } from "../schemas/call-event";
import { authErrors, json } from "../schemas/problem";
import { Outbox } from "../store/outbox";
import { adminRoute } from "./admin-route";

const EXAMPLE_MESSAGE = {
  id: "obx_01HQ7Z8K3M4N5P6Q7R8S9T0V2A",
  delivery_id: "dlv_01HQ7Z8K3M4N5P6Q7R8S9T0V1W",
  call_id: "call_xyz789",
  agent_id: "agent_abc123",
  kind: "sms" as const,
  recipient: "+14155551234",
  subject: null,
  message: { to: "+14155551234", body: "Thanks for calling Acme Support! Your reference number is call_xyz789." },
  created_at: "2026-03-10T15:04:06.300Z",
};

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
  .openapi("OutboxMessage", { example: EXAMPLE_MESSAGE });

export function registerOutboxRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    adminRoute({
      method: "get",
      path: "/outbox",
      summary: "Development sink: the emails, texts and tasks that would have been sent, newest first",
      description:
        "With OUTBOX=true, an action whose kind has no provider configured is rendered and kept here instead of being " +
        "sent, so a follow-up can be tried end to end without SMS, email or task accounts. Not for production.",
      tags: ["outbox"],
      request: {
        query: z.object({
          call_id: Identifier.max(256).optional(),
          kind: z.enum(["email", "sms", "task"]).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
      },
      responses: {
        200: json(z.object({ messages: z.array(OutboxMessage) }).openapi({ example: { messages: [EXAMPLE_MESSAGE] } }), "Recent messages"),
        ...authErrors,
      },
    }),
    async (c) => {
      const messages = await new Outbox(c.env.DB).list(c.req.valid("query"));
      return c.json({ messages }, 200);
    },
  );
}
