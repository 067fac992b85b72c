import { describe, expect, it } from "vitest";
import { jsonResponse, runAction, type SeenRequest } from "./harness";

const SETTINGS = { TWILIO_ACCOUNT_SID: "AC123", TWILIO_AUTH_TOKEN: "tok", TWILIO_FROM: "+15005550006" };
const ACTION = { type: "sms", template: "Thanks for calling {agent_name}! Your reference number is {call_id}.", provider: "twilio" };
const CREATED = { sid: "SM0123456789abcdef0123456789abcdef", status: "queued", num_segments: "1" };

const decodeBasic = (header: string | null) => atob((header ?? "").replace(/^Basic /, ""));
const form = (req: SeenRequest) => Object.fromEntries(new URLSearchParams(req.body));
const twilioError = (status: number, code: number, message: string) =>
  jsonResponse(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

describe("twilio", () => {
  it("posts the documented form to Messages.json with Basic auth and reads the sid", async () => {
    const run = await runAction(ACTION, SETTINGS, () => jsonResponse(201, CREATED));
    expect(run.requests).toHaveLength(1);
    const req = run.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json");
    expect(decodeBasic(req.headers.get("authorization"))).toBe("AC123:tok");
    expect(req.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    expect(form(req)).toEqual({
      To: "+14155551234",
      From: "+15005550006",
      Body: `Thanks for calling Acme Support! Your reference number is ${run.call_id}.`,
    });
    expect(run.delivery.status).toBe("delivered");
    expect(run.queue).toMatchObject({ acked: true, retried: false });
    const attempt = run.delivery.attempt_log[0];
    expect(attempt).toMatchObject({ provider: "twilio", provider_id: CREATED.sid });
    expect(attempt.detail).toMatch(/^1 segment \(GSM-7/);
  });

  it("sends MessagingServiceSid instead of From when only the service is set", async () => {
    const { TWILIO_FROM: _, ...credentials } = SETTINGS;
    const run = await runAction(ACTION, { ...credentials, TWILIO_MESSAGING_SERVICE_SID: " MG999 " }, () => jsonResponse(201, CREATED));
    const fields = form(run.requests[0]!);
    expect(fields.MessagingServiceSid).toBe("MG999");
    expect(fields).not.toHaveProperty("From");
    expect(run.delivery.status).toBe("delivered");
  });

  it("fails without a request when no sender is configured", async () => {
    const { TWILIO_FROM: _, ...credentials } = SETTINGS;
    const run = await runAction(ACTION, credentials, () => jsonResponse(201, CREATED));
    expect(run.requests).toHaveLength(0);
    expect(run.delivery.status).toBe("failed");
    expect(run.delivery.last_error).toMatch(/TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID/);
  });

  it.each([
    [21211, "The 'To' number +14155551234 is not a valid phone number.", /invalid 'To' number/],
    [21614, "'To' number is not a valid mobile number", /not a mobile number/],
    [21610, "Attempt to send to unsubscribed recipient", /unsubscribed/],
  ])("fails permanently on a 400 with code %i", async (code, message, hint) => {
    const run = await runAction(ACTION, SETTINGS, () => twilioError(400, code, message));
    expect(run.delivery.status).toBe("failed");
    expect(run.queue).toMatchObject({ acked: true, retried: false });
    expect(run.delivery.last_error).toContain(String(code));
    expect(run.delivery.last_error).toContain(message);
    expect(run.delivery.last_error).toMatch(hint);
    expect(run.delivery.attempt_log[0].status_code).toBe(400);
  });

  it("fails permanently on bad credentials (401, 20003)", async () => {
    const run = await runAction(ACTION, SETTINGS, () => twilioError(401, 20003, "Authenticate"));
    expect(run.delivery.status).toBe("failed");
    expect(run.delivery.last_error).toMatch(/20003.*authentication.*Authenticate/);
  });

  it("retries a 429 (20429) after the Retry-After delay", async () => {
    const run = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(429, { code: 20429, message: "Too Many Requests", more_info: "https://www.twilio.com/docs/errors/20429", status: 429 }, { "retry-after": "42" }),
    );
    expect(run.delivery.status).toBe("retrying");
    expect(run.queue).toMatchObject({ acked: true, retried: true, retryDelay: 42 });
    expect(run.delivery.last_error).toContain("20429");
  });

  it("retries a 5xx", async () => {
    const run = await runAction(ACTION, SETTINGS, () => new Response("upstream unavailable", { status: 503 }));
    expect(run.delivery.status).toBe("retrying");
    expect(run.queue.retried).toBe(true);
  });

  it("honours TWILIO_BASE_URL", async () => {
    const run = await runAction(ACTION, { ...SETTINGS, TWILIO_BASE_URL: "https://twilio.double.test/" }, () => jsonResponse(201, CREATED));
    expect(run.requests[0]!.url).toBe("https://twilio.double.test/2010-04-01/Accounts/AC123/Messages.json");
  });

  it("is chosen without `provider` when its credentials are set", async () => {
    const { provider: _, ...unnamed } = ACTION;
    const run = await runAction(unnamed, SETTINGS, () => jsonResponse(201, CREATED));
    expect(run.requests[0]!.url).toMatch(/^https:\/\/api\.twilio\.com\//);
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider: "twilio", provider_id: CREATED.sid });
  });
});
