import { type OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { AppError, validationFailed } from "../errors";
import { acceptCall } from "../ingest/accept-call";
import type { AcceptOptions } from "../ledger/call-ledger";
import { jsonBody } from "../middleware/json-body";
import { PLATFORMS, type PlatformAdapter, parsePlatformBody, platformSecrets } from "../platforms";
import { relayAgentOf } from "../platforms/event";
import type { NormalizedEvent } from "../platforms/types";
import { Identifier } from "../schemas/call-event";
import { IngestResult } from "../schemas/delivery";
import { Problem, bodyErrors, json } from "../schemas/problem";
import { AgentStore } from "../store/agents";

const PLATFORM_TITLES: Record<PlatformAdapter["name"], string> = { vapi: "Vapi", retell: "Retell", bland: "Bland", elevenlabs: "ElevenLabs" };

const Ignored = z
  .object({ status: z.literal("ignored"), reason: z.string() })
  .openapi("IgnoredPlatformEvent", { description: "An event that does not mean the call is over; nothing is stored" });

const problem = (description: string) => ({ description, content: { "application/problem+json": { schema: Problem } } });

/** The OpenAPI security scheme of a platform's webhook signature. */
const schemeName = (platform: PlatformAdapter) => `${platform.name}Signature`;

/**
 * What a platform's event asks of the ledger. Retell's `call_ended` comes before its
 * `call_analyzed` (which has the summary): the actions wait for it, up to
 * RETELL_ANALYSIS_WAIT_SECONDS, and `call_analyzed` releases them. Bland's delayed second POST
 * carries a corrected transcript that replaces the stored one for anything not yet sent.
 */
export function ledgerOptions(normalized: NormalizedEvent, now: number, retellWaitSeconds: number): AcceptOptions {
  if (normalized.stage === "preliminary") return { holdUntil: now + retellWaitSeconds * 1000, onDuplicate: "ignore" };
  if (normalized.correctedTranscript) return { onDuplicate: "amend" };
  return { onDuplicate: "release" };
}

function registerPlatformRoute(app: OpenAPIHono<AppEnv>, platform: PlatformAdapter) {
  const title = PLATFORM_TITLES[platform.name];
  app.openAPIRegistry.registerComponent("securitySchemes", schemeName(platform), {
    type: "apiKey",
    in: "header",
    name: platform.signatureHeaders[0] ?? "authorization",
    description: `${title}'s own webhook signature (${platform.signatureHeaders.join(", ")}), checked with ${platform.secretSetting.join(" or ")}`,
  });
  app.openapi(
    createRoute({
      method: "post",
      path: `/calls/ended/${platform.name}`,
      summary: `Receive ${title}'s own call-ended webhook`,
      description:
        `Point ${title}'s webhook at this URL. The signature is checked over the exact body with ` +
        `${platform.secretSetting.join(" (or ")}${platform.secretSetting.length > 1 ? ")" : ""}; several secrets separated by spaces are ` +
        "accepted during rotation. Events that mean the call is over are normalised to the canonical event and handled like " +
        "POST /calls/ended (202, or 200 duplicate); any other event answers 200 ignored so the platform does not retry. " +
        "The relay agent is `?agent_id=` when given, else the agent whose platform_ids names the platform's agent, else " +
        "the platform's agent id itself.",
      tags: ["calls"],
      security: [{ [schemeName(platform)]: [] }],
      middleware: [jsonBody()],
      request: {
        query: z.object({ agent_id: Identifier.optional().openapi({ description: "The relay agent that handles this webhook's calls" }) }),
      },
      responses: {
        202: json(IngestResult, "Accepted: stored, and one job per action queued (or held for the final event)"),
        200: {
          description: "A call already accepted (duplicate), or an event that is not the end of a call",
          content: {
            "application/json": {
              schema: z.union([IngestResult, Ignored]),
              example: { status: "ignored", reason: `${title} "status-update" event: it does not end a call` },
            },
          },
        },
        401: problem("Missing, wrong or stale signature"),
        ...bodyErrors,
        422: problem("The payload lacks what a call needs (its id, an agent), or nests too deep; `errors` names the platform's fields"),
        429: problem("This agent is over its ingest rate limit"),
        503: problem("No secret is set for this platform"),
      },
    }),
    async (c) => {
      const config = c.var.config;
      const rawBody = await c.req.text();
      const { secrets, candidates } = platformSecrets(platform, c.env as unknown as Record<string, unknown>);
      if (secrets.length > 0) {
        const verified = await platform.verify({ headers: c.req.raw.headers, rawBody, secrets, now: Date.now() });
        if (!verified.ok) {
          const detail = verified.stale ? `signature too old or from the future: ${verified.reason}` : `signature rejected: ${verified.reason}`;
          throw new AppError("unauthorized", detail);
        }
      } else if (!config.allowUnsignedPlatformWebhooks) {
        throw new AppError("misconfigured", `${title} webhooks are refused until ${candidates.join(" or ")} is set`);
      }
      const parsed = parsePlatformBody(rawBody);
      if (!parsed.ok) throw new AppError("invalid_json", parsed.problem.message);
      const urlAgent = c.req.valid("query").agent_id;
      const normalized = platform.normalize(parsed.payload, { defaultAgentId: urlAgent });
      if (normalized.kind === "ignored") return c.json({ status: "ignored" as const, reason: normalized.reason }, 200);
      if (normalized.kind === "invalid") throw validationFailed(`not a usable ${title} call`, normalized.problems);
      const event = { ...normalized.event };
      // A call the relay placed names its agent in the metadata it gave the platform (see relayAgentOf).
      if (urlAgent === undefined && !relayAgentOf(event.metadata) && normalized.platformAgentId) {
        const mapped = await new AgentStore(c.env.DB, c.env.CONFIG_CACHE).idForPlatform(platform.name, normalized.platformAgentId);
        if (mapped) event.agent_id = mapped;
      }
      const options = ledgerOptions(normalized, Date.now(), config.retellAnalysisWaitSeconds);
      const result = await acceptCall(c.env, event, { ...options, raw: rawBody });
      return c.json(result, result.status === "accepted" ? 202 : 200);
    },
  );
}

/** `POST /calls/ended/{vapi,retell,bland,elevenlabs}`: each platform's own webhook, verified its own way. */
export function registerPlatformCallRoutes(app: OpenAPIHono<AppEnv>) {
  for (const platform of Object.values(PLATFORMS)) registerPlatformRoute(app, platform);
}
