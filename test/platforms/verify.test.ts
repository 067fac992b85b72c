import { describe, expect, it } from "vitest";
import { bland } from "../../src/platforms/bland";
import { elevenlabs } from "../../src/platforms/elevenlabs";
import { retell } from "../../src/platforms/retell";
import type { PlatformAdapter } from "../../src/platforms/types";
import { vapi } from "../../src/platforms/vapi";
import blandFixture from "../fixtures/platforms/bland/completed.json";
import elevenFixture from "../fixtures/platforms/elevenlabs/transcription.json";
import retellFixture from "../fixtures/platforms/retell/call-analyzed.json";
import vapiFixture from "../fixtures/platforms/vapi/ended-normally.json";
import { signBland, signElevenLabs, signRetell, signVapi } from "./sign";

const NOW = Date.UTC(2026, 7, 21, 15, 3, 0);
const SECRET = "platform-secret-1";
const OTHER = "platform-secret-0";

interface Case {
  name: string;
  adapter: PlatformAdapter;
  body: string;
  /** Signs `body` with `secret` as if sent at `at` (epoch ms). */
  sign: (secret: string, body: string, at: number) => Promise<Record<string, string>>;
  /** How old a signature may be; undefined when the platform signs no timestamp. */
  maxAgeMs?: number;
}

const cases: Case[] = [
  { name: "vapi", adapter: vapi, body: JSON.stringify(vapiFixture), sign: (s, b, at) => signVapi(s, b, Math.floor(at / 1000)), maxAgeMs: 5 * 60_000 },
  { name: "retell", adapter: retell, body: JSON.stringify(retellFixture), sign: (s, b, at) => signRetell(s, b, at), maxAgeMs: 5 * 60_000 },
  { name: "bland", adapter: bland, body: JSON.stringify(blandFixture), sign: (s, b) => signBland(s, b) },
  {
    name: "elevenlabs",
    adapter: elevenlabs,
    body: JSON.stringify(elevenFixture),
    sign: (s, b, at) => signElevenLabs(s, b, Math.floor(at / 1000)),
    maxAgeMs: 30 * 60_000,
  },
];

const check = (c: Case, headers: Record<string, string>, opts: { body?: string; secrets?: string[]; now?: number } = {}) =>
  c.adapter.verify({ headers: new Headers(headers), rawBody: opts.body ?? c.body, secrets: opts.secrets ?? [SECRET], now: opts.now ?? NOW });

describe.each(cases)("$name verify", (c) => {
  it("accepts a body signed with the secret", async () => {
    expect(await check(c, await c.sign(SECRET, c.body, NOW))).toEqual({ ok: true });
  });

  it("refuses a body signed with another secret", async () => {
    const result = await check(c, await c.sign("wrong-secret", c.body, NOW));
    expect(result).toMatchObject({ ok: false });
    expect(result).not.toHaveProperty("stale");
    if (!result.ok) expect(result.reason).not.toContain(SECRET);
  });

  it("refuses a body changed after signing", async () => {
    const headers = await c.sign(SECRET, c.body, NOW);
    const tampered = c.body.replace("+14155551234", "+14155550000");
    expect(tampered).not.toBe(c.body);
    expect(await check(c, headers, { body: tampered })).toMatchObject({ ok: false });
  });

  it("accepts any of several secrets, in any order, during rotation", async () => {
    expect(await check(c, await c.sign(SECRET, c.body, NOW), { secrets: [OTHER, SECRET] })).toEqual({ ok: true });
    expect(await check(c, await c.sign(OTHER, c.body, NOW), { secrets: [OTHER, SECRET] })).toEqual({ ok: true });
    expect(await check(c, await c.sign(OTHER, c.body, NOW), { secrets: [SECRET] })).toMatchObject({ ok: false });
  });

  it("refuses a request without the signature header", async () => {
    const result = await check(c, {});
    expect(result).toMatchObject({ ok: false });
    if (!result.ok) expect(result.reason).toMatch(/missing|send/i);
  });

  it("accepts a signature sent in upper-case hex", async () => {
    const headers = await c.sign(SECRET, c.body, NOW);
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.replace(/[0-9a-f]{64}/, (hex) => hex.toUpperCase())]));
    expect(await check(c, upper)).toEqual({ ok: true });
  });

  if (c.maxAgeMs !== undefined) {
    const maxAge = c.maxAgeMs;
    it("refuses a correctly signed but stale request, and says the timestamp is the reason", async () => {
      const sentAt = NOW - maxAge - 60_000;
      const result = await check(c, await c.sign(SECRET, c.body, sentAt));
      expect(result).toMatchObject({ ok: false, stale: true });
      if (!result.ok) expect(result.reason).toMatch(/timestamp/);
    });

    it("accepts a request just inside the window", async () => {
      expect(await check(c, await c.sign(SECRET, c.body, NOW - maxAge + 5_000))).toEqual({ ok: true });
    });

    it("refuses a timestamp far in the future", async () => {
      expect(await check(c, await c.sign(SECRET, c.body, NOW + maxAge + 60_000))).toMatchObject({ ok: false, stale: true });
    });
  } else {
    it("has no replay window: an old signature still verifies (dedupe makes a replay harmless)", async () => {
      expect(await check(c, await c.sign(SECRET, c.body, 0), { now: NOW + 365 * 86_400_000 })).toEqual({ ok: true });
    });
  }
});

/**
 * Digests computed outside JavaScript (Python's hmac module) over the compact JSON of each
 * fixture, so a mistake shared by the adapters and tests/sign.ts would still show.
 */
