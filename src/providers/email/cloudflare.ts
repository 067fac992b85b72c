import { EmailMessage } from "cloudflare:email";
import type { DirectProvider, SendResult } from "../types";
import { parseMailbox, senderOf } from "./address";
import { buildMime, domainOf } from "./mime";

const BINDING = "SEND_EMAIL";

/** The part of a `send_email` binding we use. */
interface SendEmailBinding {
  send(message: EmailMessage): Promise<{ messageId?: string } | void>;
}

/**
 * The SEND_EMAIL binding, if the deployment declares one (`[[send_email]] name = "SEND_EMAIL"`).
 * Our wrangler.toml does not, so it is absent from the generated env type.
 */
export function sendEmailBinding(env: CloudflareBindings): SendEmailBinding | undefined {
  const binding = (env as unknown as Record<string, unknown>)[BINDING] as { send?: unknown } | undefined;
  return binding && typeof binding.send === "function" ? (binding as SendEmailBinding) : undefined;
}

/**
 * Errors that will not change on retry: the destination or sender is not verified / allowed
 * for this binding, or the message itself was refused as malformed.
 */
export const isPermanentSendError = (reason: string) =>
  /not (a )?verified|unverified|not allowed|not permitted|could not parse|invalid (message-id|headers)|does not match/i.test(reason);

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
  requires: ["EMAIL_FROM"],
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
      const sender = parseMailbox(senderOf(message, ctx.settings));
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
      return { outcome: "delivered", provider_id: (result && result.messageId) || messageId };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      return { outcome: isPermanentSendError(reason) ? "failed" : "retry", error: `cloudflare send_email: ${reason}` };
    }
  },
};
