import { readConfig } from "../config";
import { exchange, sendHttp } from "../providers/http";
import { chooseProvider } from "../providers/registry";
import { settingsOf } from "../providers/settings";
import { type SendContext, type SendResult, isHttpProvider } from "../providers/types";
import { webhookCall } from "../providers/webhook";
import { checkTargetUrl } from "../security/ssrf";
import { AlertWindows } from "../store/alerts";

/** At most one notice per target per this long. */
export const ALERT_WINDOW_SECONDS = 600;

/** The delivery whose final failure triggers the alert. */
export interface FailedDelivery {
  delivery_id: string;
  agent_id: string;
  call_id: string;
  action_type: string;
  /** Webhook URL or provider target, as the delivery log shows it; null for tasks. */
  target: string | null;
  outcome: "failed" | "gone";
  status_code?: number;
  error?: string;
  at: number;
}

/** The body of an alert: what failed for one target since its previous notice. */
export interface AlertNotice {
  event: "delivery_failures";
  id: string;
  target: string;
  window_seconds: number;
  /** From the previous notice (or null for the target's first) to now. */
  since: string | null;
  until: string;
  counts: { failed: number; gone: number; total: number };
  latest: {
    delivery_id: string;
    agent_id: string;
    call_id: string;
    action_type: string;
    status: "failed" | "gone";
    status_code: number | null;
    error: string | null;
  };
  /** No further notice for this target before then; failures until then are counted into it. */
  next_notice_after: string;
}

/** Targets are grouped as the log shows them; a task (no target) by its action type. */
export const alertKey = (d: Pick<FailedDelivery, "target" | "action_type">) => d.target ?? `(${d.action_type})`;

async function noticeId(key: string, windowStart: number): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  const short = [...new Uint8Array(digest).slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `alert_${short}_${windowStart}`;
}

/**
 * Counts a delivery that failed for good against its target's window and, when that opens a
 * new window, sends the notice to ALERT_WEBHOOK_URL and/or ALERT_EMAIL. Best effort: never
 * throws, and nothing it does touches the delivery; failures are logged.
 */
export async function alertOnFinalFailure(
  env: CloudflareBindings,
  fetcher: typeof fetch,
  failed: FailedDelivery,
): Promise<{ sent: string[]; notice: AlertNotice | null }> {
  try {
    const config = readConfig(env);
    if (!config.alertWebhookUrl && !config.alertEmail) return { sent: [], notice: null };
    const key = alertKey(failed);
    const window = await new AlertWindows(env.DB).count(key, failed.outcome, failed.at, ALERT_WINDOW_SECONDS * 1000);
    if (!window.notify) return { sent: [], notice: null };
    const notice: AlertNotice = {
      event: "delivery_failures",
      id: await noticeId(key, window.windowStart),
      target: key,
      window_seconds: ALERT_WINDOW_SECONDS,
      since: window.previousStart === null ? null : new Date(window.previousStart).toISOString(),
      until: new Date(failed.at).toISOString(),
      counts: { failed: window.failed, gone: window.gone, total: window.failed + window.gone },
      latest: {
        delivery_id: failed.delivery_id,
        agent_id: failed.agent_id,
        call_id: failed.call_id,
        action_type: failed.action_type,
        status: failed.outcome,
        status_code: failed.status_code ?? null,
        error: failed.error ?? null,
      },
      next_notice_after: new Date(window.windowStart + ALERT_WINDOW_SECONDS * 1000).toISOString(),
    };
    const sent: string[] = [];
    const tasks: Promise<void>[] = [];
    if (config.alertWebhookUrl) {
      const url = config.alertWebhookUrl;
      tasks.push(
        sendAlertWebhook(url, notice, config.webhookSigningSecrets, config.allowPrivateTargets, fetcher).then((r) => {
          if (r.ok) sent.push("webhook");
          else console.error("alerts: webhook notice not delivered", { id: notice.id, target: key, error: r.error });
        }),
      );
    }
    if (config.alertEmail) {
      const to = config.alertEmail;
      tasks.push(
        sendAlertEmail(env, to, notice, fetcher).then((r) => {
          if (r.outcome === "delivered") sent.push("email");
          else console.error("alerts: email notice not delivered", { id: notice.id, target: key, error: r.error });
        }),
      );
    }
    await Promise.all(tasks);
    return { sent, notice };
  } catch (err) {
    console.error("alerts: could not raise an alert", { delivery_id: failed.delivery_id, error: String(err) });
    return { sent: [], notice: null };
  }
}

/** POSTs the notice, signed per Standard Webhooks with WEBHOOK_SIGNING_SECRET; never unsigned, never to a refused address. */
export async function sendAlertWebhook(
  url: string,
  notice: AlertNotice,
  secrets: readonly string[],
  allowPrivate: boolean,
  fetcher: typeof fetch,
): Promise<{ ok: true } | { ok: false; error: string }> {
  const target = checkTargetUrl(url, { allowPrivate });
  if (!target.ok) return { ok: false, error: `ALERT_WEBHOOK_URL refused: ${target.reason}` };
  if (secrets.length === 0) return { ok: false, error: "WEBHOOK_SIGNING_SECRET is not set; alerts are never sent unsigned" };
  const call = await webhookCall({
    url: target.url.toString(),
    body: JSON.stringify(notice),
    id: notice.id,
    secrets,
    timestamp: Math.floor(Date.now() / 1000),
  });
  const sent = await exchange(call, fetcher, 1024);
  if (!sent.ok) return { ok: false, error: sent.result.error ?? "no answer" };
  const { status } = sent.answer;
  return status >= 200 && status < 300 ? { ok: true } : { ok: false, error: `HTTP ${status}` };
}

/** The notice as plain text, for email. */
export function alertText(n: AlertNotice): { subject: string; text: string } {
  const what = [n.counts.failed ? `${n.counts.failed} failed` : "", n.counts.gone ? `${n.counts.gone} gone` : ""].filter(Boolean).join(", ");
  const lines = [
    `Deliveries to ${n.target} stopped for good: ${what}${n.since ? ` since ${n.since}` : ""}.`,
    "",
    `Latest: ${n.latest.delivery_id} (${n.latest.action_type}, agent ${n.latest.agent_id}, call ${n.latest.call_id})`,
    `Status: ${n.latest.status}${n.latest.status_code ? ` (HTTP ${n.latest.status_code})` : ""}`,
    `Error: ${n.latest.error ?? "none given"}`,
    "",
    `No further alert for this target before ${n.next_notice_after}; failures until then are counted into the next.`,
    "Replay them with POST /deliveries/retry once the target is fixed.",
  ];
  return { subject: `callrelay: deliveries to ${n.target} are failing (${what})`, text: lines.join("\n") };
}

/** Sends the notice through the deployment's email provider, as an email action with no provider named would. */
export async function sendAlertEmail(env: CloudflareBindings, to: string, notice: AlertNotice, fetcher: typeof fetch): Promise<SendResult> {
  const settings = settingsOf(env);
  const choice = chooseProvider("email", undefined, settings, env);
  if (!choice.ok) return { outcome: "failed", error: choice.error };
  const message = { to, ...alertText(notice) };
  const ctx: SendContext = {
    delivery_id: notice.id,
    idempotency_key: notice.id,
    call_id: notice.latest.call_id,
    agent_id: notice.latest.agent_id,
    env,
    settings,
    fetch: fetcher,
  };
  const provider = choice.provider;
  return isHttpProvider(provider) ? sendHttp(provider, message, ctx) : provider.send(message, ctx);
}
