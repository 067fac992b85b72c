import { z } from "zod";
import { baseUrl, classifyAnswer, formBody, jsonOf } from "../http";
import { optional, readSettings, required, secret } from "../settings";
import type { HttpAnswer, HttpProvider, SendResult } from "../types";
import { recipient, textOf } from "./common";
import { smsSegments } from "./segments";

const NAME = "vonage";
const DEFAULT_BASE = "https://rest.nexmo.com";
const EXCERPT_CHARS = 1024;

// Both travel in the form body, so preview must find them there, encoded.
export const VONAGE_SETTINGS = z.object({
  VONAGE_API_KEY: secret(required()),
  VONAGE_API_SECRET: secret(required()),
  VONAGE_FROM: required(),
  VONAGE_BASE_URL: optional(),
});

/** SMS API statuses (inside an HTTP 200) that name the failure when Vonage leaves out `error-text`. */
const STATUS_NAMES: Readonly<Record<string, string>> = {
  "1": "Throttled",
  "2": "Missing Parameters",
  "3": "Invalid Parameters",
  "4": "Invalid Credentials",
  "5": "Internal Error",
  "6": "Invalid Message",
  "7": "Number Barred",
  "8": "Partner Account Barred",
  "9": "Partner Quota Violation",
  "10": "Too Many Existing Binds",
  "11": "Account Not Enabled For HTTP",
  "12": "Message Too Long",
  "14": "Invalid Signature",
  "15": "Invalid Sender Address",
  "22": "Invalid Network Code",
  "23": "Invalid Callback Url",
  "29": "Non-Whitelisted Destination",
  "32": "Signature And API Secret Disallowed",
  "33": "Number De-activated",
};

/** Throttling, Vonage's own fault and connection limits pass; everything else needs a person. */
const RETRYABLE = new Set(["1", "5", "10"]);

/** Vonage takes international numbers without the leading '+'; alphanumeric senders pass as they are. */
const bare = (number: string) => number.trim().replace(/^\+(?=\d)/, "");

/**
 * Vonage (Nexmo) SMS API: POST /sms/json, form-encoded. Credentials go in the body, as
 * Vonage documents for this endpoint, never in the URL where logs and proxies keep them.
 */
export const vonage: HttpProvider<"sms"> = {
  name: NAME,
  kind: "sms",
  dedupes: false,
  settings: VONAGE_SETTINGS,

  buildRequest(message, { settings }) {
    const s = readSettings(VONAGE_SETTINGS, settings);
    // Without type=unicode Vonage sends GSM-7 and any other character arrives garbled.
    const unicode = smsSegments(message.body).encoding === "UCS-2";
    return {
      method: "POST",
      url: `${baseUrl(s.VONAGE_BASE_URL, DEFAULT_BASE)}/sms/json`,
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: formBody({
        api_key: s.VONAGE_API_KEY,
        api_secret: s.VONAGE_API_SECRET,
        from: bare(s.VONAGE_FROM),
        to: bare(recipient(message.to)),
        text: message.body,
        type: unicode ? "unicode" : undefined,
      }),
    };
  },

  parseResponse(answer, now) {
    if (answer.status < 200 || answer.status > 299) return classifyAnswer(answer, now);
    return readMessages(answer);
  },
};

/**
 * A 200 carries one status per part. Every part must be accepted; a retry resends the
 * whole text, so it is only safe when no part went out.
 */
function readMessages(answer: HttpAnswer): SendResult {
  const base = { status_code: answer.status, response_body: answer.body.slice(0, EXCERPT_CHARS) };
  const json = jsonOf(answer.body);
  const parts: any[] = Array.isArray(json?.messages) ? json.messages : [];
  if (parts.length === 0) {
    // Unknown whether anything was sent; failing lets a person decide instead of texting twice.
    return { ...base, outcome: "failed", error: "Vonage answered 200 without a messages array" };
  }
  const statuses = parts.map((p) => textOf(p?.status) ?? "?");
  const rejected = parts.filter((_, i) => statuses[i] !== "0");
  if (rejected.length === 0) {
    const id = textOf(parts[0]?.["message-id"]);
    return { ...base, outcome: "delivered", ...(id ? { provider_id: id } : {}) };
  }
  const reasons = [...new Set(rejected.map(describe))];
  const accepted = parts.length - rejected.length;
  const partial = accepted > 0 ? ` (${accepted} of ${parts.length} parts were sent)` : "";
  const retry = accepted === 0 && rejected.every((p) => RETRYABLE.has(textOf(p?.status) ?? ""));
  return { ...base, outcome: retry ? "retry" : "failed", error: `Vonage ${reasons.join("; ")}${partial}` };
}

function describe(part: any): string {
  const status = textOf(part?.status) ?? "?";
  const text = textOf(part?.["error-text"]) ?? STATUS_NAMES[status] ?? "unknown status";
  return `status ${status}: ${text}`;
}
