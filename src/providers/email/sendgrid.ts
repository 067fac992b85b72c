import { z } from "zod";
import { baseUrl, classifyAnswer, jsonOf } from "../http";
import { optional, readSettings, required, secret } from "../settings";
import type { EmailMessage, HttpAnswer, HttpProvider, SendResult } from "../types";
import { EMAIL_FROM, USER_AGENT, parseMailbox, plainError, senderOf } from "./address";

const US_BASE = "https://api.sendgrid.com";
/** EU data residency: EU-pinned subusers must use this host (and an API key made for it). */
const EU_BASE = "https://api.eu.sendgrid.com";

export const SENDGRID_SETTINGS = z.object({
  SENDGRID_API_KEY: secret(required()),
  EMAIL_FROM,
  SENDGRID_REGION: optional(),
  SENDGRID_BASE_URL: optional(),
});

/** SENDGRID_BASE_URL if set, else the EU host when SENDGRID_REGION=eu, else the global one. */
export const sendgridBase = (s: z.output<typeof SENDGRID_SETTINGS>) =>
  baseUrl(s.SENDGRID_BASE_URL, s.SENDGRID_REGION?.toLowerCase() === "eu" ? EU_BASE : US_BASE);

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
  settings: SENDGRID_SETTINGS,
  buildRequest(message, { delivery_id, settings }) {
    const s = readSettings(SENDGRID_SETTINGS, settings);
    const from = senderOf(message, s.EMAIL_FROM);
    return {
      method: "POST",
      url: `${sendgridBase(s)}/v3/mail/send`,
      headers: {
        authorization: `Bearer ${s.SENDGRID_API_KEY}`,
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
