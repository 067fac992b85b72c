import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { AppError, validationFailed } from "../errors";
import { applyMergePatch } from "../lib/merge-patch";
import { jsonBody } from "../middleware/json-body";
import { saveAgent, updateAgent, validConfig } from "../pipeline/agent-service";
import { previewAgent } from "../pipeline/preview";
import { ACTION_TYPES, Agent, AgentConfig, EXAMPLE_AGENT } from "../schemas/agent";
import { CallEndedEvent, Identifier } from "../schemas/call-event";
import { SAMPLE_CALL } from "../templates/sample-call";
import { authErrors, bodyErrors, json, notFound } from "../schemas/problem";
import { AgentStore } from "../store/agents";
import { adminRoute } from "./admin-route";

const AgentParams = z.object({ agent_id: Identifier.openapi({ param: { name: "agent_id", in: "path" }, example: "agent_abc123" }) });
const bodyMiddleware = [jsonBody()];

/** A merge patch is any JSON object; what it produces is validated, not the patch itself. */
const MergePatch = z.record(z.string(), z.unknown()).openapi("AgentMergePatch", {
  example: {
    voice_tools: {
      post_call_follow_up: {
        enabled: true,
        actions: [
          { type: "sms", template: "Thanks for calling {agent_name}! Your reference number is {call_id}." },
          { type: "webhook", url: "https://your-crm.com/api/call-completed", include_transcript: true, include_recording_url: true },
          { type: "email", to: "{caller_email}", subject: "Your call summary — {date}", body_template: "call_summary" },
        ],
      },
    },
  },
});

/** A saved agent, with what is worth knowing though the config is valid (e.g. actions that will not run). */
const SavedAgent = Agent.extend({
  warnings: z.array(z.string()).openapi({ example: ["follow-up is disabled: no action will run (set voice_tools.post_call_follow_up.enabled to true)"] }),
}).openapi("SavedAgent");

const PreviewRequest = z
  .strictObject({
    call: CallEndedEvent.partial({ call_id: true, agent_id: true }).optional().openapi({ description: "Omit to use a built-in sample call" }),
  })
  .openapi("PreviewRequest", {
    example: {
      call: {
        caller_number: "+14155551234",
        duration_seconds: 95,
        summary: "Caller asked to move the appointment to Friday.",
        outcome: "reschedule_requested",
        metadata: { caller_name: "John Smith", caller_email: "john@example.com" },
      },
    },
  });

const PreviewResult = z
  .object({
    agent_id: z.string(),
    sample: z.boolean(),
    call: CallEndedEvent,
    actions: z.array(
      z.object({
        index: z.number().int(),
        type: z.enum(ACTION_TYPES),
        status: z.enum(["ready", "skipped", "error", "disabled"]),
        reason: z.string().optional(),
        provider: z.string().optional(),
        provider_choice: z.string().optional(),
        message: z.unknown().optional(),
        request: z.unknown().optional(),
        sms: z.object({ encoding: z.string(), units: z.number(), segments: z.number(), summary: z.string() }).optional(),
      }),
    ),
  })
  .openapi("PreviewResult", {
    example: {
      agent_id: "agent_abc123",
      sample: true,
      call: { ...SAMPLE_CALL, agent_id: "agent_abc123" },
      actions: [
        {
          index: 0,
          type: "sms",
          status: "ready",
          provider: "outbox",
          provider_choice: "no sms provider is configured",
          message: { to: "+14155551234", body: "Thanks for calling Acme Support! Your reference number is call_sample_0001." },
          sms: { encoding: "GSM-7", units: 77, segments: 1, summary: "1 segment (GSM-7, 77 units)" },
        },
      ],
    },
  });

const store = (env: CloudflareBindings) => new AgentStore(env.DB, env.CONFIG_CACHE);

