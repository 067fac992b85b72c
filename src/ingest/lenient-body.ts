/**
 * What no-code tools (Zapier, Make, n8n) send to `POST /calls/ended`, turned into the shape
 * the canonical schema expects: form fields, flat keys for nested objects, numbers and
 * times as text. Only unambiguous readings are made; anything else is passed through for
 * the schema to refuse with a 422 that names the field.
 */
import { z } from "@hono/zod-openapi";
import { toInstant } from "../lib/instant";
import { MAX_JSON_DEPTH, tooDeepAt } from "../lib/json-depth";
import { UNSAFE_KEYS, withoutUnsafeKeys } from "../lib/merge-patch";
import { CallEndedEvent } from "../schemas/call-event";

type Json = Record<string, unknown>;

/** The canonical fields that are objects, and so may arrive as flat `metadata__x` keys. */
const NESTABLE: ReadonlySet<string> = new Set(["metadata", "details"]);
/** Optional fields: an empty form value means "not given" (Zapier sends unmapped fields as ""). */
const OPTIONAL = [
  "caller_number",
  "duration_seconds",
  "summary",
  "transcript",
  "recording_url",
  "ended_at",
  "ended_reason",
  "outcome",
  "details",
  "metadata",
] as const;
/** Deeper nesting than this is not something a form builder produces; such keys stay flat. */
const MAX_DEPTH = 8;

const NUMBER = /^\s*\d+(?:\.\d+)?\s*$/;
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The path a flat key stands for, or null for a plain key. Three spellings are read, as the
 * tools write them: `metadata__order_id` (Zapier's convention), `metadata[order_id]`
 * (form encoders, n8n literal keys; `[]` appends to a list) and `metadata.order_id` (n8n,
 * Make). Only `metadata` and `details` nest: other keys are kept as they are.
 *
 * @example
 * keyPath("metadata[tags][]") // ["metadata", "tags", ""]
 * keyPath("call_id") // null
 */
export function keyPath(key: string): string[] | null {
  let path: string[] | null = null;
  const bracket = /^([^[\]]+)((?:\[[^[\]]*\])+)$/.exec(key);
  if (bracket) path = [bracket[1] ?? "", ...[...(bracket[2] ?? "").matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1] ?? "")];
  else if (key.includes("__")) path = key.split("__");
  else if (key.includes(".")) path = key.split(".");
  if (!path || !NESTABLE.has(path[0] ?? "") || path.length > MAX_DEPTH) return null;
  // Only a bracket path may end in "" (append); an empty segment anywhere else is a typo.
  const inner = bracket ? path.slice(1, -1) : path.slice(1);
  if (inner.some((segment) => segment === "") || (!bracket && path.at(-1) === "")) return null;
  return path;
}

/**
 * Sets `value` at `path` inside `target`, creating objects on the way. A path through a
 * value that is not an object, or through a prototype key, is refused (false): the flat
 * key then stays as sent (the schema does not read it) instead of replacing what is there.
 */
function setPath(target: Json, path: readonly string[], value: unknown): boolean {
  if (path.some((segment) => UNSAFE_KEYS.has(segment))) return false;
  let node: Json = target;
  for (const [i, segment] of path.entries()) {
    const last = i === path.length - 1;
    const next = path[i + 1];
    if (last) {
      node[segment] = value;
      return true;
    }
    if (next === "" && i + 1 === path.length - 1) {
      const list = node[segment] ?? [];
      if (!Array.isArray(list)) return false;
      // The form validator has already gathered a `key[]`'s values into one list.
      if (Array.isArray(value)) list.push(...value);
      else list.push(value);
      node[segment] = list;
      return true;
    }
    const child = node[segment] ?? {};
    if (!isObject(child)) return false;
    node[segment] = child;
    node = child;
  }
  return false;
}

/** Says that a field, at `path` from the body's root, cannot be read as sent. */
export type ReportProblem = (path: (string | number)[], message: string) => void;

/** JSON text of an object (Make and Zapier often pass a whole object as one string), read. */
function parsedObject(value: unknown): Json | undefined {
  if (typeof value !== "string" || !value.trim().startsWith("{")) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A `metadata`/`details` value as a fresh object: copied (flat keys are merged into it, and
 * the caller's input must not change), or parsed from JSON text. Prototype keys are dropped
 * at every depth. One nested deeper than a body may be is reported and kept as sent, never
 * walked: copying it would overflow the stack.
 */
function ownObject(field: string, value: unknown, report: ReportProblem): unknown {
  const object = isObject(value) ? value : parsedObject(value);
  if (!object) return value;
  const deep = tooDeepAt([field], object);
  if (!deep) return withoutUnsafeKeys(object);
  report(deep, `nested more than ${MAX_JSON_DEPTH} levels deep`);
  return value;
}

/**
 * A time as ISO 8601: kept as sent when it already has an offset; read when it is epoch
 * seconds or milliseconds (number or digits) or `YYYY-MM-DD HH:MM:SS` (as UTC). An ISO time
 * without an offset is ambiguous and is passed through to be refused.
 */
function coercedTime(value: unknown): unknown {
  if (typeof value === "string" && ISO_WITH_OFFSET.test(value.trim())) return value;
  return toInstant(value) ?? value;
}

/**
 * The body of a `POST /calls/ended` from a no-code tool, coerced toward the canonical event.
 * Accepts the fields of a form (`URLSearchParams`) or of a parsed JSON object; returns a new
 * object (the input is not changed) for the canonical schema to validate. What cannot be
 * read at all (a `metadata` nested too deep) goes to `report`.
 *
 * @example
 * coerceCallEnded(new URLSearchParams("call_id=c1&agent_id=a1&duration_seconds=230&metadata__order_id=12345"))
 * // { call_id: "c1", agent_id: "a1", duration_seconds: 230, metadata: { order_id: "12345" } }
 */
export function coerceCallEnded(input: Record<string, unknown> | URLSearchParams, report: ReportProblem = () => {}): unknown {
  const entries: [string, unknown][] = input instanceof URLSearchParams ? [...input.entries()] : Object.entries(input);
  const body: Json = {};
  const nested: [string, string[], unknown][] = [];
  for (const [key, value] of entries) {
    if (UNSAFE_KEYS.has(key)) continue;
    const path = keyPath(key);
    if (path) nested.push([key, path, value]);
    else body[key] = NESTABLE.has(key) ? ownObject(key, value, report) : value;
  }
  // Flat keys after whole objects, so `metadata={...}&metadata__x=1` merges instead of losing one.
  for (const [key, path, value] of nested) {
    if (!setPath(body, path, value)) body[key] = value;
  }

  for (const field of OPTIONAL) if (body[field] === "") delete body[field];
  const duration = body.duration_seconds;
  if (typeof duration === "string" && NUMBER.test(duration)) body.duration_seconds = Number(duration);
  if (body.ended_at !== undefined && body.ended_at !== null) body.ended_at = coercedTime(body.ended_at);
  return body;
}

/**
 * The body of `POST /calls/ended`, JSON or form: coerced as above, then validated as the
 * canonical event, so what is still wrong is a 422 naming the field. OpenAPI shows the
 * canonical event.
 */
export const CallEndedBody = z.preprocess(
  (input, ctx) =>
    typeof input === "object" && input !== null && !Array.isArray(input)
      ? coerceCallEnded(input as Record<string, unknown>, (path, message) => ctx.addIssue({ code: "custom", path, message }))
      : input,
  CallEndedEvent,
);
