import { readConfig } from "../config";
import { countryCode, normalisePhone } from "../lib/phone";
import type { Claim } from "../ledger/call-ledger";
import type { Action, EmailTemplate } from "../schemas/agent";
import { sendHttp } from "../providers/http";
import { chooseProvider } from "../providers/registry";
import { settingsOf } from "../providers/settings";
import { type SmsSegments, describeSegments, smsSegments } from "../providers/sms/segments";
import { type MessageKind, type Outgoing, type Provider, type SendContext, type SendResult, type Settings, isHttpProvider } from "../providers/types";
import { sendWebhook, webhookPayload, webhookSigningSecrets } from "../providers/webhook";
import { atMostOnce } from "./decide";
import { buildTemplateContext, phoneCountryOf, type TemplateContext } from "../templates/context";
import { builtinTemplate } from "../templates/builtin";
import { renderTemplate } from "../templates/render";

type Claimed = Extract<Claim, { ok: true }>;

export interface ExecuteDeps {
  fetch: typeof fetch;
}

/** What the attempt tells the ledger while it runs. */
export interface AttemptHooks {
  /**
   * Called right before a request goes to a provider that cannot deduplicate; resolves once
   * the ledger has durably marked the attempt in flight. If it throws, nothing is sent.
   */
  beforeSend(provider: string): Promise<void>;
}

/** One attempt's result, and how long the provider remembers the idempotency key it used. */
export interface AttemptResult {
  result: SendResult;
  keyWindowSeconds?: number;
}

/** A message ready for its provider, or the reason there is nothing to send. */
export type Rendered<K extends MessageKind = MessageKind> =
  | { kind: K; message: Outgoing[K] }
  | { kind: K; skip: string };

/**
 * A value that ends up in a header or an address field: line breaks would let a caller's
 * data add headers or recipients, so they become spaces.
 */
export const singleLine = (value: string) => value.replace(/[\r\n\u2028\u2029]+/g, " ").trim();

/**
 * Renders an email, SMS or task action into the message its provider receives.
 * Pure: the same claim always renders the same message.
 */
export function renderMessage(
  action: Exclude<Action, { type: "webhook" }>,
  context: TemplateContext,
  options: { settings?: Settings; templates?: Record<string, EmailTemplate> } = {},
): Rendered {
  const settings = options.settings ?? {};
  switch (action.type) {
    case "sms": {
      const to = singleLine(renderTemplate(action.to ?? "{{caller_number}}", context, "text"));
      if (!to) return { kind: "sms", skip: "no recipient: the call has no caller number" };
      // Only a real number is sent to, in E.164; a number without + is read in the agent's
      // (else the deployment's) default country.
      const phone = normalisePhone(to, phoneCountryOf(context) ?? countryCode(settings.DEFAULT_COUNTRY));
      if (!phone.ok) return { kind: "sms", skip: `recipient is not a valid phone number: ${phone.reason}` };
      return { kind: "sms", message: { to: phone.e164, body: renderTemplate(action.template, context, "text") } };
    }
    case "email": {
      const to = singleLine(renderTemplate(action.to, context, "text"));
      if (!to) return { kind: "email", skip: `no recipient: "${action.to}" rendered empty` };
      if (/[,;]/.test(to)) return { kind: "email", skip: `one recipient per action: "${to}" names several` };
      const subject = singleLine(renderTemplate(action.subject, context, "text"));
      const from = settings.EMAIL_FROM ? singleLine(settings.EMAIL_FROM) : undefined;
      // An agent's own template of the same name wins over the built-in one.
      const named = action.body_template
        ? (options.templates?.[action.body_template] ?? builtinTemplate(action.body_template))
        : undefined;
      const body = named
        ? { html: renderTemplate(named.html, context, "html"), text: renderTemplate(named.text, context, "text") }
        : { text: renderTemplate(action.body ?? "", context, "text") };
      return { kind: "email", message: { ...(from ? { from } : {}), to, subject, ...body } };
    }
    case "task": {
      const message = {
        title: singleLine(renderTemplate(action.title, context, "text")),
        ...(action.notes ? { notes: renderTemplate(action.notes, context, "text") } : {}),
        ...(action.due_in_days !== undefined ? { due_date: dueDate(String(context.date), action.due_in_days) } : {}),
      };
      return { kind: "task", message };
    }
  }
}

