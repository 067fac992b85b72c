/**
 * The dialers by platform, and `placeCall`: build the create-call request, send it once, read
 * the answer. Never retried here: a second create-call can ring a person twice, so whether
 * to dial again is the caller's decision, made on the answer's kind.
 */
import { NETWORK_ERROR_CAUSES, classifyNetworkError, readBodyUpTo } from "../../providers/http";
import { clip } from "./answer";
import { bland } from "./bland";
import { elevenlabs } from "./elevenlabs";
import { http } from "./http";
import { retell } from "./retell";
import type { DialAnswer, DialEnv, DialRequest, DialerAdapter, DialerSettings, PlaceCallRequest, PlatformDialer, PlatformDialerType } from "./types";
import { vapi } from "./vapi";

export type {
  DialAnswer,
  DialEnv,
  DialRequest,
  DialerAdapter,
  DialerSettings,
  PlaceCallRequest,
  PlatformDialer,
  PlatformDialerType,
} from "./types";

export const DIALERS: { readonly [T in PlatformDialerType]: DialerAdapter<DialerSettings<T>> } = {
  vapi,
  retell,
  bland,
  elevenlabs,
  http,
};

/** A platform answers a create-call in well under a second; 15 s leaves room for a slow day. */
export const DIAL_TIMEOUT_MS = 15_000;
/**
 * More than this is not read. An answer can echo the whole request (Vapi's Call repeats the
 * overrides, the metadata in them twice): up to 16 KiB of metadata as JSON, which is 48 KiB
 * once non-Latin text is UTF-8, plus the task and the variables. A MiB holds any of them.
 */
export const MAX_ANSWER_BYTES = 1_048_576;
/** Header values that are never credentials, so they are not scrubbed from errors. */
const PLAIN_HEADERS: ReadonlySet<string> = new Set(["content-type", "accept"]);
/** Tokens shorter than this are too common to scrub from an error without mangling it. */
const MIN_SECRET_CHARS = 8;

/**
 * The adapter for a platform type; null for the simulator and anything unknown.
 *
 * @example
 * dialerFor("vapi").apiKeySetting // "VAPI_API_KEY"
 * dialerFor("simulator") // null
 */
export function dialerFor(type: PlatformDialerType): DialerAdapter<PlatformDialer>;
export function dialerFor(type: string): DialerAdapter<PlatformDialer> | null;
export function dialerFor(type: string): DialerAdapter<PlatformDialer> | null {
  return Object.hasOwn(DIALERS, type) ? DIALERS[type as PlatformDialerType] : null;
}

/**
 * The setting a platform needs and the deployment lacks (its API key), or null. For callers
 * to check before accepting a call, so that a missing key is a clear configuration error
 * and not a failed dial.
 *
 * @example
 * missingSetting(DIALERS.retell, {}) // "RETELL_API_KEY"
 */
export function missingSetting(adapter: DialerAdapter<unknown>, env: DialEnv): string | null {
  const name = adapter.apiKeySetting;
  if (name === null) return null;
  const value = env[name];
  return typeof value === "string" && value.trim() !== "" ? null : name;
}

/** What `placeCall` tells: the answer's meaning, and the HTTP status when one came back. */
export type PlaceCallResult = DialAnswer & { http_status?: number };

/**
 * Every credential the request carries (header values and the tokens inside them, the API
 * key), longest first so that one containing another is removed whole.
 */
function secretsOf(request: PlaceCallRequest, adapter: DialerAdapter<unknown>, env: DialEnv): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(request.headers)) {
    if (PLAIN_HEADERS.has(name.toLowerCase())) continue;
    for (const candidate of [value.trim(), ...value.split(/\s+/)]) if (candidate.length >= MIN_SECRET_CHARS) values.add(candidate);
  }
  const key = adapter.apiKeySetting === null ? undefined : env[adapter.apiKeySetting];
  if (typeof key === "string" && key.trim().length >= MIN_SECRET_CHARS) values.add(key.trim());
  return [...values].sort((a, b) => b.length - a.length);
}

/** The answer with every secret cut out of its error: a platform may quote the key it refused. */
function scrubbed(result: PlaceCallResult, secrets: readonly string[]): PlaceCallResult {
  if (result.kind === "placed" || secrets.length === 0) return result;
  const error = secrets.reduce((text, secret) => text.split(secret).join("[redacted]"), result.error);
  return { ...result, error };
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The error of a fetch that threw: the request may have reached the platform, or not. */
function unanswered(err: unknown, timeoutMs: number): string {
  const { kind, message } = classifyNetworkError(err);
  const cause = kind === "timeout" ? `no answer within ${timeoutMs / 1000} s` : `network error (${NETWORK_ERROR_CAUSES[kind]}): ${message}`;
  return clip(`${cause}; the call may or may not have been placed`);
}

/**
 * Places one call: builds the request, POSTs it once with a timeout and no redirects, and
 * reads the answer. Never throws.
 * - A request that cannot be built (a missing API key or secret, a refused URL, a template
 *   error) is `refused` with status 0: nothing was sent, and sending again will not help
 *   until the settings change.
 * - A fetch that throws (timeout, reset, DNS) is `unknown`: the platform may have the call.
 * - Otherwise the adapter reads the answer, and `http_status` is the status it had.
 * Errors are safe to show: credentials the request carried are cut out of them.
 *
 * @example
 * const result = await placeCall(DIALERS.vapi, settings, request, env, fetch);
 * if (result.kind === "placed") save(result.platform_call_id);
 */
export async function placeCall<S extends { type: string }>(
  adapter: DialerAdapter<S>,
  settings: S,
  request: DialRequest,
  env: DialEnv,
  fetchFn: typeof fetch,
  timeoutMs = DIAL_TIMEOUT_MS,
): Promise<PlaceCallResult> {
  if (settings.type !== adapter.type) {
    return { kind: "refused", status: 0, error: `${settings.type} settings given to the ${adapter.type} dialer` };
  }
  let built: ReturnType<DialerAdapter<S>["build"]>;
  try {
    built = adapter.build(settings, request, env);
  } catch (err) {
    built = { ok: false, error: `the request could not be built: ${clip(messageOf(err))}` };
  }
  if (!built.ok) return { kind: "refused", status: 0, error: built.error };
  const call = built.request;
  const secrets = secretsOf(call, adapter as DialerAdapter<unknown>, env);

  let response: Response;
  try {
    response = await fetchFn(call.url, {
      method: "POST",
      headers: call.headers,
      body: call.body,
      // A redirect would carry the API key to a URL nobody configured (and past the SSRF check).
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    return scrubbed({ kind: "unknown", error: unanswered(err, timeoutMs) }, secrets);
  }

  const status = response.status;
  const answer = await readBodyUpTo(response, MAX_ANSWER_BYTES);
  if (status >= 200 && status <= 299 && (!answer.complete || answer.truncated)) {
    // The platform took the request but its call id was lost on the way back (or is past
    // what was read): the call may be ringing, so it is neither refused nor dialled again.
    const why = answer.complete ? "the answer was too long to read whole" : "the answer broke off";
    return { kind: "unknown", error: `${adapter.type} answered HTTP ${status} but ${why}`, http_status: status };
  }
  let result: DialAnswer;
  try {
    result = adapter.parse(status, answer.text, response.headers, settings);
  } catch (err) {
    result = { kind: "unknown", error: `the answer (HTTP ${status}) could not be read: ${clip(messageOf(err))}` };
  }
  return scrubbed({ ...result, http_status: status }, secrets);
}
