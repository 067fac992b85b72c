import { type OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { swaggerUI } from "@hono/swagger-ui";
import type { AppEnv } from "../app-env";
import { json } from "../schemas/problem";

export function registerMetaRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/healthz",
      summary: "Liveness",
      tags: ["meta"],
      responses: { 200: json(z.object({ status: z.literal("ok") }), "Alive") },
    }),
    (c) => c.json({ status: "ok" as const }, 200),
  );

  app.openAPIRegistry.registerComponent("securitySchemes", "adminKey", {
    type: "http",
    scheme: "bearer",
    description: "ADMIN_API_KEY",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "ingestKey", {
    type: "http",
    scheme: "bearer",
    description: "INGEST_API_KEY (any agent), or an agent's own ingest key `cri_…` (events of that agent only)",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "ingestSignature", {
    type: "apiKey",
    in: "header",
    name: "webhook-signature",
    description: "Standard Webhooks signature (with webhook-id and webhook-timestamp) made with INGEST_SIGNING_SECRET",
  });

  app.doc31("/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: {
      title: "callrelay",
      version: "0.1.0",
      description: "Webhook relay between voice-AI phone agents and the systems a business runs.",
    },
    servers: [{ url: new URL(c.req.url).origin }],
  }));
  app.get("/docs", swaggerUI({ url: "/openapi.json", title: "callrelay API" }));
}
