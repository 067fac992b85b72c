/**
 * Form bodies (application/x-www-form-urlencoded) as automation tools send them, read into
 * the nested shape their JSON would have had. Zapier writes nesting as `metadata__event_id`,
 * PHP and Make as `metadata[event_id]`, n8n as the literal key `metadata.event_id`.
 */
import { UNSAFE_KEYS } from "../lib/merge-patch";

/** Deeper keys keep their remaining segments as one literal key (as the `qs` library does). */
const MAX_DEPTH = 8;
/** Objects keyed 0..n-1 become lists up to this length; longer ones stay objects. */
const MAX_LIST = 1_000;

const BRACKETED = /^([^[\]]+)((?:\[[^[\]]*\])+)$/;
const SEGMENT = /\[([^[\]]*)\]/g;
const INDEX = /^(0|[1-9]\d*)$/;

/** One key's values while the body is read: the strings given for it and its nested keys. */
interface Node {
  values: string[];
  /** Written as `key[]`: a list even with one value. */
  list: boolean;
  children?: Map<string, Node>;
}

/** `a__b`, `a.b` → ["a", "b"]; a name with an empty part (`__typename`, `a..b`) is literal. */
function splitName(name: string): string[] {
  const parts = name.split(/__|\./);
  return parts.every((p) => p !== "") ? parts : [name];
}

/**
 * The path a form key names, and whether it ends in `[]`; null for a key to drop (empty, or
 * naming a prototype key anywhere). An empty `[]` anywhere but last makes the key literal.
 */
export function formKeyPath(key: string): { path: string[]; append: boolean } | null {
  if (key === "") return null;
  const bracketed = BRACKETED.exec(key);
  let path = bracketed
    ? [...splitName(bracketed[1]!), ...Array.from(bracketed[2]!.matchAll(SEGMENT), (m) => m[1]!)]
    : splitName(key);
  const append = bracketed !== null && path[path.length - 1] === "";
  if (append) path.pop();
  if (path.includes("")) path = [key];
  if (path.length > MAX_DEPTH) path = [...path.slice(0, MAX_DEPTH - 1), path.slice(MAX_DEPTH - 1).join(".")];
  return path.some((k) => UNSAFE_KEYS.has(k)) ? null : { path, append };
}

function insert(root: Node, path: readonly string[], value: string, append: boolean): void {
  let node = root;
  for (const key of path) {
    node.children ??= new Map();
    let child = node.children.get(key);
    if (!child) {
      child = { values: [], list: false };
      node.children.set(key, child);
    }
    node = child;
  }
  node.values.push(value);
  if (append) node.list = true;
}

/** Keys exactly 0..n-1 (in any order) → the list they spell; otherwise null. */
function asList(children: Map<string, Node>): unknown[] | null {
  if (children.size > MAX_LIST) return null;
  const list: unknown[] = new Array(children.size);
  for (const [key, child] of children) {
    if (!INDEX.test(key) || Number(key) >= children.size) return null;
    list[Number(key)] = toValue(child);
  }
  return list;
}

/**
 * A key given both as a value and with nested keys (`a=1&a.b=2`) keeps only the nested
 * object, whatever the order: tools that flatten objects also send the parent itself,
 * e.g. n8n's `metadata=[object Object]`, and that value is never the one wanted.
 */
function toValue(node: Node): unknown {
  if (node.children) return asList(node.children) ?? toObject(node.children);
  if (node.list || node.values.length > 1) return [...node.values];
  return node.values[0] ?? "";
}

/**
 * A plain object, which structured clone (Durable Object RPC, queues) can copy, unlike a
 * null-prototype one. Object.fromEntries defines own properties rather than assigning them,
 * so even a `__proto__` key could not replace the prototype.
 */
function toObject(children: Map<string, Node>): Record<string, unknown> {
  return Object.fromEntries(Array.from(children, ([key, child]) => [key, toValue(child)]));
}

/**
 * A form body as nested data: `metadata__event_id`, `metadata[event_id]` and
 * `metadata.event_id` all give `{ metadata: { event_id } }`; `tags[]=a&tags[]=b` and a key
 * repeated give a list; keys 0..n-1 give a list; values stay strings. Keys naming
 * `__proto__`, `constructor` or `prototype` are dropped, and every object is a plain one, so
 * the result can be structured-cloned.
 *
 * @example
 * parseFormBody("phone_number=%2B14155550100&metadata__event_id=evt_1&tags[]=vip")
 * // { phone_number: "+14155550100", metadata: { event_id: "evt_1" }, tags: ["vip"] }
 */
export function parseFormBody(text: string): Record<string, unknown> {
  const root: Node = { values: [], list: false };
  for (const [key, value] of new URLSearchParams(text)) {
    const parsed = formKeyPath(key);
    if (parsed) insert(root, parsed.path, value, parsed.append);
  }
  return toObject(root.children ?? new Map());
}
