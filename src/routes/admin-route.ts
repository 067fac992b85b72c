import { type RouteConfig, createRoute } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import { adminAuth } from "../middleware/admin-auth";

/** The OpenAPI security requirement of every admin route. */
export const ADMIN_SECURITY: { [scheme: string]: string[] }[] = [{ adminKey: [] }];

type AdminRouteConfig<P extends string> = Omit<RouteConfig, "path" | "security" | "middleware"> & {
  path: P;
  /** Runs after the admin key is checked, e.g. body limits. */
  middleware?: MiddlewareHandler<AppEnv>[];
};

/**
 * Declares an admin route: the `adminKey` security requirement in the OpenAPI document and
 * the `adminAuth()` middleware that enforces it always come together, first in the chain,
 * so an admin route cannot be public by accident. Register it with `app.openapi`.
 *
 * @example
 * app.openapi(adminRoute({ method: "get", path: "/outbox", responses: { ... } }), handler);
 */
export function adminRoute<P extends string, R extends AdminRouteConfig<P>>(config: R) {
  const { middleware = [], ...route } = config;
  const guarded: MiddlewareHandler<AppEnv>[] = [adminAuth(), ...middleware];
  return createRoute({ ...route, security: ADMIN_SECURITY, middleware: guarded });
}
