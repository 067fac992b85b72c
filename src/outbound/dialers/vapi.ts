/**
 * Vapi: `POST /call` (CallController_create in VapiAI/docs fern/apis/api/openapi.json),
 * `Authorization: Bearer <private key>`; the answer is the `Call`, its id at `id`.
 */
import { at, str } from "../../platforms/json";
import { classifyAnswer } from "./answer";
import { callMetadata, callVariables, jsonPost, platformAccess } from "./common";
import type { DialerAdapter, DialerSettings } from "./types";

const KEY = "VAPI_API_KEY";
const BASE = "VAPI_BASE_URL";
const DEFAULT_BASE = "https://api.vapi.ai";
/** `CreateCustomerDTO.name` has `maxLength: 40`; the full name still reaches the prompt as a variable. */
const CUSTOMER_NAME_CHARS = 40;

function customerName(name: string | null): string | undefined {
  if (name === null) return undefined;
  return Array.from(name).slice(0, CUSTOMER_NAME_CHARS).join("").trim() || undefined;
}

/**
 * The spec has no top-level metadata on a call: `assistantOverrides.metadata` is what the
 * end-of-call report echoes (`message.call.assistantOverrides`), so the correlation keys go
 * there, and into `variableValues` for the prompt.
 *
 * @example
 * vapi.build({ type: "vapi", assistant_id: "asst_1", phone_number_id: "pn_1" }, request, { VAPI_API_KEY: "k" })
 * // POST https://api.vapi.ai/call {"assistantId":"asst_1","phoneNumberId":"pn_1","customer":{"number":"+1…"},"assistantOverrides":{…}}
 */
export const vapi: DialerAdapter<DialerSettings<"vapi">> = {
  type: "vapi",
  apiKeySetting: KEY,
  baseUrlSetting: BASE,
  defaultBaseUrl: DEFAULT_BASE,

  build(settings, request, env) {
    const access = platformAccess(env, KEY, BASE, DEFAULT_BASE);
    if (!access.ok) return access;
    return {
      ok: true,
      request: jsonPost(`${access.base}/call`, { authorization: `Bearer ${access.key}` }, {
        assistantId: settings.assistant_id,
        phoneNumberId: settings.phone_number_id,
        customer: { number: request.phone_number, name: customerName(request.caller_name) },
        assistantOverrides: { variableValues: callVariables(request), metadata: callMetadata(request) },
      }),
    };
  },

  parse(status, body, headers) {
    return classifyAnswer(status, body, headers, { label: "Vapi", idField: "id", keySetting: KEY, callId: (json) => str(at(json, "id")) });
  },
};
