import { describe, expect, it } from "vitest";
import { readConfig } from "../src/config";
import { AppError } from "../src/errors";
import { jsonResponse, runAction, type SeenRequest } from "./providers/harness";
import { putAgent, request, uniqueId } from "./helpers";

const TWILIO = { TWILIO_ACCOUNT_SID: "AC123", TWILIO_AUTH_TOKEN: "tok", TWILIO_FROM: "+15005550006" };
const CREATED = { sid: "SM0123456789abcdef0123456789abcdef", status: "queued", num_segments: "1" };
const form = (req: SeenRequest) => Object.fromEntries(new URLSearchParams(req.body));
const sms = (extra: Record<string, unknown> = {}) => ({ type: "sms", template: "Thanks! Your number: {{caller_number}}", provider: "twilio", ...extra });

describe("SMS recipients through the consumer", () => {
  it("skips an SMS to 'anonymous' with the reason and makes no request", async () => {
    const run = await runAction(sms(), { ...TWILIO, DEFAULT_COUNTRY: "US" }, () => jsonResponse(201, CREATED), { caller_number: "anonymous" });
    expect(run.requests).toHaveLength(0);
    expect(run.delivery.status).toBe("skipped");
    expect(run.delivery.last_error).toMatch(/not a valid phone number: "anonymous" is not a phone number/);
    expect(run.queue).toMatchObject({ acked: true, retried: false });
  });

  it("skips a number without + when no default country is set", async () => {
    for (const caller_number of ["4155551234", "415-555-1234"]) {
      const run = await runAction(sms(), TWILIO, () => jsonResponse(201, CREATED), { caller_number });
      expect(run.requests).toHaveLength(0);
      expect(run.delivery.status).toBe("skipped");
      expect(run.delivery.last_error).toMatch(/has no country code/);
    }
  });

  it("skips a number that is too short", async () => {
    const run = await runAction(sms({ to: "+1 415 555" }), TWILIO, () => jsonResponse(201, CREATED));
    expect(run.requests).toHaveLength(0);
    expect(run.delivery.status).toBe("skipped");
    expect(run.delivery.last_error).toMatch(/too short/);
  });

  it("sends 415-555-1234 as +14155551234 with DEFAULT_COUNTRY=US, and templates see E.164", async () => {
    const run = await runAction(sms(), { ...TWILIO, DEFAULT_COUNTRY: "US" }, () => jsonResponse(201, CREATED), {
      caller_number: "415-555-1234",
    });
    expect(run.requests).toHaveLength(1);
    expect(form(run.requests[0]!)).toMatchObject({ To: "+14155551234", Body: "Thanks! Your number: +14155551234" });
    expect(run.delivery.status).toBe("delivered");
  });

  it("normalises a literal recipient written with its country code, with no default country", async () => {
    const run = await runAction(sms({ to: "+44 20 7946 0958" }), TWILIO, () => jsonResponse(201, CREATED));
    expect(form(run.requests[0]!).To).toBe("+442079460958");
  });
});

describe("default countries", () => {
  it("refuses a bad DEFAULT_COUNTRY naming it", () => {
    for (const value of ["USA", "ZZ", "1"]) {
      try {
        readConfig({ DEFAULT_COUNTRY: value });
        expect.unreachable(`${value} should be refused`);
      } catch (err) {
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).status).toBe(503);
        expect((err as AppError).message).toContain("DEFAULT_COUNTRY");
      }
    }
    expect(readConfig({ DEFAULT_COUNTRY: " gb " }).defaultCountry).toBe("GB");
    expect(readConfig({ DEFAULT_COUNTRY: "" }).defaultCountry).toBeUndefined();
  });

  it("refuses a bad agent default_country with 422 naming $.default_country, and stores a good one upper-cased", async () => {
    const id = uniqueId("agent");
    const bad = await request("PUT", `/agents/${id}`, { default_country: "XX" });
    expect(bad.status).toBe(422);
    const problem = (await bad.json()) as any;
    expect(JSON.stringify(problem)).toContain("$.default_country");
    const saved = (await putAgent(id, { default_country: "gb" })) as any;
    expect(saved.default_country).toBe("GB");
    expect(((await (await request("GET", `/agents/${id}`)).json()) as any).default_country).toBe("GB");
  });

  it("preview reads numbers in the agent's default_country over DEFAULT_COUNTRY", async () => {
    const id = uniqueId("agent");
    await putAgent(id, {
      default_country: "GB",
      voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "sms", template: "Hi {{caller_number}}" }] } },
    });
    const res = await request("POST", `/agents/${id}/preview`, { call: { caller_number: "020 7946 0958" } });
    const preview = (await res.json()) as any;
    expect(preview.actions[0]).toMatchObject({ status: "ready", message: { to: "+442079460958", body: "Hi +442079460958" } });

    const bare = uniqueId("agent");
    await putAgent(bare, { voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "sms", template: "Hi" }] } } });
    const skipped = (await (await request("POST", `/agents/${bare}/preview`, { call: { caller_number: "anonymous" } })).json()) as any;
    expect(skipped.actions[0]).toMatchObject({ status: "skipped" });
    expect(skipped.actions[0].reason).toMatch(/"anonymous" is not a phone number/);
  });
});

describe("an agent's default_country when a message is sent", () => {
  it("reads a number written without + in the agent's country, through the real consumer", async () => {
    const run = await runAction(
      { type: "sms", template: "Hi", to: "07700 900123", provider: "twilio" },
      { TWILIO_ACCOUNT_SID: "AC123", TWILIO_AUTH_TOKEN: "tok", TWILIO_FROM: "+15005550006" },
      () => jsonResponse(201, { sid: "SM1", status: "queued" }),
      {},
      { default_country: "GB" },
    );
    expect(run.requests).toHaveLength(1);
    expect(new URLSearchParams(run.requests[0]!.body).get("To")).toBe("+447700900123");
  });
});
