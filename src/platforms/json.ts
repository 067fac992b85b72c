/**
 * Typed reads out of untyped webhook JSON. Every reader answers null for a missing value or
 * one of the wrong type, so adapters never cast and never throw on a surprising payload.
 */
import { UNSAFE_KEYS } from "../lib/merge-patch";

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The value at a path of keys, or undefined when any step is missing or not an object.
 *
 * @example
 * at({ message: { call: { id: "c1" } } }, "message", "call", "id") // "c1"
 */
export function at(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isRecord(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

/** A non-empty string (trimmed), or null. Platforms send "" for what they do not have. */
export function str(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const trimmed = value.trim();
  return trimmed === "" ? null : trimmed;
}

/** A finite number, or a string holding only one (some platforms quote their numbers), or null. */
export function num(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "string" && /^\s*-?\d+(?:\.\d+)?\s*$/.test(value)) return Number(value);
  return null;
}

/** An object's own entries without prototype keys (`__proto__`, `constructor`, `prototype`), or null. */
export function record(value: unknown): JsonRecord | null {
  if (!isRecord(value)) return null;
  const copy: JsonRecord = {};
  for (const [key, inner] of Object.entries(value)) if (!UNSAFE_KEYS.has(key)) copy[key] = inner;
  return copy;
}

/** The first argument that is not null or undefined, or null. */
export function firstOf<T>(...values: (T | null | undefined)[]): T | null {
  for (const value of values) if (value !== null && value !== undefined) return value;
  return null;
}
