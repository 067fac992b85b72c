/**
 * The `http` dialer: any create-call API the relay has no adapter for (an in-house dialer, a
 * Twilio Function, an n8n workflow). The settings give the URL, the headers (secrets by
 * name), a JSON body of Mustache templates, and where the answer holds the call id.
 */
import Mustache from "mustache";
import { PLATFORMS } from "../../platforms";
import { isRecord } from "../../platforms/json";
import { checkTargetUrl } from "../../security/ssrf";
import { classifyAnswer, clip } from "./answer";
import { envText } from "./common";
import type { BuildResult, DialEnv, DialRequest, DialerAdapter, DialerSettings } from "./types";

const TAGS: [string, string] = ["{{", "}}"];
/** `{{ … }}` in a header value; only `secret.NAME` may stand inside. */
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const SECRET_REF = /^secret\.([A-Za-z_][A-Za-z0-9_]*)$/;
/** A body string that is only this becomes the metadata object itself, not its text. */
const WHOLE_METADATA = /^(\{\{\s*metadata\s*\}\}|\{\{\{\s*metadata\s*\}\}\})$/;
/**
 * The relay's own credentials never leave it, whoever edits an agent: they would let the
 * dialer's owner administer the relay, forge its signed webhooks, or forge the call-ended
 * events it takes in (the voice platforms' webhook secrets verify those too).
 */
const RELAY_SECRETS: ReadonlySet<string> = new Set([
  "ADMIN_API_KEY",
  "INGEST_API_KEY",
  "INGEST_SIGNING_SECRET",
  "WEBHOOK_SIGNING_SECRET",
  ...Object.values(PLATFORMS).flatMap((platform) => platform.secretSetting),
]);

type Rendered<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * A header value with each `{{secret.NAME}}` replaced by the Worker secret NAME. Request
 * fields have no place in headers (they would leak into proxies' logs), so any other
 * placeholder is an error, as is a missing secret or one the relay keeps for itself.
 *
 * @example
 * renderHeaderValue("authorization", "Bearer {{secret.DIALER_TOKEN}}", { DIALER_TOKEN: "t0k" }) // { ok: true, value: "Bearer t0k" }
 */
export function renderHeaderValue(name: string, template: string, env: DialEnv): Rendered<string> {
  let error: string | null = null;
  const value = template.replace(PLACEHOLDER, (whole, inner: string) => {
    const secret = SECRET_REF.exec(inner)?.[1];
    if (secret === undefined) {
      error ??= `header ${name}: only {{secret.NAME}} placeholders are allowed, not ${clip(whole, 60)}`;
    } else if (RELAY_SECRETS.has(secret)) {
      error ??= `header ${name}: {{secret.${secret}}} is the relay's own credential and is never sent`;
    } else {
      const secretValue = envText(env, secret);
      if (secretValue !== undefined) return secretValue;
      error ??= `header ${name}: the Worker secret ${secret} is not set`;
    }
    return "";
  });
  if (error !== null) return { ok: false, error };
  // A line break would end the header and start another; the value is not shown, it may be secret.
  if (/[\r\n\0]/.test(value)) return { ok: false, error: `header ${name}: its value contains a line break` };
  return { ok: true, value };
}

function renderHeaders(headers: Record<string, string>, env: DialEnv): Rendered<Record<string, string>> {
  const rendered: Record<string, string> = {};
  for (const [name, template] of Object.entries(headers)) {
    const result = renderHeaderValue(name.toLowerCase(), template, env);
    if (!result.ok) return result;
    rendered[name.toLowerCase()] = result.value;
  }
  return { ok: true, value: rendered };
}

/** Mustache's default cache is unbounded and keyed by template text; this writer keeps none. */
function createWriter(): Mustache.Writer {
  // `templateCache` is a real Writer field that @types/mustache leaves out.
  const writer: Mustache.Writer & { templateCache?: Mustache.TemplateCache } = new Mustache.Writer();
  writer.templateCache = undefined;
  return writer;
}
const writer = createWriter();

/**
 * A null-prototype copy of JSON data, so `{{metadata.constructor}}` finds nothing; objects
 * and lists render bare as their JSON text rather than "[object Object]".
 */
function templateData(value: unknown): unknown {
  if (value === null || value === undefined) return "";
  if (typeof value !== "object") return value;
  const copy = Array.isArray(value)
    ? Object.setPrototypeOf(value.map(templateData), null)
    : Object.assign(Object.create(null), Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, templateData(inner)])));
  // Mustache calls a function it finds with the view as `this`; the closure ignores it.
  Object.defineProperty(copy, "toString", { value: () => JSON.stringify(value), enumerable: false });
  return copy;
}