/**
 * Runs one attempt of one claimed action. Never throws for anything the outside world does,
 * nor for a template that cannot be rendered: that is a permanent failure with its message.
 */
export async function executeAction(claim: Claimed, env: CloudflareBindings, deps: ExecuteDeps, hooks: AttemptHooks): Promise<AttemptResult> {
  const { action, event } = claim;
  const config = readConfig(env);
  if (action.type === "webhook") {
    // Receivers deduplicate on webhook-id (Standard Webhooks), so no in-flight mark is needed.
    // The secrets are read per attempt, so a rotation applies to retries as well.
    const { secrets } = await webhookSigningSecrets(env, claim.agent.id);
    const result = await sendWebhook({
      url: action.url,
      // An outbound call's callback carries the body its object built; any other webhook the call.
      body: JSON.stringify("payload" in action ? action.payload : webhookPayload(event, action)),
      id: claim.delivery_id,
      secrets,
      allowPrivate: config.allowPrivateTargets,
      fetch: deps.fetch,
    });
    return { result };
  }
  const settings = settingsOf(env);
  let prepared: Prepared;
  try {
    const context = buildTemplateContext(event, claim.agent, claim.received_at, config.defaultCountry);
    prepared = prepareMessage(action, context, claim.agent.templates, env);
  } catch (err) {
    // A stored template that no longer renders fails the same way on every retry.
    return { result: { outcome: "failed", error: err instanceof Error ? err.message : String(err) } };
  }
  if (prepared.status !== "ready") {
    return { result: { outcome: prepared.status === "skipped" ? "skipped" : "failed", error: prepared.reason } };
  }
  const { provider } = prepared;
  const ctx: SendContext = {
    delivery_id: claim.delivery_id,
    idempotency_key: claim.idempotency_key,
    call_id: event.call_id,
    agent_id: claim.agent.id,
    env,
    settings,
    fetch: deps.fetch,
  };
  if (!provider.dedupes) await hooks.beforeSend(provider.name);
  const answer = atMostOnce(await sendWith(provider, prepared.message, ctx), provider, action.resend_on_unknown === true);
  const sent = { ...answer, provider: provider.name };
  const result = prepared.sms ? { ...sent, detail: describeSegments(prepared.sms) } : sent;
  return { result, keyWindowSeconds: provider.idempotencyWindowSeconds };
}

export type Prepared =
  | { status: "skipped" | "error"; reason: string; message?: unknown; sms?: SmsSegments }
  | { status: "ready"; provider: Provider<MessageKind>; why: string; message: Outgoing[MessageKind]; sms?: SmsSegments };

/**
 * Renders an email, SMS or task action and picks its provider: the one step that sending
 * and previewing share, so a preview shows exactly what a send would do.
 */
export function prepareMessage(
  action: Exclude<Action, { type: "webhook" }>,
  context: TemplateContext,
  templates: Record<string, EmailTemplate>,
  env: CloudflareBindings,
): Prepared {
  const settings = settingsOf(env);
  const rendered = renderMessage(action, context, { settings, templates });
  if ("skip" in rendered) return { status: "skipped", reason: rendered.skip };
  const sms = rendered.kind === "sms" ? smsSegments((rendered.message as Outgoing["sms"]).body) : undefined;
  const choice = chooseProvider(rendered.kind, action.provider, settings, env);
  if (!choice.ok) return { status: "error", reason: choice.error, message: rendered.message, sms };
  return { status: "ready", provider: choice.provider, why: choice.why, message: rendered.message, sms };
}

function sendWith<K extends MessageKind>(provider: Provider<K>, message: Outgoing[K], ctx: SendContext): Promise<SendResult> {
  return isHttpProvider(provider) ? sendHttp(provider, message, ctx) : provider.send(message, ctx);
}

function dueDate(from: string, days: number): string {
  const base = /^\d{4}-\d{2}-\d{2}$/.test(from) ? new Date(`${from}T00:00:00Z`) : new Date();
  base.setUTCDate(base.getUTCDate() + days);
  return base.toISOString().slice(0, 10);
}
