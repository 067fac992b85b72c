import { z } from "zod";
import { baseUrl, classifyAnswer, jsonOf } from "../http";
import { optional, readSettings, required, secret } from "../settings";
import type { EmailMessage, HttpAnswer, HttpProvider, SendResult } from "../types";
import { EMAIL_FROM, USER_AGENT, plainError, senderOf } from "./address";

const DEFAULT_BASE = "https://api.postmarkapp.com";

export const POSTMARK_SETTINGS = z.object({
  POSTMARK_SERVER_TOKEN: secret(required()),
  EMAIL_FROM,
  POSTMARK_MESSAGE_STREAM: optional(),
  POSTMARK_BASE_URL: optional(),
});

/** What the notable Postmark ErrorCodes mean for us; every 422 is permanent regardless. */
export const POSTMARK_ERROR_NOTES: Readonly<Record<number, string>> = {
  10: "bad or missing server token",
  300: "invalid email request",
  400: "sender signature not found",
  401: "sender signature not confirmed",
  405: "not allowed to send",
  406: "inactive recipient",
  412: "account pending approval",
};

/** The JSON body of Postmark's `POST /email`. */
export function postmarkBody(message: EmailMessage, from: string, stream: string, deliveryId: string) {
  return {
    From: from,
    To: message.to,
    Subject: message.subject,
    TextBody: message.text,
    ...(message.html !== undefined ? { HtmlBody: message.html } : {}),
    MessageStream: stream,
    // Shown on the message in Postmark and echoed in its webhooks.
    Metadata: { delivery_id: deliveryId },
  };
}

/** "postmark ErrorCode 406 (inactive recipient): <Message>" from Postmark's `{ErrorCode, Message}`. */
export function postmarkError(answer: HttpAnswer): string {
  const json = jsonOf(answer.body);
  if (typeof json?.ErrorCode !== "number") return plainError("postmark", answer);
  const note = POSTMARK_ERROR_NOTES[json.ErrorCode];
  return `postmark ErrorCode ${json.ErrorCode}${note ? ` (${note})` : ""}: ${json.Message ?? ""}`.trim();
}

/**
 * Postmark. Its "outbound" stream is for transactional mail, which a call summary is;
 * POSTMARK_MESSAGE_STREAM picks another transactional stream.
 */
export const postmark: HttpProvider<"email"> = {
  name: "postmark",
  kind: "email",
  dedupes: false,
  settings: POSTMARK_SETTINGS,
  buildRequest(message, { delivery_id, settings }) {
    const s = readSettings(POSTMARK_SETTINGS, settings);
    const from = senderOf(message, s.EMAIL_FROM);
    const stream = s.POSTMARK_MESSAGE_STREAM ?? "outbound";
    return {
      method: "POST",
      url: `${baseUrl(s.POSTMARK_BASE_URL, DEFAULT_BASE)}/email`,
      headers: {
        accept: "application/json",
        "content-type": "application/json",
        "x-postmark-server-token": s.POSTMARK_SERVER_TOKEN,
        "user-agent": USER_AGENT,
      },
      body: JSON.stringify(postmarkBody(message, from, stream, delivery_id)),
    };
  },
  parseResponse(answer, now): SendResult {
    const json = jsonOf(answer.body);
    if (answer.status >= 200 && answer.status <= 299) {
      // Postmark reports refusals with non-zero ErrorCode; a 2xx carrying one is not a send.
      if (typeof json?.ErrorCode === "number" && json.ErrorCode !== 0) {
        return { outcome: "failed", status_code: answer.status, response_body: answer.body.slice(0, 1024), error: postmarkError(answer) };
      }
      return classifyAnswer(answer, now, undefined, typeof json?.MessageID === "string" ? json.MessageID : undefined);
    }
    // 422 (every ErrorCode) and 401 are 4xx, hence permanent; 429 and 5xx are retried.
    return classifyAnswer(answer, now, postmarkError(answer));
  },
};
