import { EmailMessage } from "cloudflare:email";
import { z } from "zod";
import { readSettings } from "../settings";
import type { DirectProvider, SendResult } from "../types";
import { EMAIL_FROM, parseMailbox, senderOf } from "./address";
import { buildMime, domainOf } from "./mime";

const BINDING = "SEND_EMAIL";

/** The part of a `send_email` binding we use. */
interface SendEmailBinding {
  send(message: EmailMessage): Promise<{ messageId?: string } | undefined>;
}

/**
 * The SEND_EMAIL binding, if the deployment declares one (`[[send_email]] name = "SEND_EMAIL"`).
 * Our wrangler.toml does not, so it is absent from the generated env type.
 */
export function sendEmailBinding(env: CloudflareBindings): SendEmailBinding | undefined {
  const binding = (env as unknown as Record<string, unknown>)[BINDING] as { send?: unknown } | undefined;
  return binding && typeof binding.send === "function" ? (binding as SendEmailBinding) : undefined;
}

export const CLOUDFLARE_SETTINGS = z.object({ EMAIL_FROM });

/**
 * Codes of the binding's errors (Email Service, "Workers API" error codes) that the same
 * message will meet again on retry: a suppressed, unverified or disallowed address, a
 * sender domain not set up for sending, or a message refused as malformed or too large.
 * Every other code (rate and daily limits, delivery failures, internal errors) is retried.
 * An error without a code is no answer from the service: the message may have gone out, so
 * (send_email cannot deduplicate) it ends unknown unless the action sets resend_on_unknown.
 */
export const PERMANENT_SEND_ERRORS: ReadonlySet<string> = new Set([
  "E_RECIPIENT_SUPPRESSED",
  "E_VALIDATION_ERROR",
  "E_FIELD_MISSING",
  "E_CONTENT_TOO_LARGE",
  "E_SENDER_DOMAIN_NOT_AVAILABLE",
  "E_RECIPIENT_NOT_ALLOWED",
]);

/** Reads a thrown binding error by its `code` property, never by its wording. */
export function classifySendError(err: unknown): SendResult {
  const code = typeof (err as { code?: unknown } | null)?.code === "string" ? (err as { code: string }).code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  const outcome = code !== undefined && PERMANENT_SEND_ERRORS.has(code) ? "failed" : "retry";
  return { outcome, error: `cloudflare send_email${code ? ` ${code}` : ""}: ${message}`, ...(code === undefined ? { may_have_arrived: true } : {}) };
}

// Delivery ids are `dlv_<hex>`; kept to safe chars and RFC 2046's 70-char boundary limit regardless.
const token = (id: string) => id.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 60) || "callrelay";

// An envelope address must be a bare addr-spec: no display name, spaces or brackets.
const isAddrSpec = (address: string) => /^[^\s<>@]+@[^\s<>@]+$/.test(address);

/**
 * Cloudflare Email Workers' send_email binding: builds the MIME message itself and hands it
 * to Cloudflare, which only delivers to destinations the account allows (with Email Routing,
 * its verified destination addresses).
 */
export const cloudflareEmail: DirectProvider<"email"> = {
  name: "cloudflare",
  kind: "email",
  dedupes: false,
  settings: CLOUDFLARE_SETTINGS,
  available: (env) => sendEmailBinding(env) !== undefined,
  describe: (message) => ({ binding: BINDING, from: message.from, to: message.to, subject: message.subject }),
  async send(message, ctx): Promise<SendResult> {
    const binding = sendEmailBinding(ctx.env);
    if (!binding) return { outcome: "failed", error: `cloudflare: no ${BINDING} binding; add [[send_email]] name = "${BINDING}" to wrangler.toml` };
    let raw: string;
    let from: string;
    let to: string;
    let messageId: string;
    try {
      const sender = parseMailbox(senderOf(message, readSettings(CLOUDFLARE_SETTINGS, ctx.settings).EMAIL_FROM));
      const recipient = parseMailbox(message.to);
      if (!isAddrSpec(sender.email)) throw new Error(`sender "${sender.email}" is not an email address`);
      if (!isAddrSpec(recipient.email)) throw new Error(`recipient "${recipient.email}" is not an email address`);
      from = sender.email;
      to = recipient.email;
      // From the delivery id, so every retry carries the same Message-ID and a receiver that
      // got an earlier attempt can drop the duplicate.
      messageId = `${token(ctx.idempotency_key)}@${domainOf(from)}`;
      raw = buildMime({
        from: sender,
        to: recipient,
        subject: message.subject,
        text: message.text,
        ...(message.html !== undefined ? { html: message.html } : {}),
        messageId,
        date: Date.now(),
        boundary: `=_alt_${token(ctx.delivery_id)}`,
      });
    } catch (err) {
      return { outcome: "failed", error: `cloudflare: ${err instanceof Error ? err.message : String(err)}` };
    }
    try {
      const result = await binding.send(new EmailMessage(from, to, raw));
      return { outcome: "delivered", provider_id: result?.messageId || messageId };
    } catch (err) {
      return classifySendError(err);
    }
  },
};
