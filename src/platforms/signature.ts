/**
 * The pieces every platform's signature check is built from: HMAC-SHA256 in hex, a
 * constant-time comparison against each accepted secret, a replay window, and reading the
 * secrets from the deployment's settings.
 */
import { safeEqual } from "../security/constant-time";
import type { VerifyResult } from "./types";

const encoder = new TextEncoder();

/** Lower-case hex HMAC-SHA256 of `message`, keyed by the UTF-8 bytes of `secret` (as every platform here does). */
export async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Whether `given` equals what any of the secrets produces. Every secret is tried and every
 * comparison runs in constant time (`safeEqual` hashes both sides first), so timing tells
 * neither which secret matched nor how much of a signature was right.
 *
 * @example
 * await matchesAnySecret(["old", "new"], (s) => hmacSha256Hex(s, body), headerValue)
 */
export async function matchesAnySecret(
  secrets: readonly string[],
  expectedFor: (secret: string) => Promise<string>,
  given: string,
): Promise<boolean> {
  let found = false;
  for (const secret of secrets) {
    if (await safeEqual(given, await expectedFor(secret))) found = true;
  }
  return found;
}

/** Hex digests are case-insensitive; platforms send lower case, but a proxy may not. */
export const normalizeHex = (value: string) => value.trim().toLowerCase();

/**
 * Checks a signed timestamp (epoch milliseconds) against `now`: refused when older than
 * `maxAgeMs`, or further in the future than `maxSkewMs` (clock drift). Null when inside.
 */
export function outsideWindow(
  signedAtMs: number,
  now: number,
  window: { maxAgeMs: number; maxSkewMs: number },
): Extract<VerifyResult, { ok: false }> | null {
  if (now - signedAtMs > window.maxAgeMs) {
    return { ok: false, stale: true, reason: `the signature timestamp is older than ${window.maxAgeMs / 60_000} minutes` };
  }
  if (signedAtMs - now > window.maxSkewMs) {
    return { ok: false, stale: true, reason: `the signature timestamp is more than ${window.maxSkewMs / 60_000} minutes in the future` };
  }
  return null;
}

/** A setting's value split into its secrets (space-separated for rotation); empty when unset. */
export function splitSecrets(value: string | undefined): string[] {
  return (value ?? "").split(/\s+/).filter(Boolean);
}

/**
 * The secrets for a platform: those of the first of `names` that is set. The first setting
 * wins outright (Retell's `RETELL_WEBHOOK_KEY` replaces, not joins, `RETELL_API_KEY`), so a
 * deployment that sets a dedicated webhook key no longer accepts the API key.
 *
 * @example
 * readSecrets({ RETELL_API_KEY: "key_1" }, ["RETELL_WEBHOOK_KEY", "RETELL_API_KEY"])
 * // { secrets: ["key_1"], setting: "RETELL_API_KEY" }
 */
export function readSecrets(
  settings: Readonly<Record<string, unknown>>,
  names: readonly string[],
): { secrets: string[]; setting: string | null } {
  for (const name of names) {
    const value = settings[name];
    const secrets = typeof value === "string" ? splitSecrets(value) : [];
    if (secrets.length > 0) return { secrets, setting: name };
  }
  return { secrets: [], setting: null };
}
