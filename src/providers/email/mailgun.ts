import { z } from "zod";
import { baseUrl, basicAuth, classifyAnswer, jsonOf, multipartBody } from "../http";
import { optional, readSettings, required, secret } from "../settings";
import type { EmailMessage, HttpAnswer, HttpProvider, SendResult } from "../types";
import { EMAIL_FROM, USER_AGENT, plainError, senderOf } from "./address";

const US_BASE = "https://api.mailgun.net";
/** Domains created in Mailgun's EU region only exist on the EU host. */
const EU_BASE = "https://api.eu.mailgun.net";

export const MAILGUN_SETTINGS = z.object({
  MAILGUN_API_KEY: secret(required()),
  MAILGUN_DOMAIN: required(),
  EMAIL_FROM,
  MAILGUN_REGION: optional(),
  MAILGUN_BASE_URL: optional(),
});

/** MAILGUN_BASE_URL if set, else the EU host when MAILGUN_REGION=eu, else the US one. */
export const mailgunBase = (s: z.output<typeof MAILGUN_SETTINGS>) =>
  baseUrl(s.MAILGUN_BASE_URL, s.MAILGUN_REGION?.toLowerCase() === "eu" ? EU_BASE : US_BASE);

// Delivery ids are `dlv_<hex>`; kept to token characters so the boundary needs no quoting.
const boundarySeed = (deliveryId: string) => `callrelay-${deliveryId.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 40)}`;

/** The form fields of Mailgun's `POST /v3/{domain}/messages`. */
export function mailgunFields(message: EmailMessage, from: string, deliveryId: string): Record<string, string | undefined> {
  return {
    from,
    to: message.to,
    subject: message.subject,
    text: message.text,
    html: message.html,
    // `h:` adds a MIME header, so the delivery can be found from the received email.
    "h:X-Callrelay-Delivery": deliveryId,
  };
}

/** "mailgun 400: <message>" from Mailgun's `{message}`, or its plain-text body (401 is "Forbidden"). */
export function mailgunError(answer: HttpAnswer): string {
  const message = jsonOf(answer.body)?.message;
  return typeof message === "string" ? `mailgun ${answer.status}: ${message}` : plainError("mailgun", answer);
}

/**
 * Mailgun. Sent as multipart/form-data, the one encoding Mailgun documents for this
 * endpoint. The body is built as a string with a boundary taken from the delivery id, so
 * every retry sends the same bytes and preview can show them.
 */
export const mailgun: HttpProvider<"email"> = {
  name: "mailgun",
  kind: "email",
  dedupes: false,
  settings: MAILGUN_SETTINGS,
  buildRequest(message, { delivery_id, settings }) {
    const s = readSettings(MAILGUN_SETTINGS, settings);
    const from = senderOf(message, s.EMAIL_FROM);
    const form = multipartBody(mailgunFields(message, from, delivery_id), boundarySeed(delivery_id));
    return {
      method: "POST",
      url: `${mailgunBase(s)}/v3/${encodeURIComponent(s.MAILGUN_DOMAIN)}/messages`,
      headers: {
        authorization: basicAuth("api", s.MAILGUN_API_KEY),
        "content-type": form.contentType,
        "user-agent": USER_AGENT,
      },
      body: form.body,
    };
  },
  parseResponse(answer, now): SendResult {
    if (answer.status >= 200 && answer.status <= 299) {
      const id = jsonOf(answer.body)?.id;
      // Kept as Mailgun gives it, angle brackets included: that is the Message-ID header's form.
      return classifyAnswer(answer, now, undefined, typeof id === "string" ? id : undefined);
    }
    return classifyAnswer(answer, now, mailgunError(answer));
  },
};
