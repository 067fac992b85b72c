import { z } from "zod";
import { basicAuth, baseUrl, classifyAnswer, jsonOf } from "../http";
import { optional, readSettings, required, secret } from "../settings";
import type { HttpProvider } from "../types";
import { recipient, textOf } from "./common";

const NAME = "plivo";
const DEFAULT_BASE = "https://api.plivo.com";

// The auth id is treated as a credential too, as it always was here: preview hides it in the URL.
export const PLIVO_SETTINGS = z.object({
  PLIVO_AUTH_ID: secret(required()),
  PLIVO_AUTH_TOKEN: secret(required()),
  PLIVO_FROM: optional(),
  PLIVO_POWERPACK_UUID: optional(),
  PLIVO_BASE_URL: optional(),
});

/**
 * Plivo Messaging: POST /v1/Account/{auth_id}/Message/ (the trailing slash is Plivo's).
 * Sender: PLIVO_FROM as `src`, else PLIVO_POWERPACK_UUID; Plivo refuses both at once.
 */
export const plivo: HttpProvider<"sms"> = {
  name: NAME,
  kind: "sms",
  dedupes: false,
  settings: PLIVO_SETTINGS,

  buildRequest(message, { settings }) {
    const s = readSettings(PLIVO_SETTINGS, settings);
    const id = s.PLIVO_AUTH_ID;
    const token = s.PLIVO_AUTH_TOKEN;
    const src = s.PLIVO_FROM;
    const powerpack = s.PLIVO_POWERPACK_UUID;
    if (!src && !powerpack) throw new Error("no sender: set PLIVO_FROM or PLIVO_POWERPACK_UUID");
    const dst = recipient(message.to);
    // '<' separates bulk recipients in Plivo's dst, so caller data must not smuggle in more.
    if (dst.includes("<")) throw new Error(`recipient "${dst}" contains '<', Plivo's bulk separator`);
    return {
      method: "POST",
      url: `${baseUrl(s.PLIVO_BASE_URL, DEFAULT_BASE)}/v1/Account/${encodeURIComponent(id)}/Message/`,
      headers: { authorization: basicAuth(id, token), "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ ...(src ? { src } : { powerpack_uuid: powerpack }), dst, text: message.body }),
    };
  },

  parseResponse(answer, now) {
    const json = jsonOf(answer.body);
    if (answer.status >= 200 && answer.status <= 299) {
      const uuids: unknown[] = Array.isArray(json?.message_uuid) ? json.message_uuid : [];
      return classifyAnswer(answer, now, undefined, textOf(uuids[0]));
    }
    // Plivo has no error codes; the HTTP status and api_id are what its support asks for.
    // `error` is usually a sentence; validation failures may give an object per field.
    const text = textOf(json?.error) ?? (json?.error && typeof json.error === "object" ? JSON.stringify(json.error) : undefined);
    const apiId = textOf(json?.api_id);
    const error = text ? `Plivo error HTTP ${answer.status}: ${text}${apiId ? ` (api_id ${apiId})` : ""}` : undefined;
    return classifyAnswer(answer, now, error);
  },
};
