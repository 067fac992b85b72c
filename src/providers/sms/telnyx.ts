import { z } from "zod";
import { baseUrl, classifyAnswer, jsonOf } from "../http";
import { optional, readSettings, required, secret } from "../settings";
import type { HttpAnswer, HttpProvider } from "../types";
import { recipient, textOf } from "./common";

const NAME = "telnyx";
const DEFAULT_BASE = "https://api.telnyx.com";

export const TELNYX_SETTINGS = z.object({
  TELNYX_API_KEY: secret(required()),
  TELNYX_FROM: optional(),
  TELNYX_MESSAGING_PROFILE_ID: optional(),
  TELNYX_BASE_URL: optional(),
});

/**
 * Telnyx Messaging API v2: POST /v2/messages with a Bearer API key.
 * Sender: TELNYX_FROM and/or TELNYX_MESSAGING_PROFILE_ID (the profile alone lets Telnyx
 * pick a number from its pool); both are sent when both are set.
 */
export const telnyx: HttpProvider<"sms"> = {
  name: NAME,
  kind: "sms",
  dedupes: false,
  settings: TELNYX_SETTINGS,

  buildRequest(message, { settings }) {
    const s = readSettings(TELNYX_SETTINGS, settings);
    const from = s.TELNYX_FROM;
    const profile = s.TELNYX_MESSAGING_PROFILE_ID;
    if (!from && !profile) throw new Error("no sender: set TELNYX_FROM or TELNYX_MESSAGING_PROFILE_ID");
    return {
      method: "POST",
      url: `${baseUrl(s.TELNYX_BASE_URL, DEFAULT_BASE)}/v2/messages`,
      headers: { authorization: `Bearer ${s.TELNYX_API_KEY}`, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({
        ...(from ? { from } : {}),
        ...(profile ? { messaging_profile_id: profile } : {}),
        to: recipient(message.to),
        text: message.body,
      }),
    };
  },

  parseResponse(answer, now) {
    const json = jsonOf(answer.body);
    if (answer.status >= 200 && answer.status <= 299) return classifyAnswer(answer, now, undefined, textOf(json?.data?.id));
    return classifyAnswer(answer, now, telnyxError(answer, json));
  },
};

/** Every entry of Telnyx's `errors` array as "code title: detail", or undefined for a non-Telnyx body. */
function telnyxError(answer: HttpAnswer, json: any): string | undefined {
  const errors: unknown[] = Array.isArray(json?.errors) ? json.errors : [];
  const parts = errors.flatMap((e: any) => {
    const code = textOf(e?.code);
    const title = textOf(e?.title);
    const detail = textOf(e?.detail);
    if (!code && !title && !detail) return [];
    const head = [code, title].filter(Boolean).join(" ");
    return [detail && detail !== title ? `${head || "error"}: ${detail}` : head || "error"];
  });
  return parts.length > 0 ? `Telnyx error HTTP ${answer.status}: ${parts.join("; ")}` : undefined;
}
