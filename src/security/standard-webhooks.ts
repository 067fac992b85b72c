/**
 * Standard Webhooks (https://www.standardwebhooks.com), wire-compatible with Svix:
 * HMAC-SHA256 over `${id}.${timestamp}.${body}`, sent as `v1,<base64>` entries.
 */

const encoder = new TextEncoder();
const SECRET_PREFIX = "whsec_";
const DEFAULT_TOLERANCE_SECONDS = 300;
const BASE64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;

/** Encodes bytes as standard (padded) base64. */
function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * Decodes standard base64 (padding optional), or returns null.
 * atob alone is too forgiving (it skips whitespace), so the input is checked first.
 */
function base64ToBytes(value: string): Uint8Array | null {
  if (!BASE64_CHARS.test(value)) return null;
  const unpadded = value.replace(/=+$/, "");
  if (unpadded.length % 4 === 1) return null;
  if (unpadded.length !== value.length && value.length % 4 !== 0) return null;
  const padded = unpadded + "=".repeat((4 - (unpadded.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

/**
 * Turns a `whsec_…` secret into raw key bytes.
 * Throws on a malformed secret: that is a configuration error, not a bad request.
 */
export function decodeSecret(secret: string): Uint8Array {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = base64ToBytes(encoded);
  if (key === null) {
    throw new Error("Webhook signing secret is not valid base64 (expected whsec_<base64>)");
  }
  if (key.length === 0) throw new Error("Webhook signing secret is empty");
  return key;
}

/** Raw HMAC-SHA256 of the signed content for one secret. */
async function hmac(secret: string, id: string, timestamp: number, body: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    decodeSecret(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${id}.${timestamp}.${body}`));
  return new Uint8Array(mac);
}

/** Signs a message; returns a `webhook-signature` entry such as `v1,K5oZ…`. */
export async function signWebhook(input: {
  secret: string;
  id: string;
  timestamp: number;
  body: string;
}): Promise<string> {
  const mac = await hmac(input.secret, input.id, input.timestamp, input.body);
  return `v1,${bytesToBase64(mac)}`;
}

/**
 * The `webhook-signature` value for several secrets: one `v1,` entry per secret, separated
 * by spaces as the spec allows, so a receiver holding any one of them verifies the message.
 *
 * @example
 * await signatureHeader({ secrets: [current, next], id, timestamp, body }) // "v1,K5o… v1,9Qb…"
 */
export async function signatureHeader(input: { secrets: readonly string[]; id: string; timestamp: number; body: string }): Promise<string> {
  if (input.secrets.length === 0) throw new Error("signatureHeader needs at least one secret");
  const { id, timestamp, body } = input;
  const entries = await Promise.all(input.secrets.map((secret) => signWebhook({ secret, id, timestamp, body })));
  return entries.join(" ");
}

/** The three headers a Standard Webhooks receiver expects. */
export function webhookHeaders(id: string, timestamp: number, signature: string): Record<string, string> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signature,
  };
}

export type VerifyResult = { ok: true; id: string; timestamp: number } | { ok: false; reason: string };

/** Reads a Standard Webhooks header, falling back to its Svix-branded twin. */
function readHeader(headers: Headers, name: "id" | "timestamp" | "signature"): string | null {
  return headers.get(`webhook-${name}`) ?? headers.get(`svix-${name}`);
}

/**
 * Verifies an incoming signed webhook against one or more secrets (several allow key rotation).
 * `reason` is safe to return to the caller: it never contains a secret or an expected signature.
 */
export async function verifyWebhook(input: {
  secrets: string[];
  headers: Headers;
  body: string;
  now: number;
  toleranceSeconds?: number;
}): Promise<VerifyResult> {
  if (input.secrets.length === 0) throw new Error("verifyWebhook needs at least one secret");
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;

  const id = readHeader(input.headers, "id");
  const rawTimestamp = readHeader(input.headers, "timestamp");
  const signatureHeader = readHeader(input.headers, "signature");
  if (!id) return { ok: false, reason: "Missing webhook-id header." };
  if (!rawTimestamp) return { ok: false, reason: "Missing webhook-timestamp header." };
  if (!signatureHeader) return { ok: false, reason: "Missing webhook-signature header." };

  const trimmed = rawTimestamp.trim();
  const timestamp = Number(trimmed);
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(timestamp)) {
    return { ok: false, reason: "webhook-timestamp must be an integer number of seconds since the epoch." };
  }
  // The replay window bounds how long a captured request stays usable.
  if (input.now - timestamp > tolerance) {
    return { ok: false, reason: "Webhook timestamp is too old." };
  }
  if (timestamp - input.now > tolerance) {
    return { ok: false, reason: "Webhook timestamp is too far in the future." };
  }

  const candidates: Uint8Array[] = [];
  for (const entry of signatureHeader.split(" ")) {
    const comma = entry.indexOf(",");
    if (comma === -1 || entry.slice(0, comma) !== "v1") continue;
    const bytes = base64ToBytes(entry.slice(comma + 1));
    if (bytes !== null) candidates.push(bytes);
  }
  if (candidates.length === 0) {
    return { ok: false, reason: "webhook-signature has no v1 signature." };
  }

  for (const secret of input.secrets) {
    const expected = await hmac(secret, id, timestamp, input.body);
    for (const candidate of candidates) {
      // Length is public (always 32 for SHA-256); only the content needs constant time.
      if (candidate.length === expected.length && crypto.subtle.timingSafeEqual(candidate, expected)) {
        return { ok: true, id, timestamp };
      }
    }
  }
  return { ok: false, reason: "No matching webhook signature." };
}
