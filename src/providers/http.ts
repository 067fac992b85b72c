import { classifyStatus, parseRetryAfter } from "../lib/http-status";
import type { HttpAnswer, HttpCall, HttpProvider, MessageKind, Outgoing, SendContext, SendResult } from "./types";

export const PROVIDER_TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 65_536;
const EXCERPT_CHARS = 1024;

/**
 * The base URL for a provider: its `<NAME>_BASE_URL` setting when set (regional endpoints,
 * local test doubles), else the documented default. No trailing slash.
 */
export function baseUrl(override: string | undefined, fallback: string): string {
  return (override?.trim() || fallback).replace(/\/+$/, "");
}

/** HTTP Basic credentials, as providers such as Twilio and Mailgun expect them. */
export function basicAuth(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

const present = (fields: Record<string, string | undefined>) =>
  Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined);

export const formBody = (fields: Record<string, string | undefined>): string => new URLSearchParams(present(fields)).toString();

/** A multipart/form-data body kept as a string, so preview can show it and tests compare it. */
export interface Multipart {
  contentType: string;
  body: string;
}

// WHATWG's multipart/form-data encoder escapes these three in field names.
const escapeName = (name: string) => name.replace(/"/g, "%22").replace(/\r/g, "%0D").replace(/\n/g, "%0A");

/**
 * Fields as multipart/form-data (RFC 7578), UTF-8 text as is. The boundary is `seed`, or
 * `seed-1`, `seed-2`… when a value happens to contain it (RFC 2046 §5.1.1 forbids that), so
 * the same fields and seed always give the same body.
 *
 * @example
 * multipartBody({ to: "a@b.test" }, "callrelay-dlv_1").contentType // "multipart/form-data; boundary=callrelay-dlv_1"
 */
export function multipartBody(fields: Record<string, string | undefined>, seed: string): Multipart {
  const entries = present(fields);
  let boundary = seed;
  for (let n = 1; entries.some(([name, value]) => name.includes(boundary) || value.includes(boundary)); n++) boundary = `${seed}-${n}`;
  const parts = entries.map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(name)}"\r\n\r\n${value}\r\n`);
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: `${parts.join("")}--${boundary}--\r\n` };
}

/**
 * Seconds until a provider says to come back: Retry-After first, then the common
 * rate-limit reset headers (delta seconds, or an epoch in seconds or milliseconds).
 */
export function retryAfterFrom(headers: Headers, now: number): number | undefined {
  const retryAfter = parseRetryAfter(headers.get("retry-after"), now);
  if (retryAfter !== undefined) return retryAfter;
  for (const name of ["ratelimit-reset", "x-ratelimit-reset", "x-rate-limit-reset"]) {
    const raw = headers.get(name);
    if (!raw || !/^\d+(\.\d+)?$/.test(raw.trim())) continue;
    const value = Number(raw);
    if (value > 1e12) return Math.max(0, Math.ceil((value - now) / 1000)); // epoch ms
    if (value > 1e9) return Math.max(0, Math.ceil(value - now / 1000)); // epoch s
    return Math.ceil(value); // delta seconds
  }
  return undefined;
}

/**
 * The default reading of an HTTP answer: 2xx delivered, 408/429/5xx retried (honouring
 * rate-limit headers), other 4xx failed at once; `error` carries the provider's message.
 */
export function classifyAnswer(answer: HttpAnswer, now: number, error?: string, providerId?: string): SendResult {
  const outcome = classifyStatus(answer.status);
  const excerpt = answer.body.slice(0, EXCERPT_CHARS);
  if (outcome === "delivered") {
    return { outcome, status_code: answer.status, response_body: excerpt, ...(providerId ? { provider_id: providerId } : {}) };
  }
  return {
    outcome,
    status_code: answer.status,
    response_body: excerpt,
    error: error ?? `HTTP ${answer.status}${excerpt ? `: ${excerpt.slice(0, 200)}` : ""}`,
    ...(outcome === "retry" ? { retry_after_seconds: retryAfterFrom(answer.headers, now) } : {}),
  };
}

