import { describe, expect, it } from "vitest";
import { PERMANENT_SEND_ERRORS, classifySendError, cloudflareEmail } from "../../src/providers/email/cloudflare";
import { buildMime, encodeHeaderText, formatMailbox, mailDate } from "../../src/providers/email/mime";
import { runAction } from "./harness";

const ACTION = {
  type: "email",
  to: "{{caller_email}}",
  subject: "Your call summary — {date}",
  body_template: "call_summary",
  provider: "cloudflare",
};

/** workerd keeps the raw message of an EmailMessage under this own property. */
const RAW = "EmailMessage::raw";

interface Captured {
  from: string;
  to: string;
  raw: string;
}

/** A stand-in for the `[[send_email]]` binding that keeps what it was given. */
function fakeBinding(outcome: (m: Captured) => unknown = () => ({ messageId: "<cf-123@acme.test>" })) {
  const sent: Captured[] = [];
  const binding = {
    async send(message: any) {
      const captured = { from: message.from, to: message.to, raw: String(message[RAW]) };
      sent.push(captured);
      return outcome(captured);
    },
  };
  return { sent, settings: (extra: Record<string, unknown> = {}) => ({ SEND_EMAIL: binding, ...extra }) as unknown as Record<string, string> };
}

const bytesOf = (b64: string) => Uint8Array.from(atob(b64.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
const decodeB64 = (b64: string) => new TextDecoder().decode(bytesOf(b64));

/** Just enough of a MIME reader to check what we build: unfolded headers and decoded parts. */
function readMime(raw: string) {
  const split = (entity: string) => {
    const at = entity.indexOf("\r\n\r\n");
    const head = entity.slice(0, at).replace(/\r\n[ \t]/g, " ");
    const headers = new Map<string, string>();
    for (const line of head.split("\r\n")) {
      const colon = line.indexOf(":");
      headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
    }
    return { headers, body: entity.slice(at + 4) };
  };
  const top = split(raw);
  const boundary = /boundary="([^"]+)"/.exec(top.headers.get("content-type") ?? "")?.[1];
  const chunks = boundary ? top.body.split(`--${boundary}`).slice(1, -1).map((c) => c.replace(/^\r\n/, "").replace(/\r\n$/, "")) : [raw];
  const parts = chunks.map((chunk) => {
    const part = split(chunk);
    return { type: part.headers.get("content-type"), encoding: part.headers.get("content-transfer-encoding"), text: decodeB64(part.body) };
  });
  return { headers: top.headers, parts, tail: boundary ? top.body.slice(top.body.lastIndexOf(`--${boundary}--`)) : "" };
}

const decodeWords = (value: string) =>
  value.replace(/=\?UTF-8\?B\?([^?]*)\?=(\s+(?==\?))?/gi, (_, b64: string) => decodeB64(b64));

