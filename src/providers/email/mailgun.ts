import { baseUrl, basicAuth, classifyAnswer, formBody, jsonOf, setting } from "../http";
import type { EmailMessage, HttpAnswer, HttpProvider, SendResult, Settings } from "../types";
import { USER_AGENT, plainError, senderOf } from "./address";

const US_BASE = "https://api.mailgun.net";
/** Domains created in Mailgun's EU region only exist on the EU host. */
const EU_BASE = "https://api.eu.mailgun.net";

/** MAILGUN_BASE_URL if set, else the EU host when MAILGUN_REGION=eu, else the US one. */
export const mailgunBase = (settings: Settings) =>
  baseUrl(settings, "mailgun", settings.MAILGUN_REGION?.trim().toLowerCase() === "eu" ? EU_BASE : US_BASE);

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
 * Mailgun. Sent as application/x-www-form-urlencoded, which the endpoint accepts as well as
 * multipart, so the request body stays a plain string that preview can show.
 */
export const mailgun: HttpProvider<"email"> = {
  name: "mailgun",
  kind: "email",
  dedupes: false,
  requires: ["MAILGUN_API_KEY", "MAILGUN_DOMAIN", "EMAIL_FROM"],
  buildRequest(message, { delivery_id, settings }) {
    const from = senderOf(message, settings);
    const domain = encodeURIComponent(setting(settings, "MAILGUN_DOMAIN").trim());
    return {
      method: "POST",
      url: `${mailgunBase(settings)}/v3/${domain}/messages`,
      headers: {
        authorization: basicAuth("api", setting(settings, "MAILGUN_API_KEY")),
        "content-type": "application/x-www-form-urlencoded",
        "user-agent": USER_AGENT,
      },
      body: formBody(mailgunFields(message, from, delivery_id)),
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
