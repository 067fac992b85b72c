import { readConfig } from "../config";
import { deliveryId, skipReason } from "../ledger/plan";
import { describeSegments } from "../providers/sms/segments";
import { redact } from "../providers/redact";
import { settingsOf } from "../providers/settings";
import { isHttpProvider } from "../providers/types";
import { webhookCall, webhookPayload, webhookReadiness, webhookSigningSecrets } from "../providers/webhook";
import type { Action, Agent } from "../schemas/agent";
import type { CallEndedEvent } from "../schemas/call-event";
import { buildTemplateContext } from "../templates/context";
import { prepareMessage } from "./execute";

export interface ActionPreview {
  index: number;
  type: Action["type"];
  /**
   * ready: this is what would be sent; skipped/error: why nothing would be; disabled: what
   * would be sent, but the agent's follow-up is off so nothing will run.
   */
  status: "ready" | "skipped" | "error" | "disabled";
  reason?: string;
  provider?: string;
  provider_choice?: string;
  message?: unknown;
  request?: unknown;
  sms?: { encoding: string; units: number; segments: number; summary: string };
}

/**
 * Renders every action of an agent against a call and returns exactly what would be sent,
 * provider request included, without sending anything.
 */
export async function previewAgent(agent: Agent, event: CallEndedEvent, env: CloudflareBindings): Promise<ActionPreview[]> {
  const settings = settingsOf(env);
  const config = readConfig(env);
  const context = buildTemplateContext(event, agent, new Date().toISOString(), config.defaultCountry);
  const { actions, enabled } = agent.voice_tools.post_call_follow_up;
  const previews = await Promise.all(
    actions.map(async (action, index): Promise<ActionPreview> => {
      const base = { index, type: action.type };
      const id = await deliveryId(agent.id, event.call_id, index);
      if (action.type === "webhook") {
        // Signed exactly as a send would be: the agent's own secrets while it has any.
        const { secrets } = await webhookSigningSecrets(env, agent.id);
        const ready = webhookReadiness(action.url, secrets, config.allowPrivateTargets);
        if (!ready.ok) return { ...base, status: "error", reason: ready.result.error ?? "not sendable" };
        const body = JSON.stringify(webhookPayload(event, action));
        const request = await webhookCall({ url: ready.url, body, id, secrets: ready.secrets, timestamp: Math.floor(Date.now() / 1000) });
        return { ...base, status: "ready", provider: "webhook", request };
      }
      const prepared = prepareMessage(action, context, agent.templates, env);
      const sms = prepared.sms ? { sms: { ...prepared.sms, summary: describeSegments(prepared.sms) } } : {};
      if (prepared.status !== "ready") return { ...base, status: prepared.status, reason: prepared.reason, message: prepared.message, ...sms };
      const { provider, message } = prepared;
      let request: unknown;
      try {
        request = isHttpProvider(provider)
          ? redact(await provider.buildRequest(message, { delivery_id: id, idempotency_key: id, settings }), settings)
          : provider.describe(message);
      } catch (err) {
        return { ...base, status: "error", reason: `${provider.name}: ${err instanceof Error ? err.message : String(err)}`, message };
      }
      return { ...base, status: "ready", provider: provider.name, provider_choice: prepared.why, message, request, ...sms };
    }),
  );
  return previews.map((preview, index) => whetherItRuns(preview, actions[index]!, enabled, event.outcome));
}

/** A preview marked for what the call would really run: nothing while disabled, nothing `when` excludes. */
function whetherItRuns(preview: ActionPreview, action: Action, enabled: boolean, outcome: string | null | undefined): ActionPreview {
  if (!enabled) return { ...preview, status: "disabled", reason: DISABLED_WARNING };
  const skip = skipReason(action, outcome);
  return skip && preview.status === "ready" ? { ...preview, status: "skipped", reason: skip } : preview;
}

/** Said when an agent with actions is saved disabled, and on each action of its preview. */
export const DISABLED_WARNING = "follow-up is disabled: no action will run";

/** What is worth telling whoever saves this agent, though the config is valid. */
export function agentWarnings(agent: Agent): string[] {
  const { enabled, actions } = agent.voice_tools.post_call_follow_up;
  return !enabled && actions.length > 0 ? [`${DISABLED_WARNING} (set voice_tools.post_call_follow_up.enabled to true)`] : [];
}
