import { readConfig } from "../config";
import { deliveryId } from "../ledger/plan";
import { chooseProvider } from "../providers/registry";
import { describeSegments, smsSegments } from "../providers/sms/segments";
import { type HttpCall, type RequestContext, type Settings, isHttpProvider } from "../providers/types";
import { webhookCall, webhookPayload } from "../providers/webhook";
import type { Action, Agent } from "../schemas/agent";
import type { CallEndedEvent } from "../schemas/call-event";
import { checkTargetUrl } from "../security/ssrf";
import { buildTemplateContext } from "../templates/context";
import { renderMessage } from "./execute";

export interface ActionPreview {
  index: number;
  type: Action["type"];
  /** ready: this is what would be sent; skipped/error: why nothing would be. */
  status: "ready" | "skipped" | "error";
  reason?: string;
  provider?: string;
  provider_choice?: string;
  message?: unknown;
  request?: unknown;
  sms?: { encoding: string; units: number; segments: number; summary: string };
}

const REDACTED = "[redacted]";
const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|AUTH_ID)$/;

/**
 * Removes every configured secret from a request before it is shown: Authorization-style
 * headers wholesale, and any secret value wherever else it appears (URL, body, other headers).
 */
export function redact(call: HttpCall, settings: Settings): HttpCall {
  const secrets = Object.entries(settings)
    .filter(([name, value]) => SECRET_NAME.test(name) && typeof value === "string" && value.length >= 4)
    .map(([, value]) => value as string)
    .sort((a, b) => b.length - a.length);
  const scrub = (text: string) => secrets.reduce((out, secret) => out.split(secret).join(REDACTED), text);
  const headers = Object.fromEntries(
    Object.entries(call.headers).map(([name, value]) => [name, /^(authorization|x-.*token)$/i.test(name) ? REDACTED : scrub(value)]),
  );
  return { method: call.method, url: scrub(call.url), headers, body: scrub(call.body) };
}

async function requestContext(agentId: string, callId: string, index: number, settings: Settings): Promise<RequestContext> {
  const id = await deliveryId(agentId, callId, index);
  return { delivery_id: id, idempotency_key: id, settings };
}

/**
 * Renders every action of an agent against a call and returns exactly what would be sent,
 * provider request included, without sending anything.
 */
export async function previewAgent(agent: Agent, event: CallEndedEvent, env: CloudflareBindings): Promise<ActionPreview[]> {
  const settings = env as unknown as Settings;
  const config = readConfig(env);
  const context = buildTemplateContext(event, agent, new Date().toISOString());
  const actions = agent.voice_tools.post_call_follow_up.actions;
  return Promise.all(
    actions.map(async (action, index): Promise<ActionPreview> => {
      const base = { index, type: action.type };
      if (action.type === "webhook") {
        const target = checkTargetUrl(action.url, { allowPrivate: config.allowPrivateTargets });
        if (!target.ok) return { ...base, status: "error", reason: target.reason };
        const secret = config.webhookSigningSecret;
        if (!secret) return { ...base, status: "error", reason: "WEBHOOK_SIGNING_SECRET is not set; webhooks are never sent unsigned" };
        const request = await webhookCall({
          url: target.url.toString(),
          body: JSON.stringify(webhookPayload(event, action)),
          id: await deliveryId(agent.id, event.call_id, index),
          secret,
          timestamp: Math.floor(Date.now() / 1000),
        });
        return { ...base, status: "ready", provider: "webhook", request };
      }
      const rendered = renderMessage(action, context, { settings, templates: agent.templates });
      if ("skip" in rendered) return { ...base, status: "skipped", reason: rendered.skip };
      const sms = rendered.kind === "sms" ? smsSegments((rendered.message as { body: string }).body) : undefined;
      const smsInfo = sms ? { sms: { ...sms, summary: describeSegments(sms) } } : {};
      const choice = chooseProvider(rendered.kind, action.provider, settings, env);
      if (!choice.ok) return { ...base, status: "error", reason: choice.error, message: rendered.message, ...smsInfo };
      const { provider } = choice;
      let request: unknown;
      try {
        request = isHttpProvider(provider)
          ? redact(await provider.buildRequest(rendered.message as never, await requestContext(agent.id, event.call_id, index, settings)), settings)
          : provider.describe(rendered.message as never);
      } catch (err) {
        return { ...base, status: "error", reason: `${provider.name}: ${err instanceof Error ? err.message : String(err)}`, message: rendered.message };
      }
      return { ...base, status: "ready", provider: provider.name, provider_choice: choice.why, message: rendered.message, request, ...smsInfo };
    }),
  );
}
