import { describe, expect, it } from "vitest";
import { classifyNetworkError, exchange } from "../../src/providers/http";
import { runAction } from "./harness";

// The real fetch, kept before the harness stubs it: these tests let workerd fail for real,
// against loopback addresses and `.invalid` names only (RFC 6761: never resolves).
const realFetch: typeof fetch = globalThis.fetch.bind(globalThis);
const REFUSED_URL = "http://127.0.0.1:1/"; // port 1: nothing listens
const UNRESOLVED_URL = "http://hooks.callrelay.invalid/";

/**
 * What workerd (wrangler 4.86.0) rejects fetch with, recorded from real requests: a refused,
 * reset or closed connection all give "Network connection lost." (remote, retryable); a host
 * that does not resolve and an https:// request answered in plain HTTP (a TLS handshake
 * failure) both give an opaque internal error. The cause shows only in workerd's own log
 * ("DNS lookup failed", "OpenSSL error … WRONG_VERSION_NUMBER").
 */
const workerd = {
  connectionLost: () => Object.assign(new Error("Network connection lost."), { remote: true, retryable: true }),
  internal: () => Object.assign(new Error("internal error; reference = k2rklk9ahpdrh9g4tin012ld"), { remote: true }),
};

/** What Node's fetch (undici) rejects with: TypeError("fetch failed") with the cause attached. */
const undici = (code: string, message: string) =>
  new TypeError("fetch failed", { cause: Object.assign(new Error(message), { code }) });

describe("classifyNetworkError", () => {
  it.each([
    ["workerd: refused, reset or closed", workerd.connectionLost(), "reset"],
    ["workerd: DNS or TLS, cause hidden", workerd.internal(), "other"],
    ["workerd sockets: refused", new Error("proxy request failed, cannot connect to the specified address"), "refused"],
    ["timeout signal", new DOMException("The operation was aborted due to timeout", "TimeoutError"), "timeout"],
    ["aborted", new DOMException("The operation was aborted", "AbortError"), "timeout"],
    ["undici: DNS", undici("ENOTFOUND", "getaddrinfo ENOTFOUND hooks.callrelay.invalid"), "dns"],
    ["undici: DNS, temporary", undici("EAI_AGAIN", "getaddrinfo EAI_AGAIN hooks.callrelay.invalid"), "dns"],
    ["undici: refused", undici("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1"), "refused"],
    ["undici: certificate", undici("CERT_HAS_EXPIRED", "certificate has expired"), "tls"],
    ["undici: self-signed", undici("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"), "tls"],
    ["undici: wrong TLS version", undici("ERR_SSL_WRONG_VERSION_NUMBER", "wrong version number"), "tls"],
    ["undici: reset", undici("ECONNRESET", "read ECONNRESET"), "reset"],
    ["undici: closed", undici("UND_ERR_SOCKET", "other side closed"), "reset"],
    ["undici: connect timeout", undici("UND_ERR_CONNECT_TIMEOUT", "Connect Timeout Error"), "timeout"],
    ["plain text", new TypeError("connection refused"), "refused"],
    ["a string", "DNS lookup failed", "dns"],
    ["anything else", new Error("something odd"), "other"],
    ["not even an error", undefined, "other"],
  ] as const)("%s → %s", (_label, err, kind) => {
    expect(classifyNetworkError(err).kind).toBe(kind);
  });

  it("keeps the error's own text and its causes' in the message", () => {
    expect(classifyNetworkError(undici("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1")).message).toBe(
      "fetch failed: connect ECONNREFUSED 127.0.0.1:1",
    );
    expect(classifyNetworkError(workerd.internal()).message).toMatch(/^internal error; reference = \w+ \(workerd hides the cause: usually the host did not resolve, or TLS failed\)$/);
  });
});

describe("what workerd really throws", () => {
  it("rejects a refused connection with 'Network connection lost.', classified reset", async () => {
    const err = await realFetch(REFUSED_URL).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe("Network connection lost.");
    expect(classifyNetworkError(err).kind).toBe("reset");
  });

  it("rejects a host that does not resolve with an opaque internal error, classified other", async () => {
    const err = await realFetch(UNRESOLVED_URL).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(/^internal error; reference = /);
    expect(classifyNetworkError(err).kind).toBe("other");
  });

  it("exchange() turns each into a retry whose error starts with the cause", async () => {
    const call = { method: "POST" as const, url: REFUSED_URL, headers: {}, body: "{}" };
    expect(await exchange(call, realFetch)).toEqual({
      ok: false,
      result: {
        outcome: "retry",
        error: "network error (connection lost: refused, reset or closed before an answer): Network connection lost.",
        may_have_arrived: true,
      },
    });
    const timedOut = await exchange(call, () => Promise.reject(new DOMException("timed out", "TimeoutError")));
    expect(timedOut).toEqual({ ok: false, result: { outcome: "retry", error: "network error (timeout: no answer within 10 s)", may_have_arrived: true } });
    const dns = await exchange(call, () => Promise.reject(undici("ENOTFOUND", "getaddrinfo ENOTFOUND hooks.callrelay.invalid")));
    expect(dns).toMatchObject({ result: { outcome: "retry", error: expect.stringMatching(/^network error \(DNS: the host did not resolve\): fetch failed: getaddrinfo ENOTFOUND/) } });
    // A request that never left cannot have been acted on.
    expect(dns).not.toMatchObject({ result: { may_have_arrived: true } });
    const refused = await exchange(call, () => Promise.reject(undici("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:443")));
    expect(refused).toMatchObject({ ok: false, result: { outcome: "retry" } });
    expect(refused).not.toMatchObject({ result: { may_have_arrived: true } });
  });
});

describe("through the queue consumer", () => {
  const WEBHOOK = { type: "webhook", url: "https://crm.acme.test/hooks/calls" };

  it.each([
    ["a refused connection (workerd, for real)", () => realFetch(REFUSED_URL), /^network error \(connection lost: refused, reset or closed before an answer\): Network connection lost\.$/],
    ["a host that does not resolve (workerd, for real)", () => realFetch(UNRESOLVED_URL), /^network error \(cause not given\): internal error; reference = \w+ \(workerd hides the cause/],
    ["a failed TLS handshake", () => Promise.reject(undici("CERT_HAS_EXPIRED", "certificate has expired")), /^network error \(TLS: the secure connection failed \(certificate or handshake\)\): fetch failed: certificate has expired$/],
    ["a host that does not resolve (Node's wording)", () => Promise.reject(undici("ENOTFOUND", "getaddrinfo ENOTFOUND crm.acme.test")), /^network error \(DNS: the host did not resolve\): /],
    ["a refused connection (Node's wording)", () => Promise.reject(undici("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:443")), /^network error \(connection refused: nothing accepts connections at that address and port\): /],
  ] as const)("logs %s with its cause and retries it", async (_label, fail, error) => {
    const run = await runAction(WEBHOOK, {}, fail);
    expect(run.delivery.status).toBe("retrying");
    expect(run.delivery.last_error).toMatch(error);
    expect(run.delivery.attempt_log.at(-1).error).toMatch(error);
    expect(run.queue).toMatchObject({ acked: true, retried: true });
  });
});
