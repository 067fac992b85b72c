import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./app-env";
import { readConfig } from "./config";
import { AppError, problemResponse, validationFailed, zodProblems } from "./errors";
import { registerAgentRoutes } from "./routes/agents";
import { registerCallRoutes } from "./routes/calls";
import { registerDeliveryRoutes } from "./routes/deliveries";
import { registerMetaRoutes } from "./routes/meta";
import { registerOutboxRoutes } from "./routes/outbox";

/** Maps any thrown value to a response: the one place errors become HTTP. */
function toResponse(err: unknown): Response {
  if (err instanceof AppError) return problemResponse(err);
  if (err instanceof HTTPException) {
    // Raised by Hono's own validators, e.g. for malformed JSON.
    const code = err.status === 400 ? "invalid_json" : err.status === 413 ? "payload_too_large" : undefined;
    if (code) return problemResponse(new AppError(code, err.message));
  }
  console.error("unhandled error", err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : err);
  return new Response(
    JSON.stringify({ type: "about:blank", title: "Internal Server Error", status: 500, detail: "an unexpected error occurred" }),
    { status: 500, headers: { "content-type": "application/problem+json" } },
  );
}

export function createApp() {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const prefix = result.target === "json" ? [] : [result.target];
        throw validationFailed(`invalid ${result.target === "json" ? "body" : result.target}`, zodProblems(result.error, prefix));
      }
    },
  });

  app.use(async function loadConfig(c, next) {
    c.set("config", readConfig(c.env));
    await next();
  });

  registerMetaRoutes(app);
  registerAgentRoutes(app);
  registerCallRoutes(app);
  registerDeliveryRoutes(app);
  registerOutboxRoutes(app);

  app.notFound((c) => problemResponse(new AppError("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));
  app.onError((err) => toResponse(err));
  return app;
}
