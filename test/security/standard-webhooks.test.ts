import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { safeEqual } from "../../src/security/constant-time";
import { decodeSecret, signWebhook, verifyWebhook, webhookHeaders } from "../../src/security/standard-webhooks";

// The example secret from the Standard Webhooks spec / Svix docs.
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER_SECRET = "whsec_dGVzdC13ZWJob29rLXNpZ25pbmctc2VjcmV0";
const BODY = JSON.stringify({ type: "call.ended", data: { call_id: "c_123", duration_s: 42 } });
const ID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";

/** The official library checks timestamps against the real clock, so sign "now". */
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function signedHeaders(opts: { secret?: string; id?: string; timestamp?: number; body?: string } = {}) {
  const id = opts.id ?? ID;
  const timestamp = opts.timestamp ?? nowSeconds();
  const signature = await signWebhook({ secret: opts.secret ?? SECRET, id, timestamp, body: opts.body ?? BODY });
  return webhookHeaders(id, timestamp, signature);
}

describe("safeEqual", () => {
  it("compares strings of equal and different lengths", async () => {
    expect(await safeEqual("secret-token", "secret-token")).toBe(true);
    expect(await safeEqual("secret-token", "secret-tokeN")).toBe(false);
    expect(await safeEqual("secret-token", "secret-token-longer")).toBe(false);
    expect(await safeEqual("", "")).toBe(true);
    expect(await safeEqual("", "x")).toBe(false);
  });
});

describe("signWebhook", () => {
  it("reproduces the published Standard Webhooks / Svix test vector", async () => {
    // Vector from the Svix and Standard Webhooks library test suites.
    const vector = { id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1614265330, body: '{"test": 2432232314}' };
    const expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    expect(await signWebhook({ secret: SECRET, ...vector })).toBe(expected);
    expect(new Webhook(SECRET).sign(vector.id, new Date(vector.timestamp * 1000), vector.body)).toBe(expected);
    const verified = await verifyWebhook({
      secrets: [SECRET],
      headers: new Headers(webhookHeaders(vector.id, vector.timestamp, expected)),
      body: vector.body,
      now: vector.timestamp,
    });
    expect(verified).toEqual({ ok: true, id: vector.id, timestamp: vector.timestamp });
  });

  it("treats a secret without the whsec_ prefix as base64", async () => {
    const input = { id: ID, timestamp: 1700000000, body: BODY };
    expect(await signWebhook({ ...input, secret: SECRET.slice("whsec_".length) })).toBe(
      await signWebhook({ ...input, secret: SECRET }),
    );
  });

  it("throws a clear error for a secret that is not base64", async () => {
    await expect(signWebhook({ secret: "whsec_not base64!", id: ID, timestamp: 1, body: "" })).rejects.toThrow(
      /not valid base64/,
    );
    expect(() => decodeSecret("whsec_abcde")).toThrow(/not valid base64/);
    expect(() => decodeSecret("whsec_")).toThrow(/empty/);
  });

  it("builds the three webhook-* headers", () => {
    expect(webhookHeaders("msg_1", 1700000000, "v1,abc=")).toEqual({
      "webhook-id": "msg_1",
      "webhook-timestamp": "1700000000",
      "webhook-signature": "v1,abc=",
    });
  });
});

describe("interoperability with the official standardwebhooks package", () => {
  it("our signature verifies with the official library", async () => {
    const headers = await signedHeaders();
    expect(new Webhook(SECRET).verify(BODY, headers)).toEqual(JSON.parse(BODY));
  });

  it("the official library rejects our signature over a tampered body", async () => {
    const headers = await signedHeaders();
    expect(() => new Webhook(SECRET).verify(BODY.replace("42", "43"), headers)).toThrow(/No matching signature/);
  });

  it("the official library's signature verifies with ours", async () => {
    const timestamp = nowSeconds();
    const signature = new Webhook(SECRET).sign(ID, new Date(timestamp * 1000), BODY);
    const result = await verifyWebhook({
      secrets: [SECRET],
      headers: new Headers(webhookHeaders(ID, timestamp, signature)),
      body: BODY,
      now: timestamp,
    });
    expect(result).toEqual({ ok: true, id: ID, timestamp });
  });

  it("both produce the same signature for the same input", async () => {
    const timestamp = 1700000000;
    const official = new Webhook(OTHER_SECRET).sign(ID, new Date(timestamp * 1000), BODY);
    expect(await signWebhook({ secret: OTHER_SECRET, id: ID, timestamp, body: BODY })).toBe(official);
  });
});

