import { z } from "zod";
import { baseUrl, classifyAnswer, jsonOf, retryAfterFrom } from "../http";
import { optional, readSettings, required, secret } from "../settings";
import type { EmailMessage, HttpAnswer, HttpProvider, SendResult } from "../types";
import { EMAIL_FROM, USER_AGENT, plainError, senderOf } from "./address";

const DEFAULT_BASE = "https://api.resend.com";

export const RESEND_SETTINGS = z.object({
  RESEND_API_KEY: secret(required()),
  EMAIL_FROM,
  RESEND_BASE_URL: optional(),
});

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
  settings: RESEND_SETTINGS,
  buildRequest(message, { idempotency_key, settings }) {
    const s = readSettings(RESEND_SETTINGS, settings);
    const from = senderOf(message, s.EMAIL_FROM);
    return {
      method: "POST",
      url: `${baseUrl(s.RESEND_BASE_URL, DEFAULT_BASE)}/emails`,
      headers: {
        authorization: `Bearer ${s.RESEND_API_KEY}`,
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
    if (answer.status === 429) return quotaOrRateLimit(result, jsonOf(answer.body)?.name, now);
    // Another attempt with this key is still in flight: its outcome is unknown, so come back
    // (a 409 invalid_idempotent_request, same key but another body, stays permanent).
    if (answer.status === 409 && jsonOf(answer.body)?.name === "concurrent_idempotent_requests") {
      return { ...result, outcome: "retry", retry_after_seconds: retryAfterFrom(answer.headers, now) };
    }
    return result;
  },
};

/**
 * Resend answers 429 for three different limits, told apart by the body's `name`: the
 * daily quota comes back at 00:00 UTC, the monthly one not within any retry schedule, and
 * the request rate (or anything unnamed) after the Retry-After / ratelimit-reset it gives.
 */
function quotaOrRateLimit(result: SendResult, name: unknown, now: number): SendResult {
  if (name === "daily_quota_exceeded") return { ...result, outcome: "retry", retry_after_seconds: secondsUntilUtcMidnight(now) };
  if (name === "monthly_quota_exceeded") {
    const { retry_after_seconds: _, ...rest } = result;
    return { ...rest, outcome: "failed" };
  }
  return result;
}

/** Seconds from `now` (epoch ms) to the next 00:00 UTC; at least 1. */
export function secondsUntilUtcMidnight(now: number): number {
  const midnight = new Date(now);
  midnight.setUTCHours(24, 0, 0, 0);
  return Math.max(1, Math.ceil((midnight.getTime() - now) / 1000));
}
