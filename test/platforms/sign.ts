/**
 * Signs webhook bodies the way each platform does, written from the platforms' own
 * descriptions (not from src/), so the tests check the adapters against the schemes.
 */
const encoder = new TextEncoder();

export async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Vapi HMAC credential with its defaults: hex of `{timestamp}.{body}` in x-signature. */
export async function signVapi(secret: string, body: string, timestamp: number, prefix = ""): Promise<Record<string, string>> {
  return { "x-signature": `${prefix}${await hmacHex(secret, `${timestamp}.${body}`)}`, "x-timestamp": String(timestamp) };
}

/** Retell: `v=<ms>,d=<hex HMAC(body + ms)>`. */
export async function signRetell(secret: string, body: string, ms: number): Promise<Record<string, string>> {
  return { "x-retell-signature": `v=${ms},d=${await hmacHex(secret, `${body}${ms}`)}` };
}

/** Bland: hex HMAC of the body, no timestamp. */
export async function signBland(secret: string, body: string): Promise<Record<string, string>> {
  return { "X-Webhook-Signature": await hmacHex(secret, body) };
}

/** ElevenLabs: `t=<s>,v0=<hex HMAC("t.body")>`. */
export async function signElevenLabs(secret: string, body: string, seconds: number): Promise<Record<string, string>> {
  return { "ElevenLabs-Signature": `t=${seconds},v0=${await hmacHex(secret, `${seconds}.${body}`)}` };
}