describe("verifyWebhook", () => {
  const now = 1_750_000_000;

  async function verify(headers: Record<string, string>, opts: { body?: string; secrets?: string[]; now?: number } = {}) {
    return verifyWebhook({
      secrets: opts.secrets ?? [SECRET],
      headers: new Headers(headers),
      body: opts.body ?? BODY,
      now: opts.now ?? now,
    });
  }

  it("accepts a valid signature", async () => {
    expect(await verify(await signedHeaders({ timestamp: now }))).toEqual({ ok: true, id: ID, timestamp: now });
  });

  it("rejects a tampered body", async () => {
    const result = await verify(await signedHeaders({ timestamp: now }), { body: `${BODY} ` });
    expect(result).toEqual({ ok: false, reason: "No matching webhook signature." });
  });

  it("rejects a tampered id or timestamp", async () => {
    const headers = await signedHeaders({ timestamp: now });
    expect((await verify({ ...headers, "webhook-id": "msg_other" })).ok).toBe(false);
    expect((await verify({ ...headers, "webhook-timestamp": String(now + 1) })).ok).toBe(false);
  });

  it("rejects a signature made with the wrong secret", async () => {
    const headers = await signedHeaders({ timestamp: now, secret: OTHER_SECRET });
    expect(await verify(headers)).toEqual({ ok: false, reason: "No matching webhook signature." });
  });

  it("accepts timestamps exactly at the edge of the tolerance", async () => {
    expect((await verify(await signedHeaders({ timestamp: now - 300 }))).ok).toBe(true);
    expect((await verify(await signedHeaders({ timestamp: now + 300 }))).ok).toBe(true);
  });

  it("rejects a stale timestamp (replay)", async () => {
    const result = await verify(await signedHeaders({ timestamp: now - 301 }));
    expect(result).toEqual({ ok: false, reason: "Webhook timestamp is too old." });
  });

  it("rejects a timestamp from the future", async () => {
    const result = await verify(await signedHeaders({ timestamp: now + 301 }));
    expect(result).toEqual({ ok: false, reason: "Webhook timestamp is too far in the future." });
  });

  it("honours a custom tolerance", async () => {
    const headers = new Headers(await signedHeaders({ timestamp: now - 60 }));
    const base = { secrets: [SECRET], headers, body: BODY, now };
    expect((await verifyWebhook({ ...base, toleranceSeconds: 59 })).ok).toBe(false);
    expect((await verifyWebhook({ ...base, toleranceSeconds: 60 })).ok).toBe(true);
  });

  it.each(["webhook-id", "webhook-timestamp", "webhook-signature"])("rejects a missing %s header", async (name) => {
    const headers: Record<string, string> = await signedHeaders({ timestamp: now });
    delete headers[name];
    expect(await verify(headers)).toEqual({ ok: false, reason: `Missing ${name} header.` });
  });

  it.each(["1750000000.5", "abc", "-1750000000", "1e9", "", "99999999999999999999"])(
    "rejects the non-integer timestamp %j",
    async (timestamp) => {
      const headers = { ...(await signedHeaders({ timestamp: now })), "webhook-timestamp": timestamp };
      const result = await verify(headers);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toMatch(/timestamp/);
    },
  );

  it("supports key rotation: the second secret matches", async () => {
    const headers = await signedHeaders({ timestamp: now, secret: OTHER_SECRET });
    expect((await verify(headers, { secrets: [SECRET, OTHER_SECRET] })).ok).toBe(true);
    expect((await verify(headers, { secrets: [SECRET] })).ok).toBe(false);
  });

  it("accepts a header with several signatures when any one matches", async () => {
    const good = (await signedHeaders({ timestamp: now }))["webhook-signature"] ?? "";
    const wrong = (await signedHeaders({ timestamp: now, secret: OTHER_SECRET }))["webhook-signature"] ?? "";
    const signature = `${wrong} v1a,${good.slice(3)} ${good}`;
    expect((await verify(webhookHeaders(ID, now, signature))).ok).toBe(true);
  });

  it("ignores entries with another version prefix", async () => {
    const good = (await signedHeaders({ timestamp: now }))["webhook-signature"] ?? "";
    const result = await verify(webhookHeaders(ID, now, `v2,${good.slice(3)} v1a,${good.slice(3)}`));
    expect(result).toEqual({ ok: false, reason: "webhook-signature has no v1 signature." });
  });

  it("rejects garbage signature entries without throwing", async () => {
    for (const signature of ["v1,", "v1,!!!", "v1", "v1,AAAA", "garbage"]) {
      expect((await verify(webhookHeaders(ID, now, signature))).ok).toBe(false);
    }
  });

  it("accepts svix-prefixed headers", async () => {
    const headers = await signedHeaders({ timestamp: now });
    const svix = {
      "svix-id": headers["webhook-id"] ?? "",
      "svix-timestamp": headers["webhook-timestamp"] ?? "",
      "svix-signature": headers["webhook-signature"] ?? "",
    };
    expect(await verify(svix)).toEqual({ ok: true, id: ID, timestamp: now });
    expect((await verify({ ...svix, "svix-signature": "v1,AAAA" })).ok).toBe(false);
  });

  it("never leaks a secret or the expected signature in the reason", async () => {
    const expected = (await signedHeaders({ timestamp: now }))["webhook-signature"] ?? "";
    const result = await verify(webhookHeaders(ID, now, "v1,AAAA"));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).not.toContain(expected.slice(3));
      expect(result.reason).not.toContain(SECRET.slice(6));
    }
  });

  it("throws when no secret is configured", async () => {
    await expect(verify(await signedHeaders({ timestamp: now }), { secrets: [] })).rejects.toThrow(/at least one secret/);
  });
});
