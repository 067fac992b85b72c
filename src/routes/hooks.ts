import { type OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { isFormType, jsonBody } from "../middleware/json-body";
import { Identifier } from "../schemas/call-event";
import { OutboundCall } from "../schemas/outbound";
import { Problem, bodyErrors, json } from "../schemas/problem";
import { safeEqual } from "../security/constant-time";
import { verifyWebhook } from "../security/standard-webhooks";
import { TriggerStore } from "../store/triggers";
import { fireTrigger } from "../triggers/fire-trigger";
import { parseFormBody } from "../triggers/form-body";

const problem = (description: string) => ({ description, content: { "application/problem+json": { schema: Problem } } });

const NotPlaced = z
  .object({
    status: z.enum(["filtered", "duplicate"]),
    reason: z.string().optional(),
    id: z.string().optional().openapi({ description: "duplicate: the outbound call the first event placed" }),
  })
  .openapi("TriggerNotPlaced", {
    example: {
      status: "duplicate",
      id: "oc_5f2c9a1e7b3d4c6a8e0f1b2c",
      reason: "an event with the same dedupe key placed oc_5f2c9a1e7b3d4c6a8e0f1b2c at 2026-03-10T15:04:05.412Z",
    },
  });

/**
 * Whether the request carries the trigger's secret: as a bearer token, as a Standard
 * Webhooks signature over the body, or as `?key=` for tools that cannot set headers.
 */
async function authenticated(headers: Headers, url: URL, rawBody: string, secrets: string[]): Promise<{ ok: true } | { ok: false; reason: string }> {
  const auth = headers.get("authorization");
  const bearer = auth?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
  const presented = bearer ?? rawQueryValue(url, "key");
  if (presented !== undefined) {
    // Every secret is compared (no early exit), so timing does not tell which one matched.
    const matches = await Promise.all(secrets.map((s) => safeEqual(presented, s)));
    return matches.some(Boolean) ? { ok: true } : { ok: false, reason: "the trigger's secret does not match" };
  }
  if (headers.has("webhook-signature") || headers.has("svix-signature")) {
    const verified = await verifyWebhook({ secrets, headers, body: rawBody, now: Math.floor(Date.now() / 1000) });
    return verified.ok ? { ok: true } : { ok: false, reason: `signature rejected: ${verified.reason}` };
  }
  return { ok: false, reason: "send the trigger's secret: Authorization: Bearer <secret>, a Standard Webhooks signature, or ?key=<secret>" };
}

export function registerHookRoutes(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerComponent("securitySchemes", "triggerSecret", {
    type: "http",
    scheme: "bearer",
    description: "The trigger's secret (or a Standard Webhooks signature made with it, or ?key=<secret>)",
  });
  app.openapi(
    createRoute({
      method: "post",
      path: "/hooks/{trigger_id}",
      summary: "The URL an automation tool POSTs to: places the trigger's call",
      description:
        "JSON or form-encoded. In a form body `metadata__event_id` (Zapier), `metadata[event_id]` (Make, PHP) and " +
        "`metadata.event_id` (n8n) all become `metadata.event_id`. Answers 202 with the outbound call, 200 when the event " +
        "is filtered or a duplicate (with the reason), and 422 naming the field when the mapping cannot make a valid call.",
      tags: ["triggers"],
      security: [{ triggerSecret: [] }],
      middleware: [jsonBody({ forms: true })],
      request: {
        params: z.object({ trigger_id: Identifier.openapi({ param: { name: "trigger_id", in: "path" } }) }),
        query: z.object({ key: z.string().optional().openapi({ description: "The trigger's secret, for tools that cannot set headers" }) }),
      },
      responses: {
        202: json(OutboundCall, "Placed (or scheduled)"),
        200: json(NotPlaced, "Filtered, or a duplicate of an earlier event"),
        ...bodyErrors,
        401: problem("Missing or wrong secret or signature"),
        404: problem("No such trigger"),
        409: problem("The trigger's agent has been deleted: point the trigger at another agent, or disable it"),
        422: problem("The event cannot make a valid call, or its body nests too deep; `errors` names the field"),
      },
    }),
    async (c) => {
      const { trigger_id } = c.req.valid("param");
      const rawBody = await c.req.text();
      const found = await new TriggerStore(c.env.DB).withSecrets(trigger_id, new Date());
      if (!found) throw new AppError("not_found", `no trigger "${trigger_id}"`);
      const auth = await authenticated(c.req.raw.headers, new URL(c.req.url), rawBody, found.secrets);
      if (!auth.ok) throw new AppError("unauthorized", auth.reason, [], { "www-authenticate": 'Bearer realm="trigger"' });
      const payload = isFormType(c.req.header("content-type")) ? parseFormBody(rawBody) : parseJson(rawBody);
      const outcome = await fireTrigger(c.env, found.trigger, payload, { now: Date.now(), origin: new URL(c.req.url).origin });
      switch (outcome.kind) {
        case "filtered":
          return c.json({ status: "filtered" as const, reason: outcome.reason }, 200);
        case "duplicate":
          return c.json(
            { status: "duplicate" as const, id: outcome.call.id, reason: `an event with the same dedupe key placed ${outcome.call.id} at ${outcome.call.requested_at}` },
            200,
          );
        case "conflict": // only Idempotency-Keys conflict; a trigger's key is a dedupe key
        case "replayed":
          throw new AppError("conflict", "this event met an earlier request with the same key");
        default:
          return c.json(outcome.call, 202);
      }
    },
  );
}

/**
 * A query parameter as written, percent-decoded but with `+` kept: a secret is base64, and
 * URLSearchParams would read its `+` as a space when a tool pastes it unencoded.
 */
function rawQueryValue(url: URL, name: string): string | undefined {
  for (const pair of url.search.slice(1).split("&")) {
    const eq = pair.indexOf("=");
    if (eq === -1 || pair.slice(0, eq) !== name) continue;
    try {
      return decodeURIComponent(pair.slice(eq + 1));
    } catch {
      return pair.slice(eq + 1);
    }
  }
  return undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new AppError("invalid_json", `the body is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}
