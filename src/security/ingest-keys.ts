/**
 * Per-agent ingest keys: random bearer tokens scoped to one agent, stored only as SHA-256
 * hashes. Pure helpers; the agent store keeps the hashes on the agent's row.
 */

export const INGEST_KEY_PREFIX = "cri_";
/** Bounds the cached agent entry and the per-event comparison work. */
export const MAX_INGEST_KEYS = 10;

const encoder = new TextEncoder();

/** What is kept of a key: its id (for revoking one) and its hash, never the key itself. */
export interface IngestKeyRef {
  id: string;
  sha256: string;
  created_at: string;
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Lower-case hex SHA-256 of a token. */
export async function sha256Hex(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(token)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A new key (`cri_` + 32 random bytes, base64url) and the reference to store for it.
 *
 * @example
 * const { key, ref } = await newIngestKey(new Date()); // key: "cri_Vb3…", ref.sha256: "9f86…"
 */
export async function newIngestKey(now: Date): Promise<{ key: string; ref: IngestKeyRef }> {
  const key = `${INGEST_KEY_PREFIX}${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
  const id = `ik_${base64url(crypto.getRandomValues(new Uint8Array(9)))}`;
  return { key, ref: { id, sha256: await sha256Hex(key), created_at: now.toISOString() } };
}

/**
 * Whether `hash` is one of the agent's key hashes. Every stored hash is compared, each in
 * constant time, so timing tells nothing about which key or how much of one matched.
 */
export function matchesIngestKey(hash: string, refs: readonly IngestKeyRef[]): boolean {
  const given = encoder.encode(hash);
  let found = false;
  for (const ref of refs) {
    const stored = encoder.encode(ref.sha256);
    // Both are 64 hex characters; a malformed stored hash simply never matches.
    if (stored.byteLength === given.byteLength && crypto.subtle.timingSafeEqual(stored, given)) found = true;
  }
  return found;
}
