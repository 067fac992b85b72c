import { baseUrl, classifyAnswer, jsonOf, setting } from "../http";
import type { EmailMessage, HttpAnswer, HttpProvider, SendResult, Settings } from "../types";
import { USER_AGENT, parseMailbox, plainError, senderOf } from "./address";

const US_BASE = "https://api.sendgrid.com";
/** EU data residency: EU-pinned subusers must use this host (and an API key made for it). */
const EU_BASE = "https://api.eu.sendgrid.com";

/** SENDGRID_BASE_URL if set, else the EU host when SENDGRID_REGION=eu, else the global one. */
export const sendgridBase = (settings: Settings) =>
  baseUrl(settings, "sendgrid", settings.SENDGRID_REGION?.trim().toLowerCase() === "eu" ? EU_BASE : US_BASE);

/** The JSON body of SendGrid's v3 `POST /v3/mail/send`. */
export function sendgridBody(message: EmailMessage, from: string, deliveryId: string) {
  const sender = parseMailbox(from);
  return {
    personalizations: [{ to: [{ email: parseMailbox(message.to).email }] }],
    from: sender.name ? { email: sender.email, name: sender.name } : { email: sender.email },
    subject: message.subject,
    // SendGrid requires text/plain before text/html.
    content: [
      { type: "text/plain", value: message.text },
      ...(message.html !== undefined ? [{ type: "text/html", value: message.html }] : []),
    ],
    // Echoed in SendGrid's event webhook, so its events can be tied back to the delivery.
    custom_args: { delivery_id: deliveryId },
  };
}

/** "sendgrid 400: <message> (field: <field>); …" from SendGrid's `{errors: [{message, field}]}`. */
export function sendgridError(answer: HttpAnswer): string {
  const errors = jsonOf(answer.body)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return plainError("sendgrid", answer);
  const parts = errors.map((e: any) => `${e?.message ?? "error"}${e?.field ? ` (field: ${e.field})` : ""}`);
  return `sendgrid ${answer.status}: ${parts.join("; ")}`;
}

/**
 * Twilio SendGrid. It has no idempotency key, so a retry after a lost answer may send twice;
 * success is 202 with an empty body and the message id in X-Message-Id.
 */
export const sendgrid: HttpProvider<"email"> = {
  name: "sendgrid",
  kind: "email",
  dedupes: false,
  requires: ["SENDGRID_API_KEY", "EMAIL_FROM"],
  buildRequest(message, { delivery_id, settings }) {
    const from = senderOf(message, settings);
    return {
      method: "POST",
      url: `${sendgridBase(settings)}/v3/mail/send`,
      headers: {
        authorization: `Bearer ${setting(settings, "SENDGRID_API_KEY")}`,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
      },
      body: JSON.stringify(sendgridBody(message, from, delivery_id)),
    };
  },
  parseResponse(answer, now): SendResult {
    if (answer.status >= 200 && answer.status <= 299) {
      return classifyAnswer(answer, now, undefined, answer.headers.get("x-message-id") ?? undefined);
    }
    return classifyAnswer(answer, now, sendgridError(answer));
  },
};
