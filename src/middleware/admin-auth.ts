import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { safeEqual } from "../security/constant-time";

const CHALLENGE = { "www-authenticate": 'Bearer realm="callrelay admin"' };

/** Reads `Authorization: Bearer <token>`; undefined when absent or of another scheme. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer[ ]+(\S+)\s*$/i);
  return match?.[1];
}

/** Guards the admin API with ADMIN_API_KEY, compared in constant time. */
export function adminAuth(): MiddlewareHandler<AppEnv> {
  return async function adminAuth(c, next) {
    const expected = c.var.config.adminApiKey;
    if (!expected) throw new AppError("misconfigured", "the admin API is disabled: set the ADMIN_API_KEY secret");
    const token = bearerToken(c.req.header("authorization"));
    if (!token) throw new AppError("unauthorized", "send Authorization: Bearer <ADMIN_API_KEY>", [], CHALLENGE);
    if (!(await safeEqual(token, expected))) {
      throw new AppError("unauthorized", "the bearer token is not the admin key", [], {
        "www-authenticate": 'Bearer realm="callrelay admin", error="invalid_token"',
      });
    }
    await next();
  };
}
