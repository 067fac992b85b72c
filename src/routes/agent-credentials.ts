import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { Identifier } from "../schemas/call-event";
import { Problem, authErrors, json, notFound } from "../schemas/problem";
import { MAX_INGEST_KEYS, newIngestKey } from "../security/ingest-keys";
import { ROTATION_OVERLAP_SECONDS } from "../security/signing-secrets";
import { AgentSecretStore } from "../store/agent-secrets";
import { AgentStore } from "../store/agents";
import { adminRoute } from "./admin-route";

const AgentParams = z.object({ agent_id: Identifier.openapi({ param: { name: "agent_id", in: "path" }, example: "agent_abc123" }) });

const WebhookSecret = z
  .object({
    agent_id: z.string(),
    secret: z.string().openapi({ description: "whsec_…; shown this once", example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
    created_at: z.string(),
    previous_secret_expires_at: z
      .string()
      .nullable()
      .openapi({ description: "When the secret this one replaced stops signing; null when there was none" }),
  })
  .openapi("AgentWebhookSecret", {
    example: {
      agent_id: "agent_abc123",
      secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      created_at: "2026-03-10T14:00:00.000Z",
      previous_secret_expires_at: "2026-03-11T14:00:00.000Z",
    },
  });

const IngestKey = z
  .object({
    agent_id: z.string(),
    id: z.string().openapi({ description: "The key's id, to revoke it alone", example: "ik_3q2Xh0aB9kLm" }),
    key: z.string().openapi({ description: "cri_…; shown this once, stored only as a SHA-256 hash" }),
    created_at: z.string(),
  })
  .openapi("AgentIngestKey", {
    example: {
      agent_id: "agent_abc123",
      id: "ik_3q2Xh0aB9kLm",
      key: "cri_9fJ2kL0pQ7rS4tU1vW8xY5zA3bC6dE",
      created_at: "2026-03-10T14:00:00.000Z",
    },
  });

const conflict = { 409: { description: "The agent already has the most ingest keys allowed", content: { "application/problem+json": { schema: Problem } } } };

/** Secrets in an answer must not be kept by any cache on the way. */
const NO_STORE = { "cache-control": "no-store" };

const agents = (env: CloudflareBindings) => new AgentStore(env.DB, env.CONFIG_CACHE);

async function requireAgent(env: CloudflareBindings, agentId: string): Promise<void> {
  if (!(await agents(env).get(agentId))) throw new AppError("not_found", `no agent "${agentId}"`);
}

export function registerAgentCredentialRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    adminRoute({
      method: "post",
      path: "/agents/{agent_id}/webhook-secret",
      summary: "Give the agent its own webhook signing secret, or rotate it; the secret is answered this once",
      description:
        "Generates a new `whsec_` secret. From then on the agent's webhooks are signed with its own secrets only, not " +
        "WEBHOOK_SIGNING_SECRET, so a receiver of one agent's webhooks cannot forge another's. Calling it again rotates: " +
        `the previous secret keeps signing beside the new one for ${ROTATION_OVERLAP_SECONDS / 3600} hours (two \`v1,\` ` +
        "signatures), then stops; a secret replaced before that stops at once. Applies to retries of webhooks already " +
        "queued. No other endpoint ever returns the secret.",
      tags: ["agents"],
      request: { params: AgentParams },
      responses: { 201: json(WebhookSecret, "The new secret, shown once"), ...authErrors, ...notFound },
    }),
    async (c) => {
      const { agent_id } = c.req.valid("param");
      const issued = await new AgentSecretStore(c.env.DB).rotate(agent_id, new Date());
      if (!issued) throw new AppError("not_found", `no agent "${agent_id}"`);
      const { secret, created_at, previous_expires_at } = issued;
      return c.json({ agent_id, secret, created_at, previous_secret_expires_at: previous_expires_at }, 201, NO_STORE);
    },
  );

  app.openapi(
    adminRoute({
      method: "delete",
      path: "/agents/{agent_id}/webhook-secret",
      summary: "Remove the agent's own webhook secrets; its webhooks are signed with WEBHOOK_SIGNING_SECRET again",
      description: "Takes effect for every attempt from now on, retries included. Idempotent for an agent without secrets.",
      tags: ["agents"],
      request: { params: AgentParams },
      responses: { 204: { description: "Removed" }, ...authErrors, ...notFound },
    }),
    async (c) => {
      const { agent_id } = c.req.valid("param");
      await requireAgent(c.env, agent_id);
      await new AgentSecretStore(c.env.DB).remove(agent_id);
      return c.body(null, 204);
    },
  );

  app.openapi(
    adminRoute({
      method: "post",
      path: "/agents/{agent_id}/ingest-key",
      summary: "Create an ingest key for this agent only; the key is answered this once",
      description:
        "The key (`cri_…`) authenticates `POST /calls/ended` as `Authorization: Bearer <key>` for events of this agent " +
        "only; for any other agent it is refused with 401. Only its SHA-256 hash is stored. INGEST_API_KEY keeps working " +
        `for every agent. An agent has at most ${MAX_INGEST_KEYS} keys.`,
      tags: ["agents"],
      request: { params: AgentParams },
      responses: { 201: json(IngestKey, "The new key, shown once"), ...authErrors, ...notFound, ...conflict },
    }),
    async (c) => {
      const { agent_id } = c.req.valid("param");
      const { key, ref } = await newIngestKey(new Date());
      const added = await agents(c.env).addIngestKey(agent_id, ref);
      if (added === "not_found") throw new AppError("not_found", `no agent "${agent_id}"`);
      if (added === "full") throw new AppError("conflict", `agent "${agent_id}" already has ${MAX_INGEST_KEYS} ingest keys; revoke one first`);
      return c.json({ agent_id, id: ref.id, key, created_at: ref.created_at }, 201, NO_STORE);
    },
  );

  app.openapi(
    adminRoute({
      method: "delete",
      path: "/agents/{agent_id}/ingest-key",
      summary: "Revoke the agent's ingest keys: all of them, or the one named by key_id",
      description:
        "Takes effect for the next event in this location at once, and everywhere within a minute (the agent cache's lifetime).",
      tags: ["agents"],
      request: {
        params: AgentParams,
        query: z.object({
          key_id: z.string().min(1).max(64).optional().openapi({ description: "Revoke only this key (the id answered at creation)" }),
        }),
      },
      responses: { 204: { description: "Revoked" }, ...authErrors, ...notFound },
    }),
    async (c) => {
      const { agent_id } = c.req.valid("param");
      const { key_id } = c.req.valid("query");
      if (!(await agents(c.env).revokeIngestKeys(agent_id, key_id))) {
        throw new AppError("not_found", key_id ? `agent "${agent_id}" has no ingest key "${key_id}"` : `no agent "${agent_id}"`);
      }
      return c.body(null, 204);
    },
  );
}
