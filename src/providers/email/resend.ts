import { baseUrl, classifyAnswer, jsonOf, retryAfterFrom, setting } from "../http";
import type { EmailMessage, HttpAnswer, HttpProvider, SendResult } from "../types";
import { USER_AGENT, plainError, senderOf } from "./address";

const DEFAULT_BASE = "https://api.resend.com";

/** The JSON body of Resend's `POST /emails`. */
export function resendBody(message: EmailMessage, from: string) {
  return {
    from,
    to: [message.to],
    subject: message.subject,
    ...(message.html !== undefined ? { html: message.html } : {}),
    text: message.text,
  };
}

/** "resend <name>: <message>" from Resend's `{statusCode, name, message}` error body. */
export function resendError(answer: HttpAnswer): string {
  const json = jsonOf(answer.body);
  if (typeof json?.name === "string" || typeof json?.message === "string") {
    return `resend ${json.name ?? answer.status}: ${json.message ?? ""}`.trim();
  }
  return plainError("resend", answer);
}

/**
 * Resend (resend.com). The delivery id is the Idempotency-Key, so a retry after a lost
 * answer cannot send the email twice (Resend keeps keys for 24 hours).
 */
export const resend: HttpProvider<"email"> = {
  name: "resend",
  kind: "email",
  dedupes: true,
  // Resend keeps an idempotency key for 24 h; an hour of margin for clocks and queue delays.
  idempotencyWindowSeconds: 23 * 3600,
  requires: ["RESEND_API_KEY", "EMAIL_FROM"],
  buildRequest(message, { idempotency_key, settings }) {
    const from = senderOf(message, settings);
    return {
      method: "POST",
      url: `${baseUrl(settings, "resend", DEFAULT_BASE)}/emails`,
      headers: {
        authorization: `Bearer ${setting(settings, "RESEND_API_KEY")}`,
        "content-type": "application/json",
        "idempotency-key": idempotency_key,
        // Resend rejects requests that carry no User-Agent, and Workers' fetch sends none.
        "user-agent": USER_AGENT,
      },
      body: JSON.stringify(resendBody(message, from)),
    };
  },
  parseResponse(answer, now): SendResult {
    if (answer.status >= 200 && answer.status <= 299) {
      const id = jsonOf(answer.body)?.id;
      return classifyAnswer(answer, now, undefined, typeof id === "string" ? id : undefined);
    }
    const error = resendError(answer);
    const result = classifyAnswer(answer, now, error);
    // Another attempt with this key is still in flight: its outcome is unknown, so come back
    // (a 409 invalid_idempotent_request, same key but another body, stays permanent).
    if (answer.status === 409 && jsonOf(answer.body)?.name === "concurrent_idempotent_requests") {
      return { ...result, outcome: "retry", retry_after_seconds: retryAfterFrom(answer.headers, now) };
    }
    return result;
  },
};
