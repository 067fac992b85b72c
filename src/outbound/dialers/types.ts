/**
 * Dialers: how the relay asks a voice platform to place one outbound call. Each adapter is a
 * pure `build` (settings + request → the create-call HTTP request) and a pure `parse` (the
 * platform's answer → what happened); `placeCall` in ./index.ts joins them with one fetch.
 */
import type { Dialer } from "../../schemas/outbound";

/** The platforms that place real calls; the simulator is handled apart. */
export type PlatformDialer = Exclude<Dialer, { type: "simulator" }>;
export type PlatformDialerType = PlatformDialer["type"];
/** One platform's settings, e.g. `DialerSettings<"vapi">`. */
export type DialerSettings<T extends PlatformDialerType> = Extract<PlatformDialer, { type: T }>;

/** One dial attempt of an outbound call, as every platform adapter receives it. */
export interface DialRequest {
  /** Ours, e.g. `oc_…`; travels in the platform's metadata/variables so the call-ended webhook correlates back. */
  outbound_call_id: string;
  /** 1-based dial attempt. */
  attempt: number;
  /** The relay's agent id. */
  agent_id: string;
  /** E.164. */
  phone_number: string;
  task: string | null;
  caller_name: string | null;
  metadata: Record<string, unknown>;
  /**
   * The relay's own origin as the request reached it (`https://relay.example.com`), for
   * platforms that take a call-ended webhook URL per call (Bland); null when unknown.
   */
  relay_origin: string | null;
}

/** The create-call request, always a POST. */
export interface PlaceCallRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * What the platform's answer means for the call:
 * - `placed`: the platform took the call and named it;
 * - `retry`: it asked to come back (429, 408, 5xx but 504), maybe after `retry_after_seconds`;
 * - `refused`: it will not place this call as asked (other 4xx, a 2xx without a call id, a
 *   Bland-style error body); `status` 0 means nothing was sent (the request could not be built);
 * - `unknown`: no usable answer (timeout, reset, a 504 or a cut-off 2xx): the call may or may
 *   not have been placed, so dialing again could ring the person twice.
 */
export type DialAnswer =
  | { kind: "placed"; platform_call_id: string }
  | { kind: "retry"; status: number; error: string; retry_after_seconds?: number }
  | { kind: "refused"; status: number; error: string }
  | { kind: "unknown"; error: string };

/** The Worker's settings and secrets, as `env` holds them. */
export type DialEnv = Readonly<Record<string, unknown>>;

export type BuildResult = { ok: true; request: PlaceCallRequest } | { ok: false; error: string };

/** One platform's create-call API. */
export interface DialerAdapter<S> {
  type: string;
  /** The setting holding the API key, e.g. `VAPI_API_KEY`; null when the settings carry their own auth (http). */
  apiKeySetting: string | null;
  /** The setting that overrides the base URL, e.g. `VAPI_BASE_URL`. */
  baseUrlSetting: string | null;
  /** The documented base URL, e.g. `https://api.vapi.ai`. */
  defaultBaseUrl: string | null;
  /** The create-call request; an error (safe to show, never a secret) when it cannot be built. */
  build(settings: S, request: DialRequest, env: DialEnv): BuildResult;
  /**
   * The answer to the create-call request. `settings` are the ones `build` had: only the
   * http dialer needs them (its `call_id_path`).
   */
  parse(status: number, body: string, headers: Headers, settings: S): DialAnswer;
}