describe("cloudflare send_email provider", () => {
  it("hands the binding an EmailMessage whose raw MIME has headers and both parts", async () => {
    const fake = fakeBinding();
    const run = await runAction(ACTION, fake.settings({ EMAIL_FROM: "Acme Support <support@acme.test>" }), () => new Response("unexpected", { status: 500 }));
    expect(run.requests).toHaveLength(0);
    expect(fake.sent).toHaveLength(1);
    const sent = fake.sent[0]!;
    expect(sent.from).toBe("support@acme.test");
    expect(sent.to).toBe("john@example.com");
    expect(sent.raw).not.toMatch(/[^\r]\n/);

    const mime = readMime(sent.raw);
    expect(mime.headers.get("from")).toBe("Acme Support <support@acme.test>");
    expect(mime.headers.get("to")).toBe("john@example.com");
    expect(mime.headers.get("mime-version")).toBe("1.0");
    expect(mime.headers.get("message-id")).toBe(`<${run.delivery.id}@acme.test>`);
    expect(mime.headers.get("date")).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    // The em dash makes the subject non-ASCII, so it travels as RFC 2047 encoded-words.
    const subject = mime.headers.get("subject")!;
    expect(subject).toMatch(/^=\?UTF-8\?B\?/);
    expect(decodeWords(subject)).toMatch(/^Your call summary — \S/);
    expect(mime.headers.get("content-type")).toMatch(/^multipart\/alternative; boundary="=_/);
    expect(mime.parts.map((p) => p.type)).toEqual(["text/plain; charset=utf-8", "text/html; charset=utf-8"]);
    expect(mime.parts.every((p) => p.encoding === "base64")).toBe(true);
    expect(mime.parts[0]!.text).toContain("John Smith");
    expect(mime.parts[1]!.text).toContain("John Smith");
    expect(mime.parts[1]!.text).toContain("<");
    expect(mime.tail).toMatch(/^--=_\S+--\r\n$/);

    expect(run.delivery).toMatchObject({ status: "delivered", provider: "cloudflare" });
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider: "cloudflare", provider_id: "<cf-123@acme.test>" });
    expect(run.queue).toMatchObject({ acked: true, retried: false });
  });

  it("sends a single text/plain message for a plain body, and falls back to its own Message-ID", async () => {
    const fake = fakeBinding(() => undefined);
    const run = await runAction({ ...ACTION, body_template: undefined, body: "Thanks {{caller_name}}", subject: "Thanks" }, fake.settings({ EMAIL_FROM: "support@acme.test" }), () => new Response(null));
    const raw = fake.sent[0]!.raw;
    const mime = readMime(raw);
    expect(mime.headers.get("subject")).toBe("Thanks");
    expect(mime.headers.get("from")).toBe("support@acme.test");
    expect(mime.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(decodeB64(raw.slice(raw.indexOf("\r\n\r\n") + 4))).toBe("Thanks John Smith");
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider: "cloudflare", provider_id: `${run.delivery.id}@acme.test` });
  });

  it("fails at once on an error code that will not change, with the code in the log", async () => {
    const refused = fakeBinding(() => {
      throw Object.assign(new Error("recipient is on the suppression list"), { code: "E_RECIPIENT_SUPPRESSED" });
    });
    const run = await runAction(ACTION, refused.settings({ EMAIL_FROM: "support@acme.test" }), () => new Response(null));
    expect(run.delivery.status).toBe("failed");
    expect(run.delivery.last_error).toContain("cloudflare send_email E_RECIPIENT_SUPPRESSED: recipient is on the suppression list");
    expect(run.queue).toMatchObject({ acked: true, retried: false });
  });

  it("retries other codes; an error without a code, whatever its wording, ends unknown", async () => {
    const limited = fakeBinding(() => {
      throw Object.assign(new Error("Sending rate limit reached"), { code: "E_RATE_LIMIT_EXCEEDED" });
    });
    const run = await runAction(ACTION, limited.settings({ EMAIL_FROM: "support@acme.test" }), () => new Response(null));
    expect(run.delivery.status).toBe("retrying");
    expect(run.delivery.last_error).toContain("cloudflare send_email E_RATE_LIMIT_EXCEEDED: Sending rate limit reached");
    expect(run.queue.retried).toBe(true);

    // Wording means nothing without a code, and no code is no answer from the service: the
    // message may have gone out, and send_email cannot deduplicate, so it is not sent again.
    const codeless = fakeBinding(() => {
      throw new Error("destination address is not a verified address");
    });
    const again = await runAction(ACTION, codeless.settings({ EMAIL_FROM: "support@acme.test" }), () => new Response(null));
    expect(again.delivery.status).toBe("unknown");
    expect(again.delivery.last_error).toContain("cloudflare send_email: destination address is not a verified address; outcome unknown");
    expect(again.queue).toMatchObject({ acked: true, retried: false });
  });

  it("classifies exactly the documented permanent codes as failed", () => {
    const permanent = [
      "E_RECIPIENT_SUPPRESSED",
      "E_VALIDATION_ERROR",
      "E_FIELD_MISSING",
      "E_CONTENT_TOO_LARGE",
      "E_SENDER_DOMAIN_NOT_AVAILABLE",
      "E_RECIPIENT_NOT_ALLOWED",
    ];
    expect([...PERMANENT_SEND_ERRORS].sort()).toEqual([...permanent].sort());
    for (const code of permanent) {
      expect(classifySendError(Object.assign(new Error("x"), { code })), code).toEqual({ outcome: "failed", error: `cloudflare send_email ${code}: x` });
    }
    for (const code of ["E_RATE_LIMIT_EXCEEDED", "E_DAILY_LIMIT_EXCEEDED", "E_DELIVERY_FAILED", "E_INTERNAL_SERVER_ERROR", "E_SOMETHING_NEW"]) {
      expect(classifySendError(Object.assign(new Error("x"), { code })).outcome, code).toBe("retry");
    }
    // No code is no answer from the service: the message may have gone out.
    expect(classifySendError(new Error("not allowed"))).toEqual({ outcome: "retry", error: "cloudflare send_email: not allowed", may_have_arrived: true });
    expect(classifySendError("boom")).toEqual({ outcome: "retry", error: "cloudflare send_email: boom", may_have_arrived: true });
  });

  it("is chosen without `provider` only when the binding exists", async () => {
    const { provider: _, ...unnamed } = ACTION;
    const fake = fakeBinding();
    const run = await runAction(unnamed, fake.settings({ EMAIL_FROM: "support@acme.test" }), () => new Response(null));
    expect(fake.sent).toHaveLength(1);
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider: "cloudflare" });

    const without = await runAction(unnamed, { EMAIL_FROM: "support@acme.test" }, () => new Response(null));
    expect(without.delivery.attempt_log[0]).toMatchObject({ provider: "outbox" });

    const named = await runAction(ACTION, { EMAIL_FROM: "support@acme.test" }, () => new Response(null));
    expect(named.delivery.status).toBe("failed");
    expect(named.delivery.last_error).toContain("(binding)");
  });

  it("describes the binding call for preview", () => {
    expect(cloudflareEmail.describe({ from: "a@acme.test", to: "b@example.com", subject: "Hi", text: "x" })).toEqual({
      binding: "SEND_EMAIL",
      from: "a@acme.test",
      to: "b@example.com",
      subject: "Hi",
    });
  });
});

