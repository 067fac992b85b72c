import { classifyStatus, parseRetryAfter } from "../pipeline/retry-policy";
import type { WebhookAction } from "../schemas/agent";
import type { CallEndedEvent } from "../schemas/call-event";
import { checkTargetUrl } from "../security/ssrf";
import { signWebhook, webhookHeaders } from "../security/standard-webhooks";
import type { SendResult } from "./types";

export const WEBHOOK_TIMEOUT_MS = 10_000;
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

export interface WebhookRequest {
  url: string;
  body: string;
  /** The delivery id: the same across every retry of this delivery (`webhook-id`). */
  id: string;
  secret: string | undefined;
  allowPrivate: boolean;
  fetch: typeof fetch;
  now?: () => number;
}

/** POSTs one signed webhook and classifies the answer. Never throws. */
export async function sendWebhook(req: WebhookRequest): Promise<SendResult> {
  // Checked again at send time: the config may predate a tightened ALLOW_PRIVATE_TARGETS.
  const target = checkTargetUrl(req.url, { allowPrivate: req.allowPrivate });
  if (!target.ok) return { outcome: "failed", error: target.reason };
  if (!req.secret) {
    // A deployment without its signing secret is fixed by setting it; keep the delivery until then.
    return { outcome: "retry", error: "WEBHOOK_SIGNING_SECRET is not set; webhooks are never sent unsigned" };
  }
  const timestamp = Math.floor((req.now?.() ?? Date.now()) / 1000);
  const signature = await signWebhook({ secret: req.secret, id: req.id, timestamp, body: req.body });
  let response: Response;
  try {
    response = await req.fetch(target.url.toString(), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "callrelay-webhooks/1",
        ...webhookHeaders(req.id, timestamp, signature),
      },
      body: req.body,
      // A redirect would carry the signed body somewhere that was never checked.
      redirect: "manual",
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    return {
      outcome: "retry",
      error: timedOut ? `no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s` : `network error: ${errorMessage(err)}`,
    };
  }
  const excerpt = await readExcerpt(response);
  const outcome = classifyStatus(response.status);
  return {
    outcome,
    status_code: response.status,
    response_body: excerpt,
    ...(outcome === "delivered" ? {} : { error: `HTTP ${response.status}${excerpt ? `: ${excerpt.slice(0, 200)}` : ""}` }),
    retry_after_seconds: outcome === "retry" ? parseRetryAfter(response.headers.get("retry-after"), Date.now()) : undefined,
  };
}

/** Reads at most the first KiB of a response and releases the rest. */
async function readExcerpt(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body that breaks off mid-way still leaves us the status, which is what matters.
  } finally {
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  return new TextDecoder().decode(bytes.subarray(0, RESPONSE_EXCERPT_BYTES));
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
