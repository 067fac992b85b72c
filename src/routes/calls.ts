import { type OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { acceptCall } from "../ingest/accept-call";
import { CallEndedBody } from "../ingest/lenient-body";
import { ingestAuth, verifyIngestSignature } from "../middleware/ingest-auth";
import { jsonBody } from "../middleware/json-body";
import { ledgerFor } from "../ledger/client";
import { Identifier } from "../schemas/call-event";
import { CallLedgerView, IngestResult } from "../schemas/delivery";
import { Problem, authErrors, bodyErrors, json, notFound } from "../schemas/problem";
import { DeliveryLog } from "../store/delivery-log";
import { adminRoute } from "./admin-route";

// Auth from headers first, then the body limit, then the signature over the limited body;
// an agent's own ingest key is checked in the handler, once the event names its agent.
const ingestMiddleware: MiddlewareHandler<AppEnv>[] = [ingestAuth(), jsonBody({ forms: true }), verifyIngestSignature()];

// Typed apart: written inline, two alternatives here collapse the route's typed input to never.
const ingestSecurity: { [scheme: string]: string[] }[] = [{ ingestKey: [] }, { ingestSignature: [] }];

export function registerCallRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/calls/ended",
      summary: "Receive a call-ended event; runs the agent's follow-up actions exactly once per call",
      description:
        "Authenticate with `Authorization: Bearer <INGEST_API_KEY>` (any agent), `Authorization: Bearer <cri_…>` " +
        "(an ingest key of the event's agent, from POST /agents/{agent_id}/ingest-key), or a Standard Webhooks signature " +
        "(`webhook-id`, `webhook-timestamp`, `webhook-signature`) made with INGEST_SIGNING_SECRET. " +
        "Each agent may send a limited number of events per period (INGEST_RATE_LIMITER in wrangler.toml); over it, 429 " +
        "with Retry-After and nothing is stored. Answers only once the event is stored and its jobs are queued.",
      tags: ["calls"],
      security: ingestSecurity,
      middleware: ingestMiddleware,
      request: {
        body: {
          description:
            "The canonical event as JSON, or as a form (application/x-www-form-urlencoded) the way Zapier, Make and n8n send it: " +
            "nested keys as metadata__x, metadata[x] or metadata.x; numbers as text (\"230\"); ended_at as ISO 8601 with an offset, " +
            "epoch seconds or milliseconds, or YYYY-MM-DD HH:MM:SS (read as UTC).",
          content: { "application/json": { schema: CallEndedBody }, "application/x-www-form-urlencoded": { schema: CallEndedBody } },
          // Not `required: true`: the framework would then validate a JSON body as a form too, and
          // the reverse. An absent body is refused by jsonBody() before validation.
        },
      },
      responses: {
        202: json(IngestResult, "Accepted: stored, and one job per action queued"),
        200: json(IngestResult, "A call already accepted for this agent; nothing queued"),
        ...authErrors,
        ...bodyErrors,
        429: {
          description: "This agent is over its ingest rate limit; retry after Retry-After seconds",
          headers: { "retry-after": { description: "Seconds to wait", schema: { type: "integer" } } },
          content: { "application/problem+json": { schema: Problem } },
        },
      },
    }),
    async (c) => {
      const form = /^application\/x-www-form-urlencoded/i.test(c.req.header("content-type") ?? "");
      const event = form ? c.req.valid("form") : c.req.valid("json");
      const result = await acceptCall(c.env, event, { agentKeyHash: c.var.agentKeyHash });
      return c.json(result, result.status === "accepted" ? 202 : 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/calls/{call_id}",
      summary: "A call's ledger: the event, each action with its state and every attempt",
      tags: ["calls"],
      request: {
        params: z.object({ call_id: Identifier.max(256).openapi({ param: { name: "call_id", in: "path" } }) }),
        query: z.object({ agent_id: Identifier.optional().openapi({ description: "Needed only when two agents share a call id" }) }),
      },
      responses: { 200: json(CallLedgerView, "The ledger"), ...authErrors, ...notFound },
    }),
    async (c) => {
      const { call_id } = c.req.valid("param");
      const log = new DeliveryLog(c.env.DB);
      const agentId = c.req.valid("query").agent_id ?? (await log.callsById(call_id))[0]?.agent_id;
      const snapshot = agentId ? await ledgerFor(c.env, agentId, call_id).snapshot() : null;
      if (!snapshot) throw new AppError("not_found", `no call "${call_id}"`);
      const actions = await Promise.all(
        snapshot.actions.map(async (a) => ({ ...a, attempt_log: await log.attempts(a.id) })),
      );
      const { agent_templates: _templates, ...call } = snapshot.call;
      return c.json({ ...call, event: snapshot.event, raw: snapshot.raw, actions }, 200);
    },
  );
}
