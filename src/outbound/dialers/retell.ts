/**
 * Retell AI: `POST /v2/create-phone-call` (createPhoneCall in RetellAI/retell-typescript-sdk
 * src/resources/call.ts), `Authorization: Bearer <key>`; the answer is the call, its id at
 * `call_id`.
 */
import { at, str } from "../../platforms/json";
import { classifyAnswer } from "./answer";
import { callMetadata, callVariables, jsonPost, platformAccess, stringVariables } from "./common";
import type { DialerAdapter, DialerSettings } from "./types";

const KEY = "RETELL_API_KEY";
const BASE = "RETELL_BASE_URL";
const DEFAULT_BASE = "https://api.retellai.com";

/**
 * `metadata` is stored with the call and echoed in every webhook's `call.metadata`;
 * `retell_llm_dynamic_variables` must be string → string, so numbers and flags are written out.
 * The agent bound to `from_number` talks unless the settings name another.
 *
 * @example
 * retell.build({ type: "retell", from_number: "+14155550100" }, request, { RETELL_API_KEY: "k" })
 * // POST https://api.retellai.com/v2/create-phone-call {"from_number":"+14155550100","to_number":"+1…",…}
 */
export const retell: DialerAdapter<DialerSettings<"retell">> = {
  type: "retell",
  apiKeySetting: KEY,
  baseUrlSetting: BASE,
  defaultBaseUrl: DEFAULT_BASE,

  build(settings, request, env) {
    const access = platformAccess(env, KEY, BASE, DEFAULT_BASE);
    if (!access.ok) return access;
    return {
      ok: true,
      request: jsonPost(`${access.base}/v2/create-phone-call`, { authorization: `Bearer ${access.key}` }, {
        from_number: settings.from_number,
        to_number: request.phone_number,
        override_agent_id: settings.agent_id,
        retell_llm_dynamic_variables: stringVariables(callVariables(request)),
        metadata: callMetadata(request),
      }),
    };
  },

  parse(status, body, headers) {
    return classifyAnswer(status, body, headers, {
      label: "Retell",
      idField: "call_id",
      keySetting: KEY,
      callId: (json) => str(at(json, "call_id")),
    });
  },
};