describe("MIME building", () => {
  it("keeps encoded-words within 75 chars and never splits a character", () => {
    const subject = "Résumé de votre appel — merci beaucoup 😀 ".repeat(4);
    const encoded = encodeHeaderText(subject);
    const words = encoded.split("\r\n ");
    expect(words.length).toBeGreaterThan(1);
    for (const word of words) {
      expect(word.length).toBeLessThanOrEqual(75);
      // Each word decodes on its own: no UTF-8 sequence is cut between two words.
      const b64 = /^=\?UTF-8\?B\?(.*)\?=$/.exec(word)![1]!;
      expect(() => new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytesOf(b64))).not.toThrow();
    }
    expect(decodeWords(encoded)).toBe(subject);
    expect(encodeHeaderText("Plain subject")).toBe("Plain subject");
    expect(encodeHeaderText("looks =?like?= a word")).toMatch(/^=\?UTF-8\?B\?/);
  });

  it("formats display names as atoms, quoted strings or encoded-words", () => {
    expect(formatMailbox({ email: "a@acme.test" })).toBe("a@acme.test");
    expect(formatMailbox({ email: "a@acme.test", name: "Acme Support" })).toBe("Acme Support <a@acme.test>");
    expect(formatMailbox({ email: "a@acme.test", name: 'Acme, Inc. "HQ"' })).toBe('"Acme, Inc. \\"HQ\\"" <a@acme.test>');
    expect(formatMailbox({ email: "a@acme.test", name: "Zoë" })).toBe(`=?UTF-8?B?${btoa("Zo\xc3\xab")}?=\r\n <a@acme.test>`);
  });

  it("keeps every header line holding an encoded-word within 76 chars", () => {
    const raw = buildMime({
      from: { email: "support@acme.test", name: "Société Générale d'Assistance Téléphonique — Service Client" },
      to: { email: "john@example.com" },
      subject: "Votre résumé d'appel — ".repeat(6),
      text: "x",
      messageId: "m1@acme.test",
      date: 0,
      boundary: "=_b",
    });
    const head = raw.slice(0, raw.indexOf("\r\n\r\n")).split("\r\n");
    for (const line of head.filter((l) => l.includes("=?"))) expect(line.length, line).toBeLessThanOrEqual(76);
    const from = readMime(raw).headers.get("from")!;
    expect(decodeWords(from)).toBe("Société Générale d'Assistance Téléphonique — Service Client <support@acme.test>");
  });

  it("writes RFC 5322 dates and CRLF-canonical base64 bodies", () => {
    expect(mailDate(Date.UTC(2026, 2, 3, 4, 5, 6))).toBe("Tue, 03 Mar 2026 04:05:06 +0000");
    const raw = buildMime({
      from: { email: "a@acme.test" },
      to: { email: "b@example.com" },
      subject: "S",
      text: `line one\nline two ${"x".repeat(200)}`,
      messageId: "m1@acme.test",
      date: 0,
      boundary: "=_b",
    });
    const body = raw.slice(raw.indexOf("\r\n\r\n") + 4);
    expect(body.split("\r\n").every((line) => line.length <= 76)).toBe(true);
    expect(decodeB64(body)).toBe(`line one\r\nline two ${"x".repeat(200)}`);
  });
});
