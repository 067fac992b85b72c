/**
 * What every platform's create-call request is made of: the API key and base URL from the
 * Worker's settings, the correlation keys, and the per-call variables.
 */
import { baseUrl } from "../../providers/http";
import type { DialEnv, DialRequest, PlaceCallRequest } from "./types";

/** A setting's value, trimmed; undefined when it is unset, empty or not a string (a binding). */
export function envText(env: DialEnv, name: string): string | undefined {
  const value = env[name];
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

export type Access = { ok: true; key: string; base: string } | { ok: false; error: string };

/**
 * The API key (trimmed) and the base URL (the override setting or the default, without a
 * trailing slash) for a platform. The error names the missing setting, never a value.
 *
 * @example
 * platformAccess({ VAPI_API_KEY: " k " }, "VAPI_API_KEY", "VAPI_BASE_URL", "https://api.vapi.ai")
 * // { ok: true, key: "k", base: "https://api.vapi.ai" }
 */
export function platformAccess(env: DialEnv, keySetting: string, baseSetting: string, defaultBase: string): Access {
  const key = envText(env, keySetting);
  if (key === undefined) return { ok: false, error: `${keySetting} is not set` };
  return { ok: true, key, base: baseUrl(envText(env, baseSetting), defaultBase) };
}

/** The keys that bring a platform's call-ended webhook back to its outbound call. */
export interface Correlation {
  outbound_call_id: string;
  relay_agent_id: string;
  attempt: number;
}

export const correlationOf = (request: DialRequest): Correlation => ({
  outbound_call_id: request.outbound_call_id,
  relay_agent_id: request.agent_id,
  attempt: request.attempt,
});

/**
 * The metadata a platform stores with the call and echoes in its webhooks: the request's
 * own metadata with the correlation keys, which win, so a caller's `outbound_call_id`
 * cannot point the call at another one.
 *
 * @example
 * callMetadata({ outbound_call_id: "oc_1", agent_id: "a", attempt: 2, metadata: { event_id: "e" }, ... })
 * // { event_id: "e", outbound_call_id: "oc_1", relay_agent_id: "a", attempt: 2 }
 */
export function callMetadata(request: DialRequest): Record<string, unknown> {
  return { ...request.metadata, ...correlationOf(request) };
}

export type Variable = string | number | boolean;

/** A metadata value as a prompt variable: scalars as they are, null as "", structures as JSON text. */
function variableOf(value: unknown): Variable {
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : "";
  if (value === null || value === undefined) return "";
  return JSON.stringify(value) ?? "";
}

/**
 * The per-call variables a platform substitutes into the agent's prompt (`{{task}}`,
 * `{{caller_name}}`, `{{event_id}}`…): the request's metadata flattened to scalars, then
 * `task`, `caller_name` and the correlation keys, which win. A missing task or name is ""
 * rather than absent: ElevenLabs refuses to start a conversation whose prompt names a
 * variable it was not given, and Retell would read the raw `{{task}}` out.
 *
 * @example
 * callVariables({ task: null, caller_name: "Ana", metadata: { slot: { day: "Tue" } }, ... })
 * // { slot: '{"day":"Tue"}', task: "", caller_name: "Ana", outbound_call_id: "oc_1", relay_agent_id: "a", attempt: 1 }
 */
export function callVariables(request: DialRequest): Record<string, Variable> {
  const variables: Record<string, Variable> = {};
  for (const [key, value] of Object.entries(request.metadata)) variables[key] = variableOf(value);
  return { ...variables, task: request.task ?? "", caller_name: request.caller_name ?? "", ...correlationOf(request) };
}

/** The variables with every value a string, for platforms that take nothing else (Retell). */
export function stringVariables(variables: Record<string, Variable>): Record<string, string> {
  return Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, String(value)]));
}

/**
 * A JSON POST. Undefined fields are left out by JSON.stringify, so optional settings need no
 * special casing in each adapter.
 */
export function jsonPost(url: string, headers: Record<string, string>, body: unknown): PlaceCallRequest {
  return {
    url,
    headers: { ...headers, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
  };
}
