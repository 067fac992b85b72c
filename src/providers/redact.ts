import { SECRET_SETTINGS } from "./registry";
import type { HttpCall, Settings } from "./types";

export const REDACTED = "[redacted]";

/**
 * Every form a secret takes inside a request we build: as it is, percent-encoded (URL
 * paths), form-encoded (URLSearchParams writes spaces as +) and JSON-escaped (inside
 * JSON.stringify's quotes).
 */
export function encodingsOf(value: string): string[] {
  return [value, encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2), JSON.stringify(value).slice(1, -1)];
}

/** The secret values this deployment has set, as set and trimmed (providers send them trimmed). */
function secretValues(settings: Settings): string[] {
  const values = SECRET_SETTINGS.flatMap((name) => {
    const value = settings[name];
    return value ? [value, value.trim()] : [];
  });
  return [...new Set(values.filter((value) => value !== ""))];
}

/** The text inside a Basic credential, or undefined when it is not base64 of UTF-8. */
function decodeBasic(base64: string): string | undefined {
  try {
    const binary = atob(base64);
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

// `Basic base64(user:password)`: the secret is only visible once decoded, and where it falls
// in the base64 depends on the user name, so the whole credential goes.
const BASIC = /\b(Basic\s+)([A-Za-z0-9+/]+={0,2})/gi;

/**
 * Removes every secret provider setting (as the providers' schemas declare them) from a
 * request before preview shows it: Authorization-style headers wholesale, and each secret
 * value wherever else it appears, in any of the encodings above or inside Basic auth.
 *
 * @example
 * redact({ method: "POST", url, headers: {}, body: "api_secret=a%2Bb" }, { VONAGE_API_SECRET: "a+b" }).body // "api_secret=[redacted]"
 */
export function redact(call: HttpCall, settings: Settings): HttpCall {
  const values = secretValues(settings);
  // Longest first, so a secret that contains another is removed whole.
  const patterns = [...new Set(values.flatMap(encodingsOf))].sort((a, b) => b.length - a.length);
  const basic = (text: string) =>
    text.replace(BASIC, (whole, scheme: string, base64: string) => {
      const decoded = decodeBasic(base64);
      return decoded !== undefined && values.some((value) => decoded.includes(value)) ? `${scheme}${REDACTED}` : whole;
    });
  const scrub = (text: string) => patterns.reduce((out, pattern) => out.split(pattern).join(REDACTED), basic(text));
  const headers = Object.fromEntries(
    Object.entries(call.headers).map(([name, value]) => [name, /^(authorization|x-.*token)$/i.test(name) ? REDACTED : scrub(value)]),
  );
  return { method: call.method, url: scrub(call.url), headers, body: scrub(call.body) };
}
