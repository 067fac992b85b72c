/**
 * Dashboard sessions: the admin key, given once at sign-in, is exchanged for a signed,
 * expiring cookie. Its signing key is derived from ADMIN_API_KEY, so rotating the key signs
 * every session out. CSRF tokens are derived from the session, so a form from another
 * session (or another site) cannot act in this one.
 */

/** How long a session lasts from sign-in. */
export const SESSION_SECONDS = 8 * 3600;
export const SESSION_COOKIE = "callrelay_session";
/** Before sign-in there is no session to bind a token to: a random value in a cookie and in the form must match. */
export const SIGN_IN_COOKIE = "callrelay_sign_in";

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

async function hmac(key: string, message: string): Promise<string> {
  const k = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return base64url(new Uint8Array(await crypto.subtle.sign("HMAC", k, encoder.encode(message))));
}

/** A random token, URL-safe. */
export const randomToken = () => base64url(crypto.getRandomValues(new Uint8Array(18)));

/** Constant-time comparison of two strings of any length (hashed first). */
export async function sameSecret(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([crypto.subtle.digest("SHA-256", encoder.encode(a)), crypto.subtle.digest("SHA-256", encoder.encode(b))]);
  return crypto.subtle.timingSafeEqual(da, db);
}

/** The key sessions are signed with: the admin key's own, never the key itself. */
const sessionKey = (adminKey: string) => hmac(adminKey, "callrelay dashboard sessions v1");

/** A new session cookie value: `<expires>.<id>.<signature>`. */
export async function issueSession(adminKey: string, now: number): Promise<string> {
  const body = `${Math.floor(now / 1000) + SESSION_SECONDS}.${randomToken()}`;
  return `${body}.${await hmac(await sessionKey(adminKey), body)}`;
}

/** The session's id when the cookie is genuine and not expired; null otherwise. */
export async function verifySession(adminKey: string, cookie: string | undefined, now: number): Promise<string | null> {
  const match = cookie?.match(/^(\d{1,12})\.([A-Za-z0-9_-]{8,64})\.([A-Za-z0-9_-]{20,64})$/);
  if (!match) return null;
  const [, expires, id, signature] = match as unknown as [string, string, string, string];
  const expected = await hmac(await sessionKey(adminKey), `${expires}.${id}`);
  if (!(await sameSecret(signature, expected))) return null;
  return Number(expires) * 1000 > now ? id : null;
}

/** The CSRF token of a session: every form of the session carries it. */
export async function csrfToken(adminKey: string, sessionId: string): Promise<string> {
  return hmac(await sessionKey(adminKey), `csrf:${sessionId}`);
}