export function registerAgentRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    adminRoute({
      method: "patch",
      path: "/agents/{agent_id}",
      summary: "Update an agent with a JSON merge patch (RFC 7396); creates it when missing",
      description:
        "The patch is merged into the agent's current configuration (members set to null are removed; arrays such as " +
        "`actions` are replaced whole), and the result is validated like a PUT body: schema, template variables, built-in " +
        "template names, provider names and webhook targets. Answers 201 when the agent did not exist.",
      tags: ["agents"],
      middleware: bodyMiddleware,
      request: {
        params: AgentParams,
        body: {
          required: true,
          content: { "application/json": { schema: MergePatch }, "application/merge-patch+json": { schema: MergePatch } },
        },
      },
      responses: { 200: json(SavedAgent, "Updated"), 201: json(SavedAgent, "Created"), ...authErrors, ...bodyErrors },
    }),
    async (c) => {
      const { agent_id } = c.req.valid("param");
      const patch = await c.req.json<unknown>();
      if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
        throw validationFailed("a merge patch must be a JSON object", [{ path: "$", pointer: "", message: "expected an object" }]);
      }
      const { agent, created, warnings } = await updateAgent(c.env, agent_id, (current) => applyMergePatch(current, patch), c.var.config);
      return c.json({ ...agent, warnings }, created ? 201 : 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "put",
      path: "/agents/{agent_id}",
      summary: "Create or replace an agent",
      description:
        "Replaces the whole configuration. Besides the schema, every template may use only the listed variables, an email's " +
        "body_template must name a built-in or one of the agent's templates, a named provider must exist for its kind, and " +
        "webhook targets must not be private addresses (unless ALLOW_PRIVATE_TARGETS); each problem is named in a 422. " +
        "Calls already accepted keep the configuration they were accepted with.",
      tags: ["agents"],
      middleware: bodyMiddleware,
      request: { params: AgentParams, body: { required: true, content: { "application/json": { schema: AgentConfig } } } },
      responses: { 200: json(SavedAgent, "Replaced"), 201: json(SavedAgent, "Created"), ...authErrors, ...bodyErrors },
    }),
    async (c) => {
      const { agent_id } = c.req.valid("param");
      const { agent, created, warnings } = await saveAgent(c.env, agent_id, c.req.valid("json"), c.var.config);
      return c.json({ ...agent, warnings }, created ? 201 : 200);
    },
    // A body the schema refuses is checked in full, so every problem is named at once. (The
    // validator passes the refused input as `data`; the hook's type leaves it out.)
    (result, c) => {
      if (!result.success && result.target === "json") validConfig((result as { data?: unknown }).data, c.var.config);
      return undefined;
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/agents/{agent_id}",
      summary: "Read an agent",
      description: "The agent's configuration with its timestamps. Secrets and ingest keys are never included.",
      tags: ["agents"],
      request: { params: AgentParams },
      responses: { 200: json(Agent, "The agent"), ...authErrors, ...notFound },
    }),
    async (c) => {
      const { agent_id } = c.req.valid("param");
      const agent = await store(c.env).get(agent_id);
      if (!agent) throw new AppError("not_found", `no agent "${agent_id}"`);
      return c.json(agent, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/agents",
      summary: "List agents, by id, a page at a time",
      description: "Ordered by id. Pass `next_cursor` as `cursor` to read the next page; it is null on the last page.",
      tags: ["agents"],
      request: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(100).default(50),
          cursor: Identifier.optional().openapi({ description: "next_cursor of the previous page" }),
        }),
      },
      responses: {
        200: json(
          z
            .object({ agents: z.array(Agent), next_cursor: z.string().nullable() })
            .openapi({ example: { agents: [EXAMPLE_AGENT], next_cursor: null } }),
          "A page of agents",
        ),
        ...authErrors,
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      return c.json(await store(c.env).list(limit, cursor), 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "post",
      path: "/agents/{agent_id}/preview",
      summary: "Render every action against a call (or a built-in sample) and show exactly what would be sent, sending nothing",
      description:
        "Provider requests are shown with credentials replaced by [redacted]. The body is optional; when given it must be " +
        "JSON of at most MAX_BODY_BYTES.",
      tags: ["agents"],
      middleware: [jsonBody({ optional: true })],
      request: {
        params: AgentParams,
        body: {
          required: false,
          content: { "application/json": { schema: PreviewRequest } },
        },
      },
      responses: { 200: json(PreviewResult, "What each action would send"), ...authErrors, ...bodyErrors, ...notFound },
    }),
    async (c) => {
      const { agent_id } = c.req.valid("param");
      const agent = await store(c.env).get(agent_id);
      if (!agent) throw new AppError("not_found", `no agent "${agent_id}"`);
      const given = c.req.valid("json")?.call;
      const call = { ...(given ? { call_id: "call_preview" } : SAMPLE_CALL), ...given, agent_id };
      const actions = await previewAgent(agent, call, c.env);
      return c.json({ agent_id, sample: !given, call, actions }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "delete",
      path: "/agents/{agent_id}",
      summary: "Delete an agent; calls already accepted still run their actions",
      description:
        "Removes the configuration, its ingest keys with it, and its platform_ids routing. Deliveries already queued keep " +
        "running with the configuration their call was accepted with; their log stays readable.",
      tags: ["agents"],
      request: { params: AgentParams },
      responses: { 204: { description: "Deleted" }, ...authErrors, ...notFound },
    }),
    async (c) => {
      const { agent_id } = c.req.valid("param");
      if (!(await store(c.env).delete(agent_id))) throw new AppError("not_found", `no agent "${agent_id}"`);
      return c.body(null, 204);
    },
  );
}
