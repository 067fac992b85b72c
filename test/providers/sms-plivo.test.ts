import { describe, expect, it } from "vitest";
import { plivo } from "../../src/providers/sms/plivo";
import { jsonResponse, runAction } from "./harness";

const SETTINGS = { PLIVO_AUTH_ID: "MAXXXXXXXXXXXXXXXXXX", PLIVO_AUTH_TOKEN: "plivo-token", PLIVO_FROM: "+15005550006" };
const ACTION = { type: "sms", template: "Thanks for calling {agent_name}! Your reference number is {call_id}.", provider: "plivo" };
const UUID = "db3ce55a-7f1d-11e1-8ea7-1231380bc196";
const QUEUED = { message: "message(s) queued", message_uuid: [UUID], api_id: "db342550-7f1d-11e1-8ea7-1231380bc196" };
const decodeBasic = (header: string | null) => atob((header ?? "").replace(/^Basic /, ""));

describe("plivo", () => {
  it("posts the documented JSON to /v1/Account/{auth_id}/Message/ with Basic auth and reads the uuid", async () => {
    const run = await runAction(ACTION, SETTINGS, () => jsonResponse(202, QUEUED));
    expect(run.requests).toHaveLength(1);
    const req = run.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://api.plivo.com/v1/Account/MAXXXXXXXXXXXXXXXXXX/Message/");
    expect(decodeBasic(req.headers.get("authorization"))).toBe("MAXXXXXXXXXXXXXXXXXX:plivo-token");
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(req.body)).toEqual({
      src: "+15005550006",
      dst: "+14155551234",
      text: `Thanks for calling Acme Support! Your reference number is ${run.call_id}.`,
    });
    expect(run.delivery.status).toBe("delivered");
    expect(run.queue).toMatchObject({ acked: true, retried: false });
    const attempt = run.delivery.attempt_log[0];
    expect(attempt).toMatchObject({ provider: "plivo", provider_id: UUID, status_code: 202 });
    expect(attempt.detail).toMatch(/^1 segment/);
  });

  it("sends powerpack_uuid (and no src) when that is the sender", async () => {
    const { PLIVO_FROM: _, ...credentials } = SETTINGS;
    const run = await runAction(ACTION, { ...credentials, PLIVO_POWERPACK_UUID: "d2fa3f6f-6c95-4c1a-9c1a-3c7f0c4b5a11" }, () => jsonResponse(202, QUEUED));
    const body = JSON.parse(run.requests[0]!.body);
    expect(body).toMatchObject({ powerpack_uuid: "d2fa3f6f-6c95-4c1a-9c1a-3c7f0c4b5a11", dst: "+14155551234" });
    expect(body).not.toHaveProperty("src");
  });

  it("fails without a request when no sender is configured", async () => {
    const { PLIVO_FROM: _, ...credentials } = SETTINGS;
    const run = await runAction(ACTION, credentials, () => jsonResponse(202, QUEUED));
    expect(run.requests).toHaveLength(0);
    expect(run.delivery.status).toBe("failed");
    expect(run.delivery.last_error).toMatch(/PLIVO_FROM or PLIVO_POWERPACK_UUID/);
  });

  it("never sends a recipient carrying Plivo's bulk separator", async () => {
    // Refused as not a phone number before any provider sees it.
    const run = await runAction({ ...ACTION, to: "{{caller_number}}<+15551230000" }, SETTINGS, () => jsonResponse(202, QUEUED));
    expect(run.requests).toHaveLength(0);
    expect(run.delivery.status).toBe("skipped");
    expect(run.delivery.last_error).toMatch(/not a valid phone number/);
    // And the provider refuses it on its own as well.
    expect(() =>
      plivo.buildRequest({ to: "+14155551234<+15551230000", body: "x" }, { delivery_id: "d", idempotency_key: "d", settings: SETTINGS }),
    ).toThrow(/bulk separator/);
  });

  it("fails permanently on a 400 with Plivo's error text", async () => {
    const run = await runAction(ACTION, SETTINGS, () => jsonResponse(400, { api_id: "e4b5c6d7-0000-11e1-8ea7-1231380bc196", error: "invalid destination number" }));
    expect(run.delivery.status).toBe("failed");
    expect(run.queue).toMatchObject({ acked: true, retried: false });
    expect(run.delivery.last_error).toContain("400");
    expect(run.delivery.last_error).toContain("invalid destination number");
  });

  it("fails permanently on a 401 even without a JSON body", async () => {
    const run = await runAction(ACTION, SETTINGS, () => new Response("Could not verify your access level for that URL.", { status: 401 }));
    expect(run.delivery.status).toBe("failed");
    expect(run.delivery.last_error).toMatch(/HTTP 401.*Could not verify/);
  });

  it("retries a 429 after the Retry-After delay, and a 5xx", async () => {
    const limited = await runAction(ACTION, SETTINGS, () => jsonResponse(429, { api_id: "x", error: "too many requests" }, { "retry-after": "5" }));
    expect(limited.delivery.status).toBe("retrying");
    expect(limited.queue).toMatchObject({ acked: true, retried: true, retryDelay: 5 });

    const down = await runAction(ACTION, SETTINGS, () => jsonResponse(500, { api_id: "x", error: "internal error" }));
    expect(down.delivery.status).toBe("retrying");
    expect(down.queue.retried).toBe(true);
  });

  it("honours PLIVO_BASE_URL", async () => {
    const run = await runAction(ACTION, { ...SETTINGS, PLIVO_BASE_URL: "https://plivo.double.test" }, () => jsonResponse(202, QUEUED));
    expect(run.requests[0]!.url).toBe("https://plivo.double.test/v1/Account/MAXXXXXXXXXXXXXXXXXX/Message/");
  });

  it("is chosen without `provider` when only its credentials are set", async () => {
    const { provider: _, ...unnamed } = ACTION;
    const run = await runAction(unnamed, SETTINGS, () => jsonResponse(202, QUEUED));
    expect(new URL(run.requests[0]!.url).host).toBe("api.plivo.com");
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider: "plivo", provider_id: UUID });
  });
});
