/**
 * Levels of objects and lists a JSON body may nest, the body itself being the first. Metadata
 * and templates need a handful; recursion over a value thousands of levels deep (merge
 * patches, copies, structured clone for Durable Object RPC) would overflow the stack.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * The path of the first object or list nested deeper than `max` levels (the value itself is
 * level 1), or null when there is none. It walks with a stack of its own, so a value far too
 * deep for recursion is measured without overflowing.
 *
 * @example
 * tooDeep({ a: { b: [1] } }, 2) // ["a", "b"]
 * tooDeep({ a: { b: 1 } }, 2) // null
 */
export function tooDeep(value: unknown, max: number = MAX_JSON_DEPTH): (string | number)[] | null {
  if (typeof value !== "object" || value === null) return null;
  const pending: { node: object; path: (string | number)[] }[] = [{ node: value, path: [] }];
  while (pending.length > 0) {
    const { node, path } = pending.pop()!;
    if (path.length >= max) return path;
    const entries: [string | number, unknown][] = Array.isArray(node) ? [...node.entries()] : Object.entries(node);
    // Pushed last to first, so the first too-deep value met is the first in the document.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, inner] = entries[i]!;
      if (typeof inner === "object" && inner !== null) pending.push({ node: inner, path: [...path, key] });
    }
  }
  return null;
}

/**
 * As tooDeep, for a value found at `path` inside a body: the body's path to the first object
 * or list too deep, counting the levels above the value.
 *
 * @example
 * tooDeepAt(["metadata"], { a: {} }, 2) // ["metadata", "a"]
 */
export function tooDeepAt(path: readonly (string | number)[], value: unknown, max: number = MAX_JSON_DEPTH): (string | number)[] | null {
  const deep = tooDeep(value, max - path.length);
  return deep && [...path, ...deep];
}
