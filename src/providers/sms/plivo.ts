import { basicAuth, baseUrl, classifyAnswer, jsonOf, setting } from "../http";
import type { HttpProvider } from "../types";
import { optionalSetting, recipient, textOf } from "./common";

const NAME = "plivo";
const DEFAULT_BASE = "https://api.plivo.com";

/**
 * Plivo Messaging: POST /v1/Account/{auth_id}/Message/ (the trailing slash is Plivo's).
 * Sender: PLIVO_FROM as `src`, else PLIVO_POWERPACK_UUID; Plivo refuses both at once.
 */
export const plivo: HttpProvider<"sms"> = {
  name: NAME,
  kind: "sms",
  dedupes: false,
  requires: ["PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN"],

  buildRequest(message, { settings }) {
    const id = setting(settings, "PLIVO_AUTH_ID").trim();
    const token = setting(settings, "PLIVO_AUTH_TOKEN").trim();
    const src = optionalSetting(settings, "PLIVO_FROM");
    const powerpack = optionalSetting(settings, "PLIVO_POWERPACK_UUID");
    if (!src && !powerpack) throw new Error("no sender: set PLIVO_FROM or PLIVO_POWERPACK_UUID");
    const dst = recipient(message.to);
    // '<' separates bulk recipients in Plivo's dst, so caller data must not smuggle in more.
    if (dst.includes("<")) throw new Error(`recipient "${dst}" contains '<', Plivo's bulk separator`);
    return {
      method: "POST",
      url: `${baseUrl(settings, NAME, DEFAULT_BASE)}/v1/Account/${encodeURIComponent(id)}/Message/`,
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
