import { describe, expect, it } from "vitest";
import { PLATFORMS, parsePlatformBody, platformFor, platformSecrets } from "../../src/platforms";
import { readSecrets, splitSecrets } from "../../src/platforms/signature";
import { PLATFORM_NAMES, PlatformCallEvent } from "../../src/schemas/platform-event";

describe("platform registry", () => {
  it("has one adapter per platform name, named after it", () => {
    expect(Object.keys(PLATFORMS).sort()).toEqual([...PLATFORM_NAMES].sort());
    for (const name of PLATFORM_NAMES) expect(platformFor(name)?.name).toBe(name);
    expect(platformFor("twilio")).toBeUndefined();
    expect(platformFor("__proto__")).toBeUndefined();
  });

  it("reads each platform's secret settings", () => {
    expect(PLATFORMS.vapi.secretSetting).toEqual(["VAPI_WEBHOOK_SECRET"]);
    expect(PLATFORMS.retell.secretSetting).toEqual(["RETELL_WEBHOOK_KEY", "RETELL_API_KEY"]);
    expect(PLATFORMS.bland.secretSetting).toEqual(["BLAND_WEBHOOK_SECRET"]);
    expect(PLATFORMS.elevenlabs.secretSetting).toEqual(["ELEVENLABS_WEBHOOK_SECRET"]);
  });

  it("falls back from RETELL_WEBHOOK_KEY to RETELL_API_KEY, and the first setting wins outright", () => {
    expect(platformSecrets(PLATFORMS.retell, { RETELL_API_KEY: "key_api" })).toEqual({
      secrets: ["key_api"],
      setting: "RETELL_API_KEY",
      candidates: ["RETELL_WEBHOOK_KEY", "RETELL_API_KEY"],
    });
    expect(platformSecrets(PLATFORMS.retell, { RETELL_WEBHOOK_KEY: "key_hook", RETELL_API_KEY: "key_api" }).secrets).toEqual(["key_hook"]);
    expect(platformSecrets(PLATFORMS.retell, { RETELL_WEBHOOK_KEY: "  ", RETELL_API_KEY: "key_api" }).setting).toBe("RETELL_API_KEY");
  });

  it("names no setting when none is set", () => {
    expect(platformSecrets(PLATFORMS.bland, {})).toMatchObject({ secrets: [], setting: null, candidates: ["BLAND_WEBHOOK_SECRET"] });
    expect(readSecrets({ X: 42 }, ["X"])).toEqual({ secrets: [], setting: null });
  });

  it("splits space-separated secrets for rotation", () => {
    expect(splitSecrets(" old\tnew \n")).toEqual(["old", "new"]);
    expect(splitSecrets(undefined)).toEqual([]);
    expect(platformSecrets(PLATFORMS.vapi, { VAPI_WEBHOOK_SECRET: "a b" }).secrets).toEqual(["a", "b"]);
  });

  it("parses a verified body, and answers a problem for one that is not JSON", () => {
    expect(parsePlatformBody('{"a":1}')).toEqual({ ok: true, payload: { a: 1 } });
    expect(parsePlatformBody("{")).toMatchObject({ ok: false, problem: { path: "$", message: expect.stringMatching(/not JSON/) } });
  });
});

describe("platform event schema", () => {
  const base = { call_id: "c1", agent_id: "a1" };

  it("adds ended_reason and the outcome vocabulary to the canonical event", () => {
    const parsed = PlatformCallEvent.parse({ ...base, ended_reason: "customer-busy", outcome: "busy" });
    expect(parsed).toEqual({ ...base, ended_reason: "customer-busy", outcome: "busy" });
    expect(PlatformCallEvent.parse({ ...base, ended_reason: null, outcome: null })).toMatchObject({ ended_reason: null, outcome: null });
  });

  it("keeps any other outcome string as given, within 128 characters", () => {
    const outcome = (value: string) => PlatformCallEvent.safeParse({ ...base, outcome: value });
    expect(outcome("callback_booked")).toMatchObject({ success: true, data: { outcome: "callback_booked" } });
    expect(outcome("").success).toBe(false);
    expect(outcome("x".repeat(129)).success).toBe(false);
    expect(PlatformCallEvent.safeParse({ ...base, ended_reason: "x".repeat(257) }).success).toBe(false);
  });
});
