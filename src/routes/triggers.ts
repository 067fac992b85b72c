import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { AppError, validationFailed } from "../errors";
import { applyMergePatch } from "../lib/merge-patch";
import { jsonBody } from "../middleware/json-body";
import { EXAMPLE_TRIGGER, Trigger, TriggerConfig } from "../schemas/trigger";
import { Identifier } from "../schemas/call-event";
import { authErrors, bodyErrors, json, notFound } from "../schemas/problem";
import { type StoredTrigger, TriggerStore } from "../store/triggers";
import { checkTriggerConfig } from "../triggers/trigger-config";
import { adminRoute } from "./admin-route";

const TriggerParams = z.object({ id: Identifier.openapi({ param: { name: "id", in: "path" }, example: "trg_8c1d2e3f4a5b6c7d" }) });

const IssuedTrigger = Trigger.extend({
  secret: z.string().openapi({ description: "Shown once. Send it as `Authorization: Bearer …`, sign with it (Standard Webhooks), or add `?key=…` to the URL" }),
}).openapi("IssuedTrigger", { example: { ...EXAMPLE_TRIGGER, secret: "whsec_ZXhhbXBsZS10cmlnZ2VyLXNlY3JldC0wMDAwMDE=" } });

const RotatedSecret = z
  .object({
    secret: z.string().openapi({ description: "The new secret, shown once" }),
    previous_secret_expires_at: z.string().openapi({ description: "The old secret is accepted until then (24 h)" }),
  })
  .openapi("RotatedTriggerSecret", {
    example: { secret: "whsec_bmV3LWV4YW1wbGUtdHJpZ2dlci1zZWNyZXQtMDAwMg==", previous_secret_expires_at: "2026-03-02T09:00:00.000Z" },
  });

const store = (env: CloudflareBindings) => new TriggerStore(env.DB);

/** The URL to paste into the automation tool: this deployment's origin, as the request reached it. */
const withUrl = (c: Context<AppEnv>, trigger: StoredTrigger): Trigger => ({ ...trigger, url: `${new URL(c.req.url).origin}/hooks/${trigger.id}` });

/** The schema, the templates, and an agent that exists; a 422 naming each problem otherwise. */
async function validTrigger(env: CloudflareBindings, candidate: unknown, options: { change?: boolean } = {}): Promise<TriggerConfig> {
  const checked = await checkTriggerConfig(env, candidate, options);
  if (!checked.ok) throw validationFailed("the trigger is invalid", checked.problems);
  return checked.config;
}

async function found(env: CloudflareBindings, id: string): Promise<StoredTrigger> {
  const trigger = await store(env).get(id);
  if (!trigger) throw new AppError("not_found", `no trigger "${id}"`);
  return trigger;
}

export function registerTriggerRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    adminRoute({
      method: "post",
      path: "/triggers",
      summary: "Create a trigger: a URL Zapier, Make, n8n or Power Automate POSTs to, to place a call",
      description: "Answers the trigger with its `url` and its `secret`, which is shown only here and on rotation.",
      tags: ["triggers"],
      middleware: [jsonBody()],
      request: { body: { required: true, content: { "application/json": { schema: TriggerConfig } } } },
      responses: { 201: json(IssuedTrigger, "Created"), ...authErrors, ...bodyErrors },
    }),
    async (c) => {
      const config = await validTrigger(c.env, await c.req.json());
      const { trigger, secret } = await store(c.env).create(config, new Date());
      return c.json({ ...withUrl(c, trigger), secret }, 201);
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/triggers",
      summary: "Every trigger, newest first (never their secrets)",
      description: "Optionally only one agent's.",
      tags: ["triggers"],
      request: { query: z.object({ agent_id: Identifier.optional() }) },
      responses: {
        200: json(z.object({ triggers: z.array(Trigger) }).openapi({ example: { triggers: [EXAMPLE_TRIGGER] } }), "The triggers"),
        ...authErrors,
      },
    }),
    async (c) => {
      const triggers = await store(c.env).list(c.req.valid("query").agent_id);
      return c.json({ triggers: triggers.map((t) => withUrl(c, t)) }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/triggers/{id}",
      summary: "One trigger (never its secret)",
      description: "The secret is shown only when the trigger is created and when it is rotated.",
      tags: ["triggers"],
      request: { params: TriggerParams },
      responses: { 200: json(Trigger, "The trigger"), ...authErrors, ...notFound },
    }),
    async (c) => c.json(withUrl(c, await found(c.env, c.req.valid("param").id)), 200),
  );

  app.openapi(
    adminRoute({
      method: "patch",
      path: "/triggers/{id}",
      summary: "Change a trigger with a JSON merge patch (RFC 7396)",
      description: "Members set to null are removed; the result is validated like a new trigger. The URL and the secret do not change.",
      tags: ["triggers"],
      middleware: [jsonBody()],
      request: {
        params: TriggerParams,
        body: { required: true, content: { "application/json": { schema: z.record(z.string(), z.unknown()).openapi("TriggerMergePatch", { example: { enabled: false } }) } } },
      },
      responses: { 200: json(Trigger, "Updated"), ...authErrors, ...notFound, ...bodyErrors },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { id: _id, created_at: _c, updated_at: _u, ...current } = await found(c.env, id);
      const config = await validTrigger(c.env, applyMergePatch(current, c.req.valid("json")), { change: true });
      const updated = await store(c.env).update(id, config, new Date());
      if (!updated) throw new AppError("not_found", `no trigger "${id}"`);
      return c.json(withUrl(c, updated), 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "delete",
      path: "/triggers/{id}",
      summary: "Delete a trigger: its URL stops working at once",
      description: "Calls it already placed or scheduled go on; cancel them with DELETE /outbound-calls/{id}.",
      tags: ["triggers"],
      request: { params: TriggerParams },
      responses: { 204: { description: "Deleted" }, ...authErrors, ...notFound },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      if (!(await store(c.env).delete(id))) throw new AppError("not_found", `no trigger "${id}"`);
      return c.body(null, 204);
    },
  );

  app.openapi(
    adminRoute({
      method: "post",
      path: "/triggers/{id}/rotate-secret",
      summary: "Issue a new secret; the old one stays valid for 24 h",
      description: "Paste the new secret into the automation tool within a day; a secret replaced before that stops at once.",
      tags: ["triggers"],
      request: { params: TriggerParams },
      responses: { 200: json(RotatedSecret, "The new secret, shown once"), ...authErrors, ...notFound },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const issued = await store(c.env).rotate(id, new Date());
      if (!issued) throw new AppError("not_found", `no trigger "${id}"`);
      return c.json({ secret: issued.secret, previous_secret_expires_at: issued.previous_secret_expires_at! }, 200);
    },
  );
}
