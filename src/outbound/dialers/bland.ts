/**
 * Bland AI: `POST /v1/calls` (docs.bland.ai/api-v1/post/calls), `authorization: <key>`; the
 * answer is `{"status": "success", "call_id": …}` or `{"status": "error", "message": …}`.
 */
import { at, str } from "../../platforms/json";
import { classifyAnswer, jsonMessage } from "./answer";
import { callMetadata, correlationOf, jsonPost, platformAccess } from "./common";
import type { DialRequest, DialerAdapter, DialerSettings } from "./types";

const KEY = "BLAND_API_KEY";
const BASE = "BLAND_BASE_URL";
const DEFAULT_BASE = "https://api.bland.ai";

/**
 * `request_data`: the variables a prompt or pathway reads as `{{name}}`. Bland takes any JSON
 * here, so the metadata keeps its shape; task and name are "" when absent, as on the other
 * platforms.
 */
function requestData(request: DialRequest): Record<string, unknown> {
  return { ...request.metadata, task: request.task ?? "", caller_name: request.caller_name ?? "", ...correlationOf(request) };
}

/** Bland shows `call_id` as a UUID string, and as a number in one place of its reference. */
function callIdOf(json: unknown): string | null {
  const id = at(json, "call_id");
  if (typeof id === "number" && Number.isSafeInteger(id)) return String(id);
  return str(id);
}

/** Bland answers 200 with `status: "error"` for some refusals; that is not a placed call. */
function refusalOf(json: unknown): string | null {
  if (str(at(json, "status"))?.toLowerCase() !== "error") return null;
  return jsonMessage(json) ?? "no reason given";
}

/**
 * The request's task is the prompt unless the settings name a pathway, which then does the
 * talking (and can still read the task as `{{task}}`). With neither there is nothing to say,
 * so the request is not built.
 *
 * @example
 * bland.build({ type: "bland", pathway_id: "pw_1" }, request, { BLAND_API_KEY: "k" })
 * // POST https://api.bland.ai/v1/calls {"phone_number":"+1…","pathway_id":"pw_1","request_data":{…},"metadata":{…}}
 */
export const bland: DialerAdapter<DialerSettings<"bland">> = {
  type: "bland",
  apiKeySetting: KEY,
  baseUrlSetting: BASE,
  defaultBaseUrl: DEFAULT_BASE,

  build(settings, request, env) {
    const access = platformAccess(env, KEY, BASE, DEFAULT_BASE);
    if (!access.ok) return access;
    const pathway = settings.pathway_id;
    const task = request.task?.trim() || undefined;
    if (pathway === undefined && task === undefined) {
      return { ok: false, error: "Bland needs a task for the call, or a pathway_id in the agent's outbound settings" };
    }
    return {
      ok: true,
      request: jsonPost(`${access.base}/v1/calls`, { authorization: access.key }, {
        phone_number: request.phone_number,
        task: pathway === undefined ? task : undefined,
        pathway_id: pathway,
        from: settings.from,
        request_data: requestData(request),
        metadata: callMetadata(request),
        // Bland posts a call's end only to the URL given with it: the relay's own Bland route.
        webhook: request.relay_origin ? `${request.relay_origin}/calls/ended/bland` : undefined,
      }),
    };
  },

  parse(status, body, headers) {
    return classifyAnswer(status, body, headers, {
      label: "Bland",
      idField: "call_id",
      keySetting: KEY,
      callId: callIdOf,
      refusal: refusalOf,
    });
  },
};
