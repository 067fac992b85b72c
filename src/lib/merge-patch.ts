type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Keys that would reach an object's prototype rather than the object: JSON.parse makes
 * `__proto__` an own key, and assigning it to a plain object would replace the prototype.
 */
export const UNSAFE_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Applies a JSON merge patch (RFC 7396): objects merge key by key, `null` removes a key,
 * anything else (arrays included) replaces the target wholesale. Prototype keys are ignored.
 * It recurses as deep as the patch: bodies reach it only once jsonBody() has bounded their
 * nesting (MAX_JSON_DEPTH).
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return withoutUnsafeKeys(patch);
  const result: Record<string, unknown> = {};
  if (isObject(target)) {
    for (const [key, value] of Object.entries(target)) if (!UNSAFE_KEYS.has(key)) result[key] = value;
  }
  for (const [key, value] of Object.entries(patch)) {
    if (UNSAFE_KEYS.has(key)) continue;
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/** A copy of a JSON value with prototype keys dropped at every depth; recursive, as applyMergePatch. */
export function withoutUnsafeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUnsafeKeys);
  if (!isObject(value)) return value;
  const result: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) if (!UNSAFE_KEYS.has(key)) result[key] = withoutUnsafeKeys(inner);
  return result;
}
