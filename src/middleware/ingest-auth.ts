import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { safeEqual } from "../security/constant-time";
import { INGEST_KEY_PREFIX, type IngestKeyRef, matchesIngestKey, sha256Hex } from "../security/ingest-keys";
import { verifyWebhook } from "../security/standard-webhooks";
import { bearerToken } from "./admin-auth";

const CHALLENGE = { "www-authenticate": 'Bearer realm="callrelay ingest"' };
const INVALID_TOKEN = { "www-authenticate": 'Bearer realm="callrelay ingest", error="invalid_token"' };

function hasSignature(headers: Headers): boolean {
  return headers.has("webhook-signature") || headers.has("svix-signature");
}

/**
 * First part of ingest auth, from headers alone. A bearer INGEST_API_KEY is accepted here
 * for every agent; another token shaped like an agent's ingest key (`cri_…`) is hashed and
 * left for `authorizeAgentKey`, which needs the event's agent_id; any other is refused.
 * A Standard Webhooks signature is only noted, and checked by `verifyIngestSignature` once
 * the body limit is in place.
 */
export function ingestAuth(): MiddlewareHandler<AppEnv> {
  return async function ingestAuth(c, next) {
    const { ingestApiKey, ingestSigningSecrets } = c.var.config;
    const token = bearerToken(c.req.header("authorization"));
    if (token !== undefined) {
      if (!ingestApiKey || !(await safeEqual(token, ingestApiKey))) {
        // Only an agent's key can still be valid, and those all carry the prefix: anything
        // else is refused before the body is read.
        if (!token.startsWith(INGEST_KEY_PREFIX)) {
          throw new AppError("unauthorized", "the bearer token is not the ingest key", [], INVALID_TOKEN);
        }
        c.set("agentKeyHash", await sha256Hex(token));
      }
    } else if (hasSignature(c.req.raw.headers) && ingestSigningSecrets.length > 0) {
      c.set("signatureRequired", true);
    } else {
      throw new AppError(
        "unauthorized",
        "send Authorization: Bearer <INGEST_API_KEY or the agent's ingest key>, or sign the request per Standard Webhooks with INGEST_SIGNING_SECRET",
        [],
        CHALLENGE,
      );
    }
    await next();
  };
}

/** Second part: checks the signature over the raw body, with a five-minute replay window. */
export function verifyIngestSignature(): MiddlewareHandler<AppEnv> {
  return async function verifyIngestSignature(c, next) {
    if (c.var.signatureRequired) {
      const result = await verifyWebhook({
        secrets: c.var.config.ingestSigningSecrets,
        headers: c.req.raw.headers,
        body: await c.req.text(),
        now: Math.floor(Date.now() / 1000),
      });
      if (!result.ok) throw new AppError("unauthorized", `signature rejected: ${result.reason}`, [], CHALLENGE);
    }
    await next();
  };
}

/**
 * Last part, once the event is parsed: a bearer token other than INGEST_API_KEY must be an
 * ingest key of the event's own agent. The agent's key hashes come with the cached agent,
 * so this costs no query. Throws 401 naming the agent, never the key.
 *
 * @example
 * authorizeAgentKey(c.var.agentKeyHash, await store.getCached(event.agent_id), event.agent_id);
 */
export function authorizeAgentKey(
  agentKeyHash: string | undefined,
  agent: { ingest_keys?: readonly IngestKeyRef[] } | null,
  agentId: string,
): void {
  if (agentKeyHash === undefined) return;
  if (!matchesIngestKey(agentKeyHash, agent?.ingest_keys ?? [])) {
    throw new AppError(
      "unauthorized",
      `the bearer token is not a valid ingest key for agent "${agentId}"`,
      [],
      INVALID_TOKEN,
    );
  }
}
