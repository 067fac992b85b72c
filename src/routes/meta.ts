import { type OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { webhookPayload } from "../providers/webhook";
import { CALL_ENDED_EXAMPLE } from "../schemas/call-event";
import { OutboundCallback } from "../schemas/outbound";
import { json } from "../schemas/problem";
import { renderReference } from "./reference-page";

/** The document's fixed part; `servers` is added per request. */
const DOCUMENT = {
  openapi: "3.1.0",
  info: {
    title: "callrelay",
    version: "0.1.0",
    description:
      "Webhook relay between voice-AI phone agents and the systems a business runs. When a call ends, the relay runs " +
      "the agent's follow-up actions (SMS, email, task, webhook) exactly once, retries them, and keeps a log of every attempt.",
    license: { name: "MIT", identifier: "MIT" },
  },
};

/**
 * The body of the outbound webhook (see webhookPayload in src/providers/webhook.ts). The type
 * check below fails the build if the two drift apart.
 */
const FollowUpWebhook = z
  .object({
    event: z.literal("post_call_follow_up"),
    call_id: z.string(),
    agent_id: z.string(),
    caller_number: z.string().nullable(),
    duration_seconds: z.number().nullable(),
    summary: z.string().nullable(),
    transcript: z.string().nullable().optional().openapi({ description: "Only when the action sets include_transcript" }),
    recording_url: z.string().nullable().optional().openapi({ description: "Only when the action sets include_recording_url" }),
    metadata: z.record(z.string(), z.unknown()).openapi({ description: "The call's metadata, as received ({} when none)" }),
  })
  .openapi("PostCallFollowUpWebhook", {
    description: "What a webhook action POSTs to its url when a call ends.",
    // Built by the sender itself from the example event, so the example cannot drift from it.
    example: webhookPayload(CALL_ENDED_EXAMPLE, {
      type: "webhook",
      url: "https://your-crm.com/api/call-completed",
      include_transcript: true,
      include_recording_url: true,
    }),
  });
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const payloadMatches: Same<ReturnType<typeof webhookPayload>, z.infer<typeof FollowUpWebhook>> = true;
void payloadMatches;

const signatureHeaders = z.object({
  "webhook-id": z.string().openapi({
    description: "The delivery id: the same on every retry of this delivery, so a receiver can drop duplicates",
    example: "dlv_01HQ7Z8K3M4N5P6Q7R8S9T0V1X",
  }),
  "webhook-timestamp": z.string().openapi({
    description: "Unix seconds when this attempt was signed; reject it when far from your clock (Standard Webhooks allows 5 minutes)",
    example: "1773155046",
  }),
  "webhook-signature": z.string().openapi({
    description:
      "Space-separated `v1,<base64>` entries, each HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}` with one " +
      "signing secret (the base64 after `whsec_`). Two entries during a secret rotation; accept the request when any matches.",
    example: "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
  }),
});

/** How a receiver's answer to any signed webhook is read. */
const WEBHOOK_RESPONSES = {
  200: { description: "Any 2xx: delivered" },
  410: { description: "Gone: the delivery is not tried again" },
  503: { description: "Any 5xx, 408, 425 or 429: retried later" },
};

function registerFollowUpWebhook(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerWebhook({
    method: "post",
    path: "post_call_follow_up",
    summary: "Sent by a webhook action when a call ends",
    description:
      "The relay POSTs this JSON to the url of each webhook action of the agent's post_call_follow_up, signed per Standard " +
      "Webhooks (https://www.standardwebhooks.com, compatible with Svix libraries) with the agent's own secret " +
      "(POST /agents/{agent_id}/webhook-secret) or else WEBHOOK_SIGNING_SECRET. Verify the signature over the raw body " +
      "before parsing it. Any 2xx answer counts as delivered; 408, 425, 429 and 5xx (honouring Retry-After) and network " +
      "errors are retried with backoff; 410 marks the delivery gone; any other status fails it. Retries keep the same " +
      "webhook-id.",
    tags: ["webhooks"],
    request: {
      headers: signatureHeaders,
      body: { required: true, content: { "application/json": { schema: FollowUpWebhook } } },
    },
    responses: WEBHOOK_RESPONSES,
  });
}

function registerOutboundCallback(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerWebhook({
    method: "post",
    path: "outbound_call.completed",
    summary: "Sent to an outbound call's webhook_url once the call is final",
    description:
      "After the last attempt (re-dials included) the relay POSTs the outcome and the request's metadata, unchanged, to the " +
      "call's webhook_url, signed per Standard Webhooks like every webhook. Retried, logged and replayable like any " +
      "delivery; webhook-id is the same on every retry, so a receiver can drop duplicates. A cancelled call sends none.",
    tags: ["webhooks"],
    request: {
      headers: signatureHeaders,
      body: { required: true, content: { "application/json": { schema: OutboundCallback } } },
    },
    responses: WEBHOOK_RESPONSES,
  });
}

export function registerMetaRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/healthz",
      summary: "Liveness",
      description: "Answers 200 while the Worker runs. Needs no key and touches no storage, so it says nothing of D1 or the queue.",
      tags: ["meta"],
      responses: {
        200: json(z.object({ status: z.literal("ok") }).openapi({ example: { status: "ok" } }), "Alive"),
      },
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
  registerFollowUpWebhook(app);
  registerOutboundCallback(app);

  app.doc31("/openapi.json", (c) => ({ ...DOCUMENT, servers: [{ url: new URL(c.req.url).origin }] }));

  // Rendered once per isolate: the document does not change while it lives, and the page names no origin.
  let page: string | undefined;
  app.get("/docs", (c) => {
    page ??= renderReference(app.getOpenAPI31Document(DOCUMENT));
    return c.html(page, 200, {
      // The page is self-contained: no script at all, styles inline, nothing fetched from anywhere.
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      "cache-control": "public, max-age=300",
    });
  });
}
