import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { safeEqual } from "../security/constant-time";
import { verifyWebhook } from "../security/standard-webhooks";
import { bearerToken } from "./admin-auth";

const CHALLENGE = { "www-authenticate": 'Bearer realm="callrelay ingest"' };

function hasSignature(headers: Headers): boolean {
  return headers.has("webhook-signature") || headers.has("svix-signature");
}

/**
 * First half of ingest auth, from headers alone: a bearer INGEST_API_KEY is checked here;
 * a Standard Webhooks signature is only noted, and checked by `verifyIngestSignature`
 * once the body limit is in place.
 */
export function ingestAuth(): MiddlewareHandler<AppEnv> {
  return async function ingestAuth(c, next) {
    const { ingestApiKey, ingestSigningSecrets } = c.var.config;
    if (!ingestApiKey && ingestSigningSecrets.length === 0) {
      throw new AppError("misconfigured", "ingest is disabled: set INGEST_API_KEY or INGEST_SIGNING_SECRET");
    }
    const token = bearerToken(c.req.header("authorization"));
    if (token !== undefined) {
      if (!ingestApiKey || !(await safeEqual(token, ingestApiKey))) {
        throw new AppError("unauthorized", "the bearer token is not the ingest key", [], CHALLENGE);
      }
    } else if (hasSignature(c.req.raw.headers) && ingestSigningSecrets.length > 0) {
      c.set("signatureRequired", true);
    } else {
      throw new AppError(
        "unauthorized",
        "send Authorization: Bearer <INGEST_API_KEY>, or sign the request per Standard Webhooks with INGEST_SIGNING_SECRET",
        [],
        CHALLENGE,
      );
    }
    await next();
  };
}

/** Second half: checks the signature over the raw body, with a five-minute replay window. */
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
