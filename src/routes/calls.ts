import { type OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { acceptCall } from "../ingest/accept-call";
import { CallEndedBody } from "../ingest/lenient-body";
import { ingestAuth, verifyIngestSignature } from "../middleware/ingest-auth";
import { jsonBody } from "../middleware/json-body";
import { ledgerFor } from "../ledger/client";
import { isOutboundCallId } from "../outbound/client";
import { CALL_ENDED_EXAMPLE, Identifier } from "../schemas/call-event";
import { Call, CallLedgerView, IngestResult } from "../schemas/delivery";
import { Problem, authErrors, bodyErrors, json, notFound } from "../schemas/problem";
import { AgentStore } from "../store/agents";
import { CallLog } from "../store/calls";
import { DeliveryLog } from "../store/delivery-log";
import { Outbox } from "../store/outbox";
import { adminRoute } from "./admin-route";
import { inUtc, timeBound, unreadableCursor } from "./listing";

// Auth from headers first, then the body limit, then the signature over the limited body;
// an agent's own ingest key is checked in the handler, once the event names its agent.
const ingestMiddleware: MiddlewareHandler<AppEnv>[] = [ingestAuth(), jsonBody({ forms: true }), verifyIngestSignature()];


/** The same event the way a no-code tool posts it as a form: every value text, nested keys flattened. */
const CALL_ENDED_FORM_EXAMPLE = {
  call_id: "call_xyz789",
  agent_id: "agent_abc123",
  caller_number: "+14155551234",
  duration_seconds: "230",
  summary: "Caller inquired about order #12345. Agent confirmed delivery date of March 15.",
  ended_at: "2026-03-10 15:04:05",
  outcome: "confirmed",
  metadata__order_id: "12345",
  metadata__caller_email: "john@example.com",
};

// Typed apart: written inline, two alternatives here collapse the route's typed input to never.
const ingestSecurity: { [scheme: string]: string[] }[] = [{ ingestKey: [] }, { ingestSignature: [] }];

/** A stored call is named by its id, and by its agent when two agents share the id. */
const CallParams = z.object({ call_id: Identifier.max(256).openapi({ param: { name: "call_id", in: "path" } }) });
const CallQuery = z.object({ agent_id: Identifier.optional().openapi({ description: "Needed only when two agents share a call id" }) });

/** The agent of a stored call: the one given, else the newest call with that id in the log. */
async function agentOfCall(env: CloudflareBindings, callId: string, given: string | undefined): Promise<string | undefined> {
  return given ?? (await new DeliveryLog(env.DB).callsById(callId))[0]?.agent_id;
}

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
          content: {
            "application/json": { schema: CallEndedBody, example: CALL_ENDED_EXAMPLE },
            "application/x-www-form-urlencoded": { schema: CallEndedBody, example: CALL_ENDED_FORM_EXAMPLE },
          },
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
      description:
        "Everything the relay knows of one call: the event as accepted (and the voice platform's raw payload for platform " +
        "routes), the agent's name at acceptance, and for each action its configuration, delivery state and attempt log.",
      tags: ["calls"],
      request: {
        params: CallParams,
        query: CallQuery,
      },
      responses: { 200: json(CallLedgerView, "The ledger"), ...authErrors, ...notFound },
    }),
    async (c) => {
      const { call_id } = c.req.valid("param");
      const log = new DeliveryLog(c.env.DB);
      const agentId = await agentOfCall(c.env, call_id, c.req.valid("query").agent_id);
      const snapshot = agentId ? await ledgerFor(c.env, agentId, call_id).snapshot() : null;
      if (!snapshot) throw new AppError("not_found", `no call "${call_id}"`);
      const attempts = await log.attempts(snapshot.actions.map((a) => a.id));
      const actions = snapshot.actions.map((a) => ({ ...a, attempt_log: attempts.get(a.id) ?? [] }));
      const { agent_templates: _templates, agent_country: _country, ...call } = snapshot.call;
      return c.json({ ...call, event: snapshot.event, raw: snapshot.raw, actions }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/calls",
      summary: "List calls, newest first, with what became of each",
      description:
        "Every call-ended event the relay accepted, including those that ran nothing: `status=unrouted` (no agent had its id) " +
        "and `status=disabled` (the agent's follow-up was off). Such a call runs once its agent is fixed and it is posted " +
        "again, or on POST /calls/{call_id}/rerun.",
      tags: ["calls"],
      request: {
        query: z.object({
          agent_id: Identifier.optional(),
          status: Call.shape.status.optional(),
          since: timeBound("received at or after"),
          until: timeBound("received before"),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().max(512).optional().openapi({ description: "next_cursor of the previous page" }),
        }),
      },
      responses: {
        200: json(
          z.object({ calls: z.array(Call), next_cursor: z.string().nullable() }).openapi({
            example: {
              calls: [
                {
                  call_id: "call_xyz789",
                  agent_id: "agent_abc123",
                  status: "accepted",
                  reason: null,
                  action_count: 3,
                  ended_at: "2026-03-10T15:04:05Z",
                  received_at: "2026-03-10T15:04:06.080Z",
                },
                {
                  call_id: "call_abc456",
                  agent_id: "agent_typo",
                  status: "unrouted",
                  reason: "unknown agent",
                  action_count: 0,
                  ended_at: "2026-03-10T14:58:00Z",
                  received_at: "2026-03-10T14:58:01.500Z",
                },
              ],
              next_cursor: null,
            },
          }),
          "A page of calls",
        ),
        ...authErrors,
      },
    }),
    async (c) => {
      const page = await new CallLog(c.env.DB).list(inUtc(c.req.valid("query")));
      if (!page) throw unreadableCursor();
      return c.json(page, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "post",
      path: "/calls/{call_id}/rerun",
      summary: "Run the agent's current actions for a stored call again",
      description:
        "Plans the agent's follow-up as it is configured now against the stored event and sends it as new deliveries " +
        "(a new run: new delivery ids and idempotency keys, so providers send again). 409 when the agent is unknown, " +
        "disabled or has no actions, for an outbound call's callback (oc_…), whose deliveries are replayed one by one, and " +
        "for a call run so often that its actions would outgrow their row (about 1.8 MB).",
      tags: ["calls"],
      request: {
        params: CallParams,
        query: CallQuery,
      },
      responses: {
        202: json(IngestResult, "The new deliveries, queued"),
        409: { description: "Nothing to run", content: { "application/problem+json": { schema: Problem } } },
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { call_id } = c.req.valid("param");
      if (isOutboundCallId(call_id)) {
        // Its actions are an outbound call's callback and fallback, not the agent's follow-up.
        throw new AppError("conflict", "an outbound call's callback and fallback are replayed one by one: POST /deliveries/{id}/retry");
      }
      const agentId = await agentOfCall(c.env, call_id, c.req.valid("query").agent_id);
      if (!agentId) throw new AppError("not_found", `no call "${call_id}"`);
      const agent = await new AgentStore(c.env.DB, c.env.CONFIG_CACHE).get(agentId);
      const rerun = await ledgerFor(c.env, agentId, call_id).rerun(agent);
      if (!rerun.ok) throw new AppError(rerun.reason === "no such call" ? "not_found" : "conflict", rerun.reason === "no such call" ? `no call "${call_id}"` : rerun.reason);
      return c.json(rerun.result, 202);
    },
  );

  app.openapi(
    adminRoute({
      method: "delete",
      path: "/calls/{call_id}",
      summary: "Erase a call's personal data (data-protection requests)",
      description:
        "Erases the stored event (transcript, numbers, metadata, summary) and the platform's payload from the call's ledger, " +
        "fails any action not yet delivered, strips attempts down to outcome, status and timing (in the ledger and the delivery " +
        "log), and deletes the call's outbox messages. What is left is a tombstone: the call and agent ids, each delivery's " +
        "state, and the counts this answers.",
      tags: ["calls"],
      request: {
        params: CallParams,
        query: CallQuery,
      },
      responses: {
        200: json(
          z
            .object({ call_id: z.string(), agent_id: z.string(), erased: z.object({ actions: z.number().int(), attempts: z.number().int(), outbox_messages: z.number().int() }) })
            .openapi({ example: { call_id: "call_xyz789", agent_id: "agent_abc123", erased: { actions: 3, attempts: 4, outbox_messages: 2 } } }),
          "Erased; the tombstone's counts",
        ),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { call_id } = c.req.valid("param");
      const agentId = await agentOfCall(c.env, call_id, c.req.valid("query").agent_id);
      const erased = agentId ? await ledgerFor(c.env, agentId, call_id).erase() : null;
      if (!agentId || !erased) throw new AppError("not_found", `no call "${call_id}"`);
      const { deliveryIds, ...counts } = erased;
      const outbox_messages = await new Outbox(c.env.DB).deleteForDeliveries(deliveryIds);
      return c.json({ call_id, agent_id: agentId, erased: { ...counts, outbox_messages } }, 200);
    },
  );
}
