import { baseUrl, classifyAnswer, jsonOf, setting } from "../http";
import type { HttpAnswer, HttpProvider } from "../types";
import { optionalSetting, recipient, textOf } from "./common";

const NAME = "telnyx";
const DEFAULT_BASE = "https://api.telnyx.com";

/**
 * Telnyx Messaging API v2: POST /v2/messages with a Bearer API key.
 * Sender: TELNYX_FROM and/or TELNYX_MESSAGING_PROFILE_ID (the profile alone lets Telnyx
 * pick a number from its pool); both are sent when both are set.
 */
export const telnyx: HttpProvider<"sms"> = {
  name: NAME,
  kind: "sms",
  dedupes: false,
  requires: ["TELNYX_API_KEY"],

  buildRequest(message, { settings }) {
    const key = setting(settings, "TELNYX_API_KEY").trim();
    const from = optionalSetting(settings, "TELNYX_FROM");
    const profile = optionalSetting(settings, "TELNYX_MESSAGING_PROFILE_ID");
    if (!from && !profile) throw new Error("no sender: set TELNYX_FROM or TELNYX_MESSAGING_PROFILE_ID");
    return {
      method: "POST",
      url: `${baseUrl(settings, NAME, DEFAULT_BASE)}/v2/messages`,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", accept: "application/json" },
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