/** Parses a JSON body, or undefined when it is not JSON. */
export function jsonOf(body: string): any {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export type NetworkErrorKind = "dns" | "refused" | "tls" | "timeout" | "reset" | "other";

/**
 * The failures that happen before a request can reach the server. workerd reports a refused
 * connection as a lost one (`reset`), and hides DNS and TLS failures behind `other`, so under
 * workerd only the timeout and those two are told apart, and both count as possibly sent.
 */
const NEVER_SENT: ReadonlySet<NetworkErrorKind> = new Set(["dns", "refused", "tls"]);

/** Each kind of network failure in plain words, as the attempt log shows it. */
export const NETWORK_ERROR_CAUSES: Record<NetworkErrorKind, string> = {
  dns: "DNS: the host did not resolve",
  refused: "connection refused: nothing accepts connections at that address and port",
  tls: "TLS: the secure connection failed (certificate or handshake)",
  timeout: `timeout: no answer within ${PROVIDER_TIMEOUT_MS / 1000} s`,
  reset: "connection lost: refused, reset or closed before an answer",
  other: "cause not given",
};

// Matched against the error's name, code and message and those of its causes, in this order.
const NETWORK_ERROR_PATTERNS: [Exclude<NetworkErrorKind, "timeout" | "other">, RegExp][] = [
  ["dns", /\b(ENOTFOUND|EAI_AGAIN|EAI_NONAME|NXDOMAIN)\b|DNS|getaddrinfo|name or service not known|could not resolve|not resolve/i],
  ["tls", /\b(CERT_\w+|ERR_TLS_\w+|ERR_SSL_\w+|UNABLE_TO_VERIFY_LEAF_SIGNATURE|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\b|\b(TLS|SSL)\b|certificate|handshake/i],
  ["refused", /\bECONNREFUSED\b|connection refused|cannot connect to the specified address/i],
  ["reset", /\b(ECONNRESET|EPIPE|ECONNABORTED|UND_ERR_SOCKET|UND_ERR_CLOSED)\b|network connection lost|connection (was )?(reset|closed|lost)|socket hang up|other side closed|disconnected/i],
];

/** The error and its causes (`cause`, nested), at most a few levels deep. */
function errorChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = err; e !== undefined && e !== null && chain.length < 5 && !chain.includes(e); e = (e as { cause?: unknown }).cause) {
    chain.push(e);
    if (typeof e !== "object") break;
  }
  return chain;
}

const describeError = (e: unknown): string => {
  if (e === null || typeof e !== "object") return String(e);
  const { name, code, message } = e as { name?: unknown; code?: unknown; message?: unknown };
  return [name, code, message].filter((part) => typeof part === "string" && part).join(" ");
};

/**
 * What kind of network failure a rejected fetch was, from the error alone: the name, code and
 * message of the error and its causes (Node/undici put `ECONNREFUSED`, `ENOTFOUND`, `CERT_…`
 * on `cause`). `message` is the error's own text, causes appended, for the log.
 *
 * workerd gives little to go on: a refused, reset or closed connection all reject with
 * `Error: Network connection lost.` (so `reset`), and a host that does not resolve or a failed
 * TLS handshake both reject with an opaque `Error: internal error; reference = …` (so `other`,
 * said to be one of those two); the real cause is only in workerd's own log.
 */
export function classifyNetworkError(err: unknown): { kind: NetworkErrorKind; message: string } {
  const chain = errorChain(err);
  const messages = chain.map((e) => (e instanceof Error ? e.message : typeof e === "object" && e !== null ? describeError(e) : String(e)));
  const message = messages.filter((m, i) => m && messages.indexOf(m) === i).join(": ") || "unknown error";
  const name = err instanceof Error ? err.name : undefined;
  if (name === "TimeoutError" || name === "AbortError" || chain.some((e) => (e as { code?: unknown })?.code === "UND_ERR_CONNECT_TIMEOUT")) {
    return { kind: "timeout", message };
  }
  const text = chain.map(describeError).join("\n");
  for (const [kind, pattern] of NETWORK_ERROR_PATTERNS) if (pattern.test(text)) return { kind, message };
  if (/internal error; reference = /.test(text)) {
    return { kind: "other", message: `${message} (workerd hides the cause: usually the host did not resolve, or TLS failed)` };
  }
  return { kind: "other", message };
}

