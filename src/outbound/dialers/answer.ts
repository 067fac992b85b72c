/**
 * Reading a platform's answer to a create-call request, the same way for every platform:
 * which statuses mean "come back later", which mean "no", and the platform's own message.
 */
import { parseRetryAfter } from "../../lib/http-status";
import { isRecord, str } from "../../platforms/json";
import type { DialAnswer } from "./types";

/** Errors are shown to users and stored with each attempt: one short line. */
const MESSAGE_CHARS = 300;
/** Nested error shapes are followed this deep, no further. */
const MAX_DEPTH = 3;

/**
 * Text cut to `max` characters on one line, with an ellipsis when cut.
 *
 * @example
 * clip("a\n  b", 10) // "a b"
 */
export function clip(text: string, max = MESSAGE_CHARS): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length <= max ? line : `${line.slice(0, max - 1).trimEnd()}…`;
}

/** The body as JSON, or undefined when it is not JSON. */
export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/**
 * One validation problem as FastAPI (ElevenLabs) writes it, `{loc: ["body", "to_number"],
 * msg}`, read as `to_number: <msg>`.
 */
function located(item: Record<string, unknown>): string | null {
  const msg = str(item.msg);
  if (msg === null) return null;
  const loc = Array.isArray(item.loc) ? item.loc.filter((p) => p !== "body" && (typeof p === "string" || typeof p === "number")) : [];
  return loc.length > 0 ? `${loc.join(".")}: ${msg}` : msg;
}

/** The text of one error value: a string, a list of them (NestJS/Vapi), or an object with `message`/`msg`. */
function textOf(value: unknown, depth: number): string | null {
  if (depth > MAX_DEPTH) return null;
  if (typeof value === "string") return str(value);
  if (Array.isArray(value)) {
    const parts = value.map((item) => textOf(item, depth + 1)).filter((t): t is string => t !== null);
    return parts.length > 0 ? parts.join("; ") : null;
  }
  if (isRecord(value)) {
    return located(value) ?? textOf(value.message, depth + 1) ?? textOf(value.error, depth + 1) ?? textOf(value.detail, depth + 1);
  }
  return null;
}

/**
 * The platform's own error message from the common JSON shapes, `message`, `error`,
 * `error.message`, `detail` (a string, an object or FastAPI's list) and `errors`, clipped;
 * a short non-JSON, non-HTML body as is; null when there is nothing readable.
 *
 * @example
 * errorMessageOf('{"message":["customer.number must be E.164"],"error":"Bad Request"}') // "customer.number must be E.164"
 */
export function errorMessageOf(body: string): string | null {
  const json = parseJson(body);
  if (json === undefined) {
    // An HTML error page (a proxy's, a CDN's) says nothing a user can act on.
    const text = str(body);
    return text === null || text.startsWith("<") ? null : clip(text);
  }
  return jsonMessage(json);
}

/** The message of an already parsed answer, read as {@link errorMessageOf} reads a body. */
export function jsonMessage(json: unknown): string | null {
  if (!isRecord(json)) return null;
  const text = textOf(json.message, 0) ?? textOf(json.error, 0) ?? textOf(json.detail, 0) ?? textOf(json.errors, 0);
  return text === null ? null : clip(text);
}

/** How one platform's answer is read. */
export interface AnswerReading {
  /** The platform as errors name it, e.g. `Vapi`. */
  label: string;
  /** Where a successful answer holds the call id, for the error when it does not, e.g. `id`. */
  idField: string;
  /** The setting holding the API key, named in the error of a 401 or 403. */
  keySetting?: string | null;
  /** The call id in a successful answer's JSON, or null. */
  callId(json: unknown): string | null;
  /** A successful status whose body still refuses the call (Bland's `status: "error"`): its message. */
  refusal?(json: unknown): string | null;
}

const isSuccess = (status: number) => status >= 200 && status <= 299;
/** 408: the request did not arrive in time, so nothing was done; 429 and 5xx: come back later. */
const asksToRetry = (status: number) => status === 408 || status === 429 || (status >= 500 && status <= 599);

function withMessage(prefix: string, message: string | null): string {
  return message === null ? prefix : `${prefix}: ${message}`;
}

/**
 * Classifies a create-call answer. 2xx with a call id: placed; 2xx without one, or with a
 * refusal in the body: refused. 504: unknown, since the gateway stopped waiting while the
 * platform may still have placed the call. 408, 429 and other 5xx: retry, with Retry-After
 * when given. Redirects (not followed) and other 4xx: refused, with the platform's message.
 *
 * @example
 * const reading = { label: "Vapi", idField: "id", callId: (json) => str(at(json, "id")) };
 * classifyAnswer(201, '{"id":"call_1"}', new Headers(), reading) // { kind: "placed", platform_call_id: "call_1" }
 * classifyAnswer(429, "", new Headers({ "retry-after": "30" }), reading)
 * // { kind: "retry", status: 429, error: "Vapi answered HTTP 429", retry_after_seconds: 30 }
 */
export function classifyAnswer(status: number, body: string, headers: Headers, reading: AnswerReading, nowMs = Date.now()): DialAnswer {
  const prefix = `${reading.label} answered HTTP ${status}`;
  if (isSuccess(status)) {
    const json = parseJson(body);
    const refusal = reading.refusal?.(json) ?? null;
    if (refusal !== null) return { kind: "refused", status, error: `${reading.label} refused the call: ${clip(refusal)}` };
    const id = reading.callId(json);
    if (id !== null) return { kind: "placed", platform_call_id: id };
    return { kind: "refused", status, error: withMessage(`${prefix} without a call id (${reading.idField})`, errorMessageOf(body)) };
  }
  const message = errorMessageOf(body);
  if (status === 504) {
    return { kind: "unknown", error: withMessage(`${prefix} (gateway timeout): the call may or may not have been placed`, message) };
  }
  if (asksToRetry(status)) {
    const retryAfter = parseRetryAfter(headers.get("retry-after"), nowMs);
    return { kind: "retry", status, error: withMessage(prefix, message), ...(retryAfter === undefined ? {} : { retry_after_seconds: retryAfter }) };
  }
  if (status >= 300 && status <= 399) {
    return { kind: "refused", status, error: `${prefix}, a redirect, which is not followed: check the base URL` };
  }
  const hint = (status === 401 || status === 403) && reading.keySetting ? ` (check ${reading.keySetting})` : "";
  return { kind: "refused", status, error: withMessage(`${prefix}${hint}`, message) };
}
