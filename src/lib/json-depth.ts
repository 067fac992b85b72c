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

const [QUOTE, BACKSLASH, OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET] = [..."\"\\{}[]"].map((ch) => ch.charCodeAt(0));

/**
 * Whether JSON text nests objects and lists more than `max` levels deep, read from its
 * brackets outside strings: no parse and no allocation, so every body can be checked on its
 * way in. Text that is not JSON gets an answer that means nothing; parsing it will fail anyway.
 *
 * @example
 * nestsDeeperThan('{"a":{"b":"{{{"}}', 2) // false
 * nestsDeeperThan('{"a":{"b":[1]}}', 2) // true
 */
export function nestsDeeperThan(text: string, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
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
