import { describe, expect, it } from "vitest";
import { jsonResponse, runAction } from "./harness";

const SETTINGS = { TELNYX_API_KEY: "KEY0123", TELNYX_FROM: "+15005550006" };
const ACTION = { type: "sms", template: "Thanks for calling {agent_name}! Your reference number is {call_id}.", provider: "telnyx" };
const ID = "40385f64-5717-4562-b3fc-2c963f66afa6";
const SENT = {
  data: { record_type: "message", direction: "outbound", id: ID, type: "SMS", parts: 1, to: [{ phone_number: "+14155551234", status: "queued" }] },
};

describe("telnyx", () => {
  it("posts the documented JSON to /v2/messages with a Bearer key and reads data.id", async () => {
    const run = await runAction(ACTION, SETTINGS, () => jsonResponse(200, SENT));
    expect(run.requests).toHaveLength(1);
    const req = run.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://api.telnyx.com/v2/messages");
    expect(req.headers.get("authorization")).toBe("Bearer KEY0123");
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(req.body)).toEqual({
      from: "+15005550006",
      to: "+14155551234",
      text: `Thanks for calling Acme Support! Your reference number is ${run.call_id}.`,
    });
    expect(run.delivery.status).toBe("delivered");
    expect(run.queue).toMatchObject({ acked: true, retried: false });
    const attempt = run.delivery.attempt_log[0];
    expect(attempt).toMatchObject({ provider: "telnyx", provider_id: ID });
    expect(attempt.detail).toMatch(/^1 segment/);
  });

  it("sends messaging_profile_id when that is the sender", async () => {
    const run = await runAction(ACTION, { TELNYX_API_KEY: "KEY0123", TELNYX_MESSAGING_PROFILE_ID: "16fd2706-8baf-433b-82eb-8c7fada847da" }, () =>
      jsonResponse(200, SENT),
    );
    const body = JSON.parse(run.requests[0]!.body);
    expect(body).toMatchObject({ messaging_profile_id: "16fd2706-8baf-433b-82eb-8c7fada847da", to: "+14155551234" });
    expect(body).not.toHaveProperty("from");
  });

  it("fails without a request when no sender is configured", async () => {
    const run = await runAction(ACTION, { TELNYX_API_KEY: "KEY0123" }, () => jsonResponse(200, SENT));
    expect(run.requests).toHaveLength(0);
    expect(run.delivery.status).toBe("failed");
    expect(run.delivery.last_error).toMatch(/TELNYX_FROM or TELNYX_MESSAGING_PROFILE_ID/);
  });

  it("fails permanently on a 422 with code, title and detail in the error", async () => {
    const run = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(422, {
        errors: [
          {
            code: "40310",
            title: "Invalid 'to' address",
            detail: "The 'to' address should be in E.164 format.",
            source: { pointer: "/to" },
          },
        ],
      }),
    );
    expect(run.delivery.status).toBe("failed");
    expect(run.queue).toMatchObject({ acked: true, retried: false });
    expect(run.delivery.last_error).toContain("40310");
    expect(run.delivery.last_error).toContain("Invalid 'to' address");
    expect(run.delivery.last_error).toContain("The 'to' address should be in E.164 format.");
  });

  it("fails permanently on a 401", async () => {
    const run = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(401, { errors: [{ code: "10009", title: "Authentication failed", detail: "The API key looks malformed." }] }),
    );
    expect(run.delivery.status).toBe("failed");
    expect(run.delivery.last_error).toMatch(/10009 Authentication failed: The API key looks malformed/);
  });

  it("retries a 429 after the Retry-After delay, and a 5xx", async () => {
    const limited = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(429, { errors: [{ code: "10011", title: "Too many requests" }] }, { "retry-after": "17" }),
    );
    expect(limited.delivery.status).toBe("retrying");
    expect(limited.queue).toMatchObject({ acked: true, retried: true, retryDelay: 17 });
    expect(limited.delivery.last_error).toContain("10011");

    const down = await runAction(ACTION, SETTINGS, () => jsonResponse(502, { errors: [{ code: "10007", title: "Unexpected error" }] }));
    expect(down.delivery.status).toBe("retrying");
    expect(down.queue.retried).toBe(true);
  });

  it("honours TELNYX_BASE_URL", async () => {
    const run = await runAction(ACTION, { ...SETTINGS, TELNYX_BASE_URL: "https://telnyx.double.test" }, () => jsonResponse(200, SENT));
    expect(run.requests[0]!.url).toBe("https://telnyx.double.test/v2/messages");
  });

  it("is chosen without `provider` when only its credentials are set", async () => {
    const { provider: _, ...unnamed } = ACTION;
    const run = await runAction(unnamed, SETTINGS, () => jsonResponse(200, SENT));
    expect(run.requests[0]!.url).toBe("https://api.telnyx.com/v2/messages");
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider: "telnyx", provider_id: ID });
  });

  it("is chosen by SMS_PROVIDER over an earlier configured provider", async () => {
    const { provider: _, ...unnamed } = ACTION;
    const twilio = { TWILIO_ACCOUNT_SID: "AC123", TWILIO_AUTH_TOKEN: "tok", TWILIO_FROM: "+15005550006" };
    const run = await runAction(unnamed, { ...twilio, ...SETTINGS, SMS_PROVIDER: "telnyx" }, () => jsonResponse(200, SENT));
    expect(run.requests.map((r) => new URL(r.url).host)).toEqual(["api.telnyx.com"]);
    expect(run.delivery.attempt_log[0].provider).toBe("telnyx");
  });
});
