import { readConfig } from "../config";
import type { Claim } from "../ledger/call-ledger";
import type { Action } from "../schemas/agent";
import { outboxProvider } from "../providers/outbox";
import type { MessageKind, Outgoing, Provider, SendContext, SendResult } from "../providers/types";
import { sendWebhook, webhookPayload } from "../providers/webhook";
import { buildTemplateContext, type TemplateContext } from "../templates/context";
import { builtinTemplate } from "../templates/builtin";
import { renderTemplate } from "../templates/render";

type Claimed = Extract<Claim, { ok: true }>;

export interface ExecuteDeps {
  fetch: typeof fetch;
}

/** A message ready for its provider, or the reason there is nothing to send. */
export type Rendered<K extends MessageKind = MessageKind> =
  | { kind: K; message: Outgoing[K] }
  | { kind: K; skip: string };

/**
 * Renders an email, SMS or task action into the message its provider receives.
 * Pure: the same claim always renders the same message.
 */
export function renderMessage(action: Exclude<Action, { type: "webhook" }>, context: TemplateContext): Rendered {
  switch (action.type) {
    case "sms": {
      const to = renderTemplate(action.to ?? "{{caller_number}}", context, "text").trim();
      if (!to) return { kind: "sms", skip: "no recipient: the call has no caller number" };
      return { kind: "sms", message: { to, body: renderTemplate(action.template, context, "text") } };
    }
    case "email": {
      const to = renderTemplate(action.to, context, "text").trim();
      if (!to) return { kind: "email", skip: `no recipient: "${action.to}" rendered empty` };
      const subject = renderTemplate(action.subject, context, "text");
      const builtin = action.body_template ? builtinTemplate(action.body_template) : undefined;
      const message = builtin
        ? { to, subject, html: renderTemplate(builtin.html, context, "html"), text: renderTemplate(builtin.text, context, "text") }
        : { to, subject, text: renderTemplate(action.body ?? "", context, "text") };
      return { kind: "email", message };
    }
    case "task": {
      const message = {
        title: renderTemplate(action.title, context, "text"),
        ...(action.notes ? { notes: renderTemplate(action.notes, context, "text") } : {}),
        ...(action.due_in_days !== undefined ? { due_date: dueDate(String(context.date), action.due_in_days) } : {}),
      };
      return { kind: "task", message };
    }
  }
}

/** The provider for a kind of message. Only the outbox exists so far; real services plug in here. */
export function selectProvider<K extends MessageKind>(kind: K, _action: Action): Provider<K> {
  return outboxProvider(kind);
}

/** Runs one attempt of one claimed action. Never throws for anything the outside world does. */
export async function executeAction(claim: Claimed, env: CloudflareBindings, deps: ExecuteDeps): Promise<SendResult> {
  const { action, event } = claim;
  const config = readConfig(env);
  if (action.type === "webhook") {
    return sendWebhook({
      url: action.url,
      body: JSON.stringify(webhookPayload(event, action)),
      id: claim.delivery_id,
      secret: config.webhookSigningSecret,
      allowPrivate: config.allowPrivateTargets,
      fetch: deps.fetch,
    });
  }
  const context = buildTemplateContext(event, claim.agent, claim.received_at);
  const rendered = renderMessage(action, context);
  if ("skip" in rendered) return { outcome: "skipped", error: rendered.skip };
  const ctx: SendContext = {
    delivery_id: claim.delivery_id,
    call_id: event.call_id,
    agent_id: claim.agent.id,
    env,
    fetch: deps.fetch,
  };
  const provider = selectProvider(rendered.kind, action) as Provider<typeof rendered.kind>;
  return provider.send(rendered.message, ctx);
}

function dueDate(from: string, days: number): string {
  const base = /^\d{4}-\d{2}-\d{2}$/.test(from) ? new Date(`${from}T00:00:00Z`) : new Date();
  base.setUTCDate(base.getUTCDate() + days);
  return base.toISOString().slice(0, 10);
}
