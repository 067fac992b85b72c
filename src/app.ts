import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./app-env";
import { readConfig } from "./config";
import { registerDashboard } from "./dashboard";
import { AppError, problemForStatus, problemResponse, validationFailed, zodProblems } from "./errors";
import { registerAgentCredentialRoutes } from "./routes/agent-credentials";
import { registerAgentRoutes } from "./routes/agents";
import { registerCallRoutes } from "./routes/calls";
import { registerDeliveryRoutes } from "./routes/deliveries";
import { registerHookRoutes } from "./routes/hooks";
import { registerMetaRoutes } from "./routes/meta";
import { registerOutboundCallRoutes } from "./routes/outbound-calls";
import { registerOutboxRoutes } from "./routes/outbox";
import { registerPlatformCallRoutes } from "./routes/platform-calls";
import { registerStatsRoutes } from "./routes/stats";
import { registerTriggerRoutes } from "./routes/triggers";
import { registerUsageRoutes } from "./routes/usage";

/** Headers of a framework error's own response worth keeping, e.g. a challenge or Allow. */
const KEPT_HEADERS = ["www-authenticate", "retry-after", "allow"];

/**
 * Raised by Hono itself (validators, the media-type gate, body limits): mapped by its status,
 * every one of them, so no framework error turns into a 500.
 */
function frameworkProblem(err: HTTPException): Response {
  const headers = new Headers({ "content-type": "application/problem+json" });
  for (const name of KEPT_HEADERS) {
    const value = err.res?.headers.get(name);
    if (value) headers.set(name, value);
  }
  return new Response(JSON.stringify(problemForStatus(err.status, err.message)), { status: err.status, headers });
}

/** Maps any thrown value to a response: the one place errors become HTTP. */
function toResponse(err: unknown): Response {
  if (err instanceof AppError) return problemResponse(err);
  if (err instanceof HTTPException) return frameworkProblem(err);
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
        // A JSON or form body's fields are named from its root; query and path fields by their place.
        const body = result.target === "json" || result.target === "form";
        throw validationFailed(`invalid ${body ? "body" : result.target}`, zodProblems(result.error, body ? [] : [result.target]));
      }
    },
  });

  app.use(async function loadConfig(c, next) {
    c.set("config", readConfig(c.env));
    await next();
  });

  registerMetaRoutes(app);
  registerAgentRoutes(app);
  registerAgentCredentialRoutes(app);
  registerCallRoutes(app);
  registerPlatformCallRoutes(app);
  registerDeliveryRoutes(app);
  registerOutboundCallRoutes(app);
  registerTriggerRoutes(app);
  registerHookRoutes(app);
  registerOutboxRoutes(app);
  registerUsageRoutes(app);
  registerStatsRoutes(app);
  registerDashboard(app);

  app.notFound((c) => problemResponse(new AppError("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));
  app.onError((err) => toResponse(err));
  return app;
}
