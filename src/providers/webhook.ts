import { readConfig } from "../config";
import { classifyStatus, parseRetryAfter } from "../lib/http-status";
import type { WebhookAction } from "../schemas/agent";
import type { CallEndedEvent } from "../schemas/call-event";
import { checkTargetUrl } from "../security/ssrf";
import type { SigningSecrets } from "../security/signing-secrets";
import { signatureHeader, webhookHeaders } from "../security/standard-webhooks";
import { AgentSecretStore } from "../store/agent-secrets";
import { exchange } from "./http";
import type { HttpCall, SendResult } from "./types";

/** The log keeps the first KiB of a receiver's answer; nothing more is read. */
const RESPONSE_EXCERPT_BYTES = 1024;

/** The body a CRM receives: the seed's payload, with transcript and recording only on request. */
export function webhookPayload(event: CallEndedEvent, action: WebhookAction) {
  return {
    event: "post_call_follow_up" as const,
    call_id: event.call_id,
    agent_id: event.agent_id,
    caller_number: event.caller_number ?? null,
    duration_seconds: event.duration_seconds ?? null,
    summary: event.summary ?? null,
    ...(action.include_transcript ? { transcript: event.transcript ?? null } : {}),
    ...(action.include_recording_url ? { recording_url: event.recording_url ?? null } : {}),
    metadata: event.metadata ?? {},
  };
}

/**
 * The secrets that sign an agent's webhook now: the agent's own while it has any, else
 * WEBHOOK_SIGNING_SECRET's. Sending and previewing both ask here, at the moment they sign.
 */
export function webhookSigningSecrets(env: CloudflareBindings, agentId: string, now = new Date()): Promise<SigningSecrets> {
  return new AgentSecretStore(env.DB).signingSecrets(agentId, readConfig(env).webhookSigningSecrets, now);
}

/**
 * The signed request for one attempt: `webhook-id` is the delivery id (the same across
 * every retry), the timestamp and signature are the attempt's own. Each secret adds its own
 * `v1,` entry to `webhook-signature`.
 */
export async function webhookCall(input: { url: string; body: string; id: string; secrets: readonly string[]; timestamp: number }): Promise<HttpCall> {
  const { url, body, id, secrets, timestamp } = input;
  const signature = await signatureHeader({ secrets, id, timestamp, body });
  return {
    method: "POST",
    url,
    headers: { "content-type": "application/json", "user-agent": "callrelay-webhooks/1", ...webhookHeaders(id, timestamp, signature) },
    body,
  };
}

export interface WebhookRequest {
  url: string;
  body: string;
  /** The delivery id: the same across every retry of this delivery (`webhook-id`). */
  id: string;
  /** Every secret that signs this webhook (see AgentSecretStore.signingSecrets); may be empty. */
  secrets: readonly string[];
  allowPrivate: boolean;
  fetch: typeof fetch;
  now?: () => number;
}

/**
 * Whether a webhook may be sent now. The target is checked again at send time: the config
 * may predate a tightened ALLOW_PRIVATE_TARGETS.
 */
export function webhookReadiness(
  url: string,
  secrets: readonly string[],
  allowPrivate: boolean,
): { ok: true; url: string; secrets: readonly string[] } | { ok: false; result: SendResult } {
  const target = checkTargetUrl(url, { allowPrivate });
  if (!target.ok) return { ok: false, result: { outcome: "failed", error: target.reason } };
  if (secrets.length === 0) {
    // A deployment without its signing secret is fixed by setting it; keep the delivery until then.
    return { ok: false, result: { outcome: "retry", error: "WEBHOOK_SIGNING_SECRET is not set; webhooks are never sent unsigned" } };
  }
  return { ok: true, url: target.url.toString(), secrets };
}

/** POSTs one signed webhook and classifies the answer. Never throws. */
export async function sendWebhook(req: WebhookRequest): Promise<SendResult> {
  const ready = webhookReadiness(req.url, req.secrets, req.allowPrivate);
  if (!ready.ok) return ready.result;
  const timestamp = Math.floor((req.now?.() ?? Date.now()) / 1000);
  const call = await webhookCall({ url: ready.url, body: req.body, id: req.id, secrets: ready.secrets, timestamp });
  const sent = await exchange(call, req.fetch, RESPONSE_EXCERPT_BYTES);
  if (!sent.ok) return sent.result;
  const { status, headers, body } = sent.answer;
  const outcome = classifyStatus(status);
  return {
    outcome,
    status_code: status,
    response_body: body,
    ...(outcome === "delivered" ? {} : { error: `HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ""}` }),
    retry_after_seconds: outcome === "retry" ? parseRetryAfter(headers.get("retry-after"), Date.now()) : undefined,
  };
}
