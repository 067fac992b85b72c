import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/config";
import { webhookCall } from "../../src/providers/webhook";
import {
  ROTATION_OVERLAP_SECONDS,
  activeSecrets,
  chooseSigningSecrets,
  generateSigningSecret,
  overlapEnd,
} from "../../src/security/signing-secrets";
import { decodeSecret, signatureHeader, signWebhook } from "../../src/security/standard-webhooks";

const OLD = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NEW = "whsec_dGVzdC13ZWJob29rLXNpZ25pbmctc2VjcmV0";
const BODY = JSON.stringify({ event: "post_call_follow_up", call_id: "call_1" });

const headersOf = (call: { headers: Record<string, string> }) => ({
  "webhook-id": call.headers["webhook-id"]!,
  "webhook-timestamp": call.headers["webhook-timestamp"]!,
  "webhook-signature": call.headers["webhook-signature"]!,
});

describe("rotating WEBHOOK_SIGNING_SECRET", () => {
  it("takes several space-separated secrets", () => {
    expect(readConfig({ WEBHOOK_SIGNING_SECRET: ` ${OLD}  ${NEW} ` }).webhookSigningSecrets).toEqual([OLD, NEW]);
    expect(readConfig({ WEBHOOK_SIGNING_SECRET: OLD }).webhookSigningSecrets).toEqual([OLD]);
    expect(readConfig({}).webhookSigningSecrets).toEqual([]);
    expect(() => readConfig({ WEBHOOK_SIGNING_SECRET: `${OLD} whsec_***` })).toThrow(/WEBHOOK_SIGNING_SECRET/);
  });

  it("signs with every secret, one v1 entry each, and each secret alone verifies (official library)", async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const call = await webhookCall({ url: "https://crm.example.com/hook", body: BODY, id: "msg_1", secrets: [OLD, NEW], timestamp });
    const entries = call.headers["webhook-signature"]!.split(" ");
    expect(entries).toHaveLength(2);
    expect(entries.every((e) => e.startsWith("v1,"))).toBe(true);
    expect(new Webhook(OLD).verify(BODY, headersOf(call))).toEqual(JSON.parse(BODY));
    expect(new Webhook(NEW).verify(BODY, headersOf(call))).toEqual(JSON.parse(BODY));
    expect(() => new Webhook(generateSigningSecret()).verify(BODY, headersOf(call))).toThrow(/No matching signature/);
  });

  it("one secret gives exactly the single-signature header", async () => {
    const input = { id: "msg_1", timestamp: 1_700_000_000, body: BODY };
    expect(await signatureHeader({ ...input, secrets: [OLD] })).toBe(await signWebhook({ ...input, secret: OLD }));
    await expect(signatureHeader({ ...input, secrets: [] })).rejects.toThrow(/at least one secret/);
  });
});

describe("per-agent signing secrets", () => {
  const now = new Date("2026-03-10T12:00:00.000Z");
  const at = (offsetSeconds: number) => new Date(now.getTime() + offsetSeconds * 1000).toISOString();

  it("generates whsec_ secrets of 32 random bytes", () => {
    const a = generateSigningSecret();
    expect(a).toMatch(/^whsec_/);
    expect(decodeSecret(a)).toHaveLength(32);
    expect(generateSigningSecret()).not.toBe(a);
  });

  it("keeps a replaced secret for 24 hours, then drops it", () => {
    expect(ROTATION_OVERLAP_SECONDS).toBe(86_400);
    const stored = [
      { secret: "old", created_at: at(-3600), expires_at: overlapEnd(now) },
      { secret: "new", created_at: at(0), expires_at: null },
    ];
    expect(activeSecrets(stored, now)).toEqual(["new", "old"]);
    expect(activeSecrets(stored, new Date(now.getTime() + 86_399_000))).toEqual(["new", "old"]);
    expect(activeSecrets(stored, new Date(now.getTime() + 86_400_000))).toEqual(["new"]);
  });

  it("an agent with its own secrets signs with those only; otherwise the deployment's", () => {
    expect(chooseSigningSecrets(["a1"], ["d1", "d2"])).toEqual({ secrets: ["a1"], source: "agent" });
    expect(chooseSigningSecrets([], ["d1", "d2"])).toEqual({ secrets: ["d1", "d2"], source: "deployment" });
    expect(chooseSigningSecrets([], [])).toEqual({ secrets: [], source: "deployment" });
  });
});
