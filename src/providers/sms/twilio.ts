import { z } from "zod";
import { basicAuth, baseUrl, classifyAnswer, formBody, jsonOf, retryAfterFrom } from "../http";
import { optional, readSettings, required, secret } from "../settings";
import type { HttpProvider } from "../types";
import { recipient, textOf } from "./common";

const NAME = "twilio";
const DEFAULT_BASE = "https://api.twilio.com";

// The account SID is an identifier (it is in every request URL); the auth token is the credential.
export const TWILIO_SETTINGS = z.object({
  TWILIO_ACCOUNT_SID: required(),
  TWILIO_AUTH_TOKEN: secret(required()),
  TWILIO_FROM: optional(),
  TWILIO_MESSAGING_SERVICE_SID: optional(),
  TWILIO_BASE_URL: optional(),
});

/** Twilio error codes worth a plain-language hint next to Twilio's own message. */
const HINTS: Readonly<Record<string, string>> = {
  "20003": "authentication failed: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
  "20404": "not found: check TWILIO_ACCOUNT_SID",
  "20429": "rate limited",
  "21211": "invalid 'To' number",
  "21408": "SMS to this region is not enabled on the account",
  "21606": "the 'From' number cannot send SMS for this account",
  "21610": "recipient has unsubscribed (replied STOP)",
  "21611": "the sender's outbound queue is full",
  "21612": "Twilio cannot route to this number",
  "21614": "'To' is not a mobile number",
};

/**
 * 21611 arrives as a 400, but the sender's queue drains by itself, so a later attempt
 * can succeed where a permanent failure would drop the text.
 */
const RETRYABLE_CODES = new Set(["21611"]);

/**
 * Twilio Programmable Messaging: POST /2010-04-01/Accounts/{sid}/Messages.json.
 * Sender: TWILIO_MESSAGING_SERVICE_SID and/or TWILIO_FROM; with both, Twilio sends from
 * that number, which must then be in the service's sender pool.
 */
export const twilio: HttpProvider<"sms"> = {
  name: NAME,
  kind: "sms",
  dedupes: false,
  settings: TWILIO_SETTINGS,

  buildRequest(message, { settings }) {
    const s = readSettings(TWILIO_SETTINGS, settings);
    const sid = s.TWILIO_ACCOUNT_SID;
    const from = s.TWILIO_FROM;
    const service = s.TWILIO_MESSAGING_SERVICE_SID;
    if (!from && !service) throw new Error("no sender: set TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID");
    return {
      method: "POST",
      url: `${baseUrl(s.TWILIO_BASE_URL, DEFAULT_BASE)}/2010-04-01/Accounts/${encodeURIComponent(sid)}/Messages.json`,
      headers: {
        authorization: basicAuth(sid, s.TWILIO_AUTH_TOKEN),
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
      },
      body: formBody({ To: recipient(message.to), Body: message.body, From: from, MessagingServiceSid: service }),
    };
  },

  parseResponse(answer, now) {
    const json = jsonOf(answer.body);
    if (answer.status >= 200 && answer.status <= 299) return classifyAnswer(answer, now, undefined, textOf(json?.sid));
    const code = textOf(json?.code);
    const text = textOf(json?.message);
    if (!code && !text) return classifyAnswer(answer, now);
    const hint = code ? HINTS[code] : undefined;
    const more = textOf(json?.more_info);
    const error = `Twilio error ${code ?? "(no code)"}${hint ? ` (${hint})` : ""}: ${text ?? `HTTP ${answer.status}`}${more ? ` See ${more}` : ""}`;
    const result = classifyAnswer(answer, now, error);
    if (result.outcome === "failed" && code && RETRYABLE_CODES.has(code)) {
      return { ...result, outcome: "retry", retry_after_seconds: retryAfterFrom(answer.headers, now) };
    }
    return result;
  },
};
