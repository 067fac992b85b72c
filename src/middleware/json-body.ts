import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../app-env";
import { AppError, fieldProblem, validationFailed } from "../errors";
import { MAX_JSON_DEPTH, nestsDeeperThan, tooDeep } from "../lib/json-depth";

// Exactly what the OpenAPI routes' own media-type gate lets through (@hono/zod-openapi), so a
// type it would refuse with a bare 415 is refused here first, saying what to send.
const JSON_TYPE = /^application\/(?:[a-z.-]+\+)?json(?:;\s*[a-z0-9-]+=[^;]+)*$/i;
const FORM_TYPE = /^application\/x-www-form-urlencoded(?:;\s*[a-z0-9-]+=[^;]+)*$/i;

/** True for a form body's media type as jsonBody({ forms: true }) lets it through. */
export const isFormType = (type: string | undefined): boolean => FORM_TYPE.test(type ?? "");

/** True when a request carries no content at all: no body, or one declared empty. */
export function hasNoContent(request: Request): boolean {
  return request.body === null || request.headers.get("content-length") === "0";
}

/**
 * Refuses a JSON body nested deeper than MAX_JSON_DEPTH (422 naming where), before any route
 * recurses over it. Its text is scanned, not parsed, so a body within the limit costs one pass
 * over its characters; only one past it is parsed, to name where. Malformed JSON passes: the
 * route's own parse answers it as such.
 */
async function refuseDeepJson(c: Context<AppEnv>): Promise<void> {
  const text = await c.req.text();
  if (!nestsDeeperThan(text, MAX_JSON_DEPTH)) return;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return;
  }
  const path = tooDeep(body, MAX_JSON_DEPTH);
  if (path) {
    throw validationFailed(`the body nests objects and lists more than ${MAX_JSON_DEPTH} levels deep`, [
      fieldProblem(path, `nested more than ${MAX_JSON_DEPTH} levels deep`),
    ]);
  }
}

/**
 * Refuses bodies that are not JSON (415) or are larger than MAX_BODY_BYTES (413) before
 * anything reads them, so an oversized body is never buffered whole, and JSON nested too deep
 * (422) before any route walks it. With `optional`, a request with no content and no
 * Content-Type passes (a route whose body may be omitted); with `forms`, an HTML form body
 * (`application/x-www-form-urlencoded`) is accepted too.
 *
 * @example
 * adminRoute({ ..., middleware: [jsonBody({ optional: true })] })
 */
export function jsonBody(options: { optional?: boolean; forms?: boolean } = {}): MiddlewareHandler<AppEnv> {
  const accepted = options.forms ? "application/json or application/x-www-form-urlencoded" : "application/json";
  return async function jsonBody(c, next) {
    const type = c.req.header("content-type") ?? "";
    if (options.optional && !type && hasNoContent(c.req.raw)) return next();
    if (!JSON_TYPE.test(type) && !(options.forms && isFormType(type))) {
      throw new AppError("unsupported_media_type", `send Content-Type: ${accepted} (got ${type ? `"${type.slice(0, 100)}"` : "none"})`);
    }
    const maxSize = c.var.config.maxBodyBytes;
    const limit = bodyLimit({
      maxSize,
      onError: () => {
        throw new AppError("payload_too_large", `the body is larger than ${maxSize} bytes (MAX_BODY_BYTES)`);
      },
    });
    return limit(c, async () => {
      if (JSON_TYPE.test(type)) await refuseDeepJson(c);
      await next();
    });
  };
}
