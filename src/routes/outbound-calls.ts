import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { AppError, fieldProblem, validationFailed } from "../errors";
import { jsonBody } from "../middleware/json-body";
import { OUTBOUND_CALL_ID, outboundCall } from "../outbound/client";
import { fingerprintOf, requestOutboundCall, withDeliveries } from "../outbound/request-call";
import { publicView } from "../outbound/state";
import { Identifier } from "../schemas/call-event";
import { EXAMPLE_OUTBOUND_CALL, OutboundCall, OutboundCallRequest, OutboundStatus } from "../schemas/outbound";
import { Problem, authErrors, bodyErrors, json, notFound } from "../schemas/problem";
import { OutboundCallIndex } from "../store/outbound-calls";
import { adminRoute } from "./admin-route";
import { unreadableCursor } from "./listing";

const problem = (description: string) => ({ description, content: { "application/problem+json": { schema: Problem } } });

const IdParams = z.object({
  id: z.string().regex(OUTBOUND_CALL_ID, "an outbound call id: oc_ and 24 hex digits, and -g2, -g3… for a dedupe key's later calls").openapi({ param: { name: "id", in: "path" }, example: "oc_5f2c9a1e7b3d4c6a8e0f1b2c" }),
});

const IdempotencyKey = z.object({
  "idempotency-key": z.string().min(1).max(255).optional().openapi({
    description: "The same key with the same body answers the first response again and places nothing; with another body, 422. Kept as long as the call (at least 24 h).",
  }),
});

/** The detail view: the call, with its callback's delivery read from the ledger that runs it. */
async function detail(env: CloudflareBindings, id: string): Promise<OutboundCall> {
  const state = await outboundCall(env, id).inspect();
  if (!state) throw new AppError("not_found", `no outbound call "${id}"`);
  return withDeliveries(env, publicView(state), state.handed_actions);
}

export function registerOutboundCallRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    adminRoute({
      method: "post",
      path: "/outbound-calls",
      summary: "Ask the agent's voice platform to call someone, now or later",
      description:
        "The number is normalised to E.164 (a national number is read in the agent's default country). The call is placed " +
        "at `scheduled_at`, after `delay_seconds`, or now, moved to the next opening of the agent's calling hours in the " +
        "callee's `timezone`. When it ends (after any re-dials) the outcome is POSTed to `webhook_url`, signed per Standard " +
        "Webhooks, with `metadata` exactly as sent.",
      tags: ["outbound calls"],
      middleware: [jsonBody()],
      request: {
        headers: IdempotencyKey,
        body: { required: true, content: { "application/json": { schema: OutboundCallRequest } } },
      },
      responses: {
        202: json(OutboundCall, "Accepted: `queued` (due now) or `scheduled` (see `scheduled_for`); a replay carries `Idempotent-Replayed: true`"),
        ...authErrors,
        ...bodyErrors,
        503: problem("The agent's platform has no API key set (or is the simulator without ALLOW_SIMULATOR=true)"),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const key = c.req.valid("header")["idempotency-key"];
      const now = Date.now();
      const dueAt = body.scheduled_at ? Date.parse(body.scheduled_at) : now + (body.delay_seconds ?? 0) * 1000;
      const { agent_id, scheduled_at: _at, delay_seconds: _delay, ...fields } = body;
      const result = await requestOutboundCall(c.env, {
        agent_id,
        trigger_id: null,
        origin: new URL(c.req.url).origin,
        fields,
        dueAt,
        fingerprint: await fingerprintOf(body),
        ...(key ? { key: { kind: "idempotency" as const, value: key } } : {}),
      });
      switch (result.kind) {
        case "conflict":
          throw validationFailed("this Idempotency-Key was used with another request", [
            fieldProblem(["headers", "idempotency-key"], "already used with a different body: use a new key for a new call"),
          ]);
        case "replayed":
          c.header("idempotent-replayed", "true");
          return c.json(result.call, 202);
        default:
          return c.json(result.call, 202);
      }
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/outbound-calls",
      summary: "Outbound calls, newest first, with filters",
      description:
        "Filters combine; pass `next_cursor` as `cursor` for the next page (null on the last). Each item is the call as it " +
        "stood at its last change; `callback` and `fallback_delivery_ids` are filled in by GET /outbound-calls/{id} only.",
      tags: ["outbound calls"],
      request: {
        query: z.object({
          status: OutboundStatus.optional(),
          agent_id: Identifier.optional(),
          trigger_id: Identifier.optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().max(512).optional(),
        }),
      },
      responses: {
        200: json(
          z
            .object({ outbound_calls: z.array(OutboundCall), next_cursor: z.string().nullable() })
            .openapi({ example: { outbound_calls: [{ ...EXAMPLE_OUTBOUND_CALL, callback: null }], next_cursor: null } }),
          "A page of outbound calls",
        ),
        ...authErrors,
      },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const page = await new OutboundCallIndex(c.env.DB).list(query);
      if (!page) throw unreadableCursor();
      return c.json({ outbound_calls: page.calls, next_cursor: page.next_cursor }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/outbound-calls/{id}",
      summary: "One outbound call: status, outcome, every attempt, the callback's delivery",
      description:
        "Each attempt has the platform's call id, when it was placed, the platform's HTTP status and error for the " +
        "create-call request, how many 429/5xx answers it was retried after, and how the call ended. `callback` is the " +
        "delivery of the signed callback to webhook_url (replay it with POST /deliveries/{delivery_id}/retry).",
      tags: ["outbound calls"],
      request: { params: IdParams },
      responses: { 200: json(OutboundCall, "The outbound call"), ...authErrors, ...notFound },
    }),
    async (c) => c.json(await detail(c.env, c.req.valid("param").id), 200),
  );

  app.openapi(
    adminRoute({
      method: "delete",
      path: "/outbound-calls/{id}",
      summary: "Cancel a scheduled call or a pending re-dial",
      description: "Answers 409 once the call is being dialled or has ended. A cancelled call sends no callback.",
      tags: ["outbound calls"],
      request: { params: IdParams },
      responses: { 200: json(OutboundCall, "Cancelled"), ...authErrors, ...notFound, 409: problem("Already dialling, in progress or final") },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const result = await outboundCall(c.env, id).cancel();
      if (!result) throw new AppError("not_found", `no outbound call "${id}"`);
      if (!result.ok) throw new AppError("conflict", result.reason);
      return c.json(result.call, 200);
    },
  );
}
