/**
 * ElevenLabs Agents: `POST /v1/convai/twilio/outbound-call` (elevenlabs/elevenlabs-js
 * conversationalAi/twilio Client.ts), `xi-api-key: <key>`; the answer is
 * `{"success": true, "conversation_id": …, "callSid": …}`.
 */
import { at, str } from "../../platforms/json";
import { classifyAnswer, jsonMessage } from "./answer";
import { callVariables, jsonPost, platformAccess } from "./common";
import type { DialerAdapter, DialerSettings } from "./types";

const KEY = "ELEVENLABS_API_KEY";
const BASE = "ELEVENLABS_BASE_URL";
const DEFAULT_BASE = "https://api.elevenlabs.io";

/**
 * The conversation id is what the post-call webhooks name (`data.conversation_id`). The
 * schema allows it to be null; Twilio's `callSid` then stands in, as the normalizer does for
 * `call_initiation_failure`.
 */
const callIdOf = (json: unknown) => str(at(json, "conversation_id")) ?? str(at(json, "callSid"));

const refusalOf = (json: unknown) => (at(json, "success") === false ? (jsonMessage(json) ?? "no reason given") : null);

/**
 * ElevenLabs has no opaque per-call metadata: `dynamic_variables` (string, number or
 * boolean values) is the one thing echoed in the webhooks
 * (`data.conversation_initiation_client_data.dynamic_variables`), so it carries the
 * correlation keys and the flattened metadata.
 *
 * @example
 * elevenlabs.build({ type: "elevenlabs", agent_id: "agent_1", agent_phone_number_id: "phnum_1" }, request, { ELEVENLABS_API_KEY: "k" })
 * // POST https://api.elevenlabs.io/v1/convai/twilio/outbound-call {"agent_id":"agent_1",…,"conversation_initiation_client_data":{…}}
 */
export const elevenlabs: DialerAdapter<DialerSettings<"elevenlabs">> = {
  type: "elevenlabs",
  apiKeySetting: KEY,
  baseUrlSetting: BASE,
  defaultBaseUrl: DEFAULT_BASE,

  build(settings, request, env) {
    const access = platformAccess(env, KEY, BASE, DEFAULT_BASE);
    if (!access.ok) return access;
    return {
      ok: true,
      request: jsonPost(`${access.base}/v1/convai/twilio/outbound-call`, { "xi-api-key": access.key }, {
        agent_id: settings.agent_id,
        agent_phone_number_id: settings.agent_phone_number_id,
        to_number: request.phone_number,
        conversation_initiation_client_data: { dynamic_variables: callVariables(request) },
      }),
    };
  },

  parse(status, body, headers) {
    return classifyAnswer(status, body, headers, {
      label: "ElevenLabs",
      idField: "conversation_id",
      keySetting: KEY,
      callId: callIdOf,
      refusal: refusalOf,
    });
  },
};