describe("signatures computed independently", () => {
  it("vapi: x-signature over `{x-timestamp}.{body}`", async () => {
    const headers = { "x-timestamp": "1787324562", "x-signature": "c3fa099f2bccd929e08de711f825e71437b9c0423ff67defe12e0fec53ee1eac" };
    const result = await vapi.verify({ headers: new Headers(headers), rawBody: JSON.stringify(vapiFixture), secrets: ["vapi_secret_test"], now: 1787324562_000 });
    expect(result).toEqual({ ok: true });
  });

  it("retell: d over `{body}{v}`", async () => {
    const headers = { "x-retell-signature": "v=1787324430000,d=3da7fdb949748184c8c74dd9afa4c49d27f45fd5e6fd8b67e8672acd980c778e" };
    const result = await retell.verify({ headers: new Headers(headers), rawBody: JSON.stringify(retellFixture), secrets: ["key_retell_test"], now: 1787324430000 });
    expect(result).toEqual({ ok: true });
  });

  it("bland: hex over the body", async () => {
    const headers = { "x-webhook-signature": "52f02e4cae55e0cd99ec62b99d6cf1d7ecf4728a48a79c6fb6c355793800f075" };
    const result = await bland.verify({ headers: new Headers(headers), rawBody: JSON.stringify(blandFixture), secrets: ["bland_secret_test"], now: NOW });
    expect(result).toEqual({ ok: true });
  });

  it("elevenlabs: v0 over `{t}.{body}`", async () => {
    const headers = { "elevenlabs-signature": "t=1787324562,v0=00a91cebf4a3b3ccb060f9a899182e3cbd4d4e3a26bd938ba26369de206a272b" };
    const result = await elevenlabs.verify({ headers: new Headers(headers), rawBody: JSON.stringify(elevenFixture), secrets: ["wsec_eleven_test"], now: 1787324562_000 });
    expect(result).toEqual({ ok: true });
  });
});

describe("vapi verify: the other credential forms", () => {
  const body = JSON.stringify(vapiFixture);
  const verify = (headers: Record<string, string>, secrets = [SECRET]) => vapi.verify({ headers: new Headers(headers), rawBody: body, secrets, now: NOW });

  it("accepts the legacy X-Vapi-Secret header", async () => {
    expect(await verify({ "X-Vapi-Secret": SECRET })).toEqual({ ok: true });
    expect(await verify({ "X-Vapi-Secret": `${SECRET}x` })).toMatchObject({ ok: false });
  });

  it("accepts a Bearer Token credential, and any rotated secret", async () => {
    expect(await verify({ authorization: `Bearer ${SECRET}` })).toEqual({ ok: true });
    expect(await verify({ authorization: `Bearer ${SECRET}` }, [OTHER, SECRET])).toEqual({ ok: true });
    expect(await verify({ authorization: "Bearer nope" })).toMatchObject({ ok: false, reason: expect.stringMatching(/VAPI_WEBHOOK_SECRET/) });
    expect(await verify({ authorization: `Basic ${SECRET}` })).toMatchObject({ ok: false });
  });

  it("accepts an x-timestamp in milliseconds and a sha256= prefix", async () => {
    expect(await verify(await signVapi(SECRET, body, NOW))).toEqual({ ok: true });
    expect(await verify(await signVapi(SECRET, body, Math.floor(NOW / 1000), "sha256="))).toEqual({ ok: true });
  });

  it("judges a request with x-signature by its signature alone, and needs x-timestamp", async () => {
    const forged = { "x-signature": "00".repeat(32), "x-timestamp": String(NOW / 1000), "x-vapi-secret": SECRET };
    expect(await verify(forged)).toMatchObject({ ok: false });
    const signed = await signVapi(SECRET, body, NOW / 1000);
    expect(await verify({ "x-signature": signed["x-signature"]! })).toMatchObject({ ok: false, reason: expect.stringMatching(/x-timestamp/) });
    expect(await verify({ ...signed, "x-timestamp": "yesterday" })).toMatchObject({ ok: false });
  });
});

describe("retell and elevenlabs verify: malformed headers", () => {
  it("retell needs v=<ms>,d=<64 hex digits>", async () => {
    for (const header of ["d=abc,v=1", `v=${NOW},d=${"0".repeat(63)}`, `v=${NOW}`, "garbage"]) {
      const result = await retell.verify({ headers: new Headers({ "x-retell-signature": header }), rawBody: "{}", secrets: [SECRET], now: NOW });
      expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/v=<unix ms>/) });
    }
  });

  it("elevenlabs needs both t= and v0=, and accepts either order", async () => {
    const body = "{}";
    const signed = (await signElevenLabs(SECRET, body, NOW / 1000))["ElevenLabs-Signature"]!;
    const [t, v0] = signed.split(",");
    const verify = (header: string) => elevenlabs.verify({ headers: new Headers({ "elevenlabs-signature": header }), rawBody: body, secrets: [SECRET], now: NOW });
    expect(await verify(`${v0},${t}`)).toEqual({ ok: true });
    expect(await verify(t!)).toMatchObject({ ok: false });
    expect(await verify(v0!)).toMatchObject({ ok: false });
  });
});

describe("bland verify: the signed serialisation", () => {
  it("accepts a signature over the compact JSON when the body arrives pretty-printed (Bland's sample hashes JSON.stringify)", async () => {
    const compact = JSON.stringify(blandFixture);
    const pretty = JSON.stringify(blandFixture, null, 2);
    const headers = new Headers(await signBland(SECRET, compact));
    expect(await bland.verify({ headers, rawBody: pretty, secrets: [SECRET], now: NOW })).toEqual({ ok: true });
    // Same content, so nothing unverified is read; changed content still fails.
    const changed = pretty.replace("Customer confirmed", "Customer cancelled");
    expect(await bland.verify({ headers, rawBody: changed, secrets: [SECRET], now: NOW })).toMatchObject({ ok: false });
  });
});