/** What the body's templates can name. `attempt` is text: Mustache reads the number 0 as false. */
function templateView(request: DialRequest): Record<string, unknown> {
  return Object.assign(Object.create(null) as Record<string, unknown>, {
    phone_number: request.phone_number,
    task: request.task ?? "",
    caller_name: request.caller_name ?? "",
    outbound_call_id: request.outbound_call_id,
    attempt: String(request.attempt),
    agent_id: request.agent_id,
    metadata: templateData(request.metadata),
  });
}

/**
 * The body with every string rendered as a Mustache template, without HTML escaping (this is
 * JSON, and JSON.stringify escapes what JSON needs). Keys are kept as written; numbers,
 * booleans and null pass through. A string that is exactly `{{metadata}}` becomes the
 * metadata object, so it arrives as JSON and not as text.
 *
 * @example
 * renderBody({ to: "{{phone_number}}", data: "{{metadata}}" }, request)
 * // { ok: true, value: { to: "+14155551234", data: { event_id: "evt_123" } } }
 */
export function renderBody(body: Record<string, unknown>, request: DialRequest): Rendered<Record<string, unknown>> {
  const view = templateView(request);
  const render = (value: unknown, path: string): unknown => {
    if (typeof value === "string") {
      if (WHOLE_METADATA.test(value.trim())) return request.metadata;
      try {
        return writer.render(value, view, undefined, { tags: TAGS, escape: String });
      } catch (err) {
        throw new Error(`${path}: template error: ${clip(err instanceof Error ? err.message : String(err), 120)}`);
      }
    }
    if (Array.isArray(value)) return value.map((item, i) => render(item, `${path}[${i}]`));
    if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, render(inner, `${path}.${key}`)]));
    return value;
  };
  try {
    return { ok: true, value: render(body, "body") as Record<string, unknown> };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * The value at a dotted path (`data.call.id`, `calls.0.id`) as a call id: a non-empty string,
 * or a number written out; null otherwise.
 *
 * @example
 * callIdAt({ data: { calls: [{ id: 42 }] } }, "data.calls.0.id") // "42"
 */
export function callIdAt(json: unknown, path: string): string | null {
  let current = json;
  for (const segment of path.split(".")) {
    if (Array.isArray(current) && /^\d+$/.test(segment)) current = current[Number(segment)];
    else if (isRecord(current) && Object.hasOwn(current, segment)) current = current[segment];
    else return null;
  }
  if (typeof current === "number") return Number.isFinite(current) ? String(current) : null;
  if (typeof current === "string") return current.trim() === "" ? null : current.trim();
  return null;
}

function allowPrivate(env: DialEnv): boolean {
  const flag = env.ALLOW_PRIVATE_TARGETS;
  return flag === "true" || flag === "1";
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * The URL must pass the same SSRF check as webhook targets (checked again at every dial:
 * ALLOW_PRIVATE_TARGETS may have changed since the settings were saved). Redirects are not
 * followed by `placeCall`, so the check cannot be walked around.
 */
export const http: DialerAdapter<DialerSettings<"http">> = {
  type: "http",
  apiKeySetting: null,
  baseUrlSetting: null,
  defaultBaseUrl: null,

  build(settings, request, env): BuildResult {
    const target = checkTargetUrl(settings.url, { allowPrivate: allowPrivate(env) });
    if (!target.ok) return { ok: false, error: `dialer URL refused: ${target.reason}` };
    const headers = renderHeaders(settings.headers ?? {}, env);
    if (!headers.ok) return headers;
    const body = renderBody(settings.body, request);
    if (!body.ok) return body;
    return {
      ok: true,
      request: {
        url: target.url.href,
        headers: { "content-type": "application/json", accept: "application/json", ...headers.value },
        body: JSON.stringify(body.value),
      },
    };
  },

  parse(status, body, headers, settings) {
    return classifyAnswer(status, body, headers, {
      label: `The dialer (${hostOf(settings.url)})`,
      idField: settings.call_id_path,
      callId: (json) => callIdAt(json, settings.call_id_path),
    });
  },
};