/**
 * Makes one outbound call, for providers and webhooks alike: a 10 s timeout, no redirects
 * (they would carry credentials or a signed body somewhere never checked), and at most
 * `maxBodyBytes` of the answer read. A network error or timeout comes back as a retry, its
 * error starting with the cause in plain words (see {@link classifyNetworkError}).
 */
export async function exchange(
  call: HttpCall,
  fetcher: typeof fetch,
  maxBodyBytes = MAX_BODY_BYTES,
): Promise<{ ok: true; answer: HttpAnswer } | { ok: false; result: SendResult }> {
  let response: Response;
  try {
    response = await fetcher(call.url, {
      method: call.method,
      headers: call.headers,
      body: call.method === "GET" ? undefined : call.body,
      redirect: "manual",
      signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
    });
  } catch (err) {
    // Every network failure asks for a retry: DNS, refusals and TLS are often passing (a
    // deploy, a renewal), and a lasting one still ends failed after the last scheduled attempt.
    // Only those three fail before the request leaves; after any other the provider may have
    // acted on it, which matters to one that cannot deduplicate a second copy.
    const { kind, message } = classifyNetworkError(err);
    const error = kind === "timeout" ? `network error (${NETWORK_ERROR_CAUSES.timeout})` : `network error (${NETWORK_ERROR_CAUSES[kind]}): ${message}`;
    return { ok: false, result: { outcome: "retry", error, ...(NEVER_SENT.has(kind) ? {} : { may_have_arrived: true }) } };
  }
  const body = await readBody(response, maxBodyBytes);
  return { ok: true, answer: { status: response.status, headers: response.headers, body } };
}

/**
 * Reads at most `maxBytes` of a body and releases the rest, so a huge answer is never
 * buffered. `complete` is false when the connection broke off mid-way; `truncated` is true
 * when the body was longer than `maxBytes` and `text` is only its start.
 */
export async function readBodyUpTo(response: Response, maxBytes: number): Promise<{ text: string; complete: boolean; truncated: boolean }> {
  if (!response.body || response.bodyUsed) return { text: "", complete: true, truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = true;
  try {
    // Up to one byte past the cap, so a body of exactly `maxBytes` reads to its end and is not cut.
    while (size <= maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    complete = false;
  } finally {
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { text: new TextDecoder().decode(bytes.subarray(0, maxBytes)), complete, truncated: size > maxBytes };
}

/** A body's first `maxBytes`; one that breaks off mid-way still leaves the status, which is what matters. */
async function readBody(response: Response, maxBytes: number): Promise<string> {
  return (await readBodyUpTo(response, maxBytes)).text;
}

/** Makes the provider's request and classifies the answer. Never throws. */
export async function sendHttp<K extends MessageKind>(
  provider: HttpProvider<K>,
  message: Outgoing[K],
  ctx: SendContext,
): Promise<SendResult> {
  let call: HttpCall;
  try {
    call = await provider.buildRequest(message, ctx);
  } catch (err) {
    return { outcome: "failed", error: `${provider.name}: ${errorText(err)}` };
  }
  const sent = await exchange(call, ctx.fetch);
  if (!sent.ok) return { ...sent.result, error: `${provider.name}: ${sent.result.error}` };
  const result = provider.parseResponse(sent.answer, Date.now());
  // A gateway that stopped waiting says nothing of whether the provider behind it acted.
  return sent.answer.status === 504 && result.outcome === "retry" ? { ...result, may_have_arrived: true } : result;
}
