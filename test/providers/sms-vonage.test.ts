import { describe, expect, it } from "vitest";
import { jsonResponse, runAction, type SeenRequest } from "./harness";

const SETTINGS = { VONAGE_API_KEY: "abcd1234", VONAGE_API_SECRET: "s3cr3tValue", VONAGE_FROM: "+15005550006" };
const ACTION = { type: "sms", template: "Thanks for calling {agent_name}! Your reference number is {call_id}.", provider: "vonage" };

const part = (fields: Record<string, string>) => ({ to: "14155551234", ...fields });
const answer = (...messages: Record<string, string>[]) =>
  jsonResponse(200, { "message-count": String(messages.length), messages: messages.map(part) });
const SENT = answer({ "message-id": "0A0000000123ABCD1", status: "0", "remaining-balance": "3.14159265", "message-price": "0.03330000", network: "12345" });
const form = (req: SeenRequest) => Object.fromEntries(new URLSearchParams(req.body));

describe("vonage", () => {
  it("posts the documented form to /sms/json with credentials only in the body", async () => {
    const run = await runAction(ACTION, SETTINGS, () => SENT);
    expect(run.requests).toHaveLength(1);
    const req = run.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://rest.nexmo.com/sms/json");
    expect(req.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    expect(form(req)).toEqual({
      api_key: "abcd1234",
      api_secret: "s3cr3tValue",
      from: "15005550006",
      to: "14155551234",
      text: `Thanks for calling Acme Support! Your reference number is ${run.call_id}.`,
    });
    expect(req.url).not.toContain("s3cr3tValue");
    expect([...req.headers].some(([, value]) => value.includes("s3cr3tValue"))).toBe(false);

    expect(run.delivery.status).toBe("delivered");
    expect(run.queue).toMatchObject({ acked: true, retried: false });
    const attempt = run.delivery.attempt_log[0];
    expect(attempt).toMatchObject({ provider: "vonage", provider_id: "0A0000000123ABCD1" });
    expect(attempt.detail).toMatch(/^1 segment \(GSM-7/);
  });

  it("keeps an alphanumeric sender as it is", async () => {
    const run = await runAction(ACTION, { ...SETTINGS, VONAGE_FROM: "AcmeInc" }, () => SENT);
    expect(form(run.requests[0]!).from).toBe("AcmeInc");
  });

  it("sends type=unicode for a UCS-2 text", async () => {
    const run = await runAction({ ...ACTION, template: "Booked ✓ ref {call_id}" }, SETTINGS, () => SENT);
    expect(form(run.requests[0]!)).toMatchObject({ type: "unicode", text: `Booked ✓ ref ${run.call_id}` });
    expect(run.delivery.attempt_log[0].detail).toMatch(/^1 segment \(UCS-2/);
  });

  it("reads a multi-part answer: the first message-id when every part is accepted", async () => {
    const run = await runAction({ ...ACTION, template: `${"x".repeat(200)} {call_id}` }, SETTINGS, () =>
      answer({ "message-id": "PART-1", status: "0" }, { "message-id": "PART-2", status: "0" }),
    );
    expect(run.delivery.status).toBe("delivered");
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider_id: "PART-1" });
    expect(run.delivery.attempt_log[0].detail).toMatch(/^2 segments/);
  });

  it("fails without retrying when only some parts went out, since a retry would resend them", async () => {
    const run = await runAction(ACTION, SETTINGS, () =>
      answer({ "message-id": "PART-1", status: "0" }, { status: "1", "error-text": "Throughput Rate Exceeded - please wait [ 1000 ] and retry" }),
    );
    expect(run.delivery.status).toBe("failed");
    expect(run.queue.retried).toBe(false);
    expect(run.delivery.last_error).toMatch(/status 1: Throughput Rate Exceeded.*1 of 2 parts were sent/);
  });

  it.each([
    ["3", "Invalid to number"],
    ["29", "Non White-listed Destination - rejected"],
  ])("fails permanently on status %s inside a 200", async (status, text) => {
    const run = await runAction(ACTION, SETTINGS, () => answer({ status, "error-text": text }));
    expect(run.delivery.status).toBe("failed");
    expect(run.queue).toMatchObject({ acked: true, retried: false });
    expect(run.delivery.last_error).toContain(`status ${status}`);
    expect(run.delivery.last_error).toContain(text);
  });

  it("names the status when Vonage gives no error-text", async () => {
    const run = await runAction(ACTION, SETTINGS, () => answer({ status: "4" }));
    expect(run.delivery.status).toBe("failed");
    expect(run.delivery.last_error).toContain("status 4: Invalid Credentials");
  });

  it("retries status 1 (Throttled) inside a 200", async () => {
    const run = await runAction(ACTION, SETTINGS, () => answer({ status: "1", "error-text": "Throughput Rate Exceeded - please wait [ 1000 ] and retry" }));
    expect(run.delivery.status).toBe("retrying");
    expect(run.queue).toMatchObject({ acked: true, retried: true });
    expect(run.delivery.last_error).toContain("status 1");
  });

  it("retries an HTTP 429 after the Retry-After delay, and a 5xx", async () => {
    const limited = await runAction(ACTION, SETTINGS, () => new Response("Too Many Requests", { status: 429, headers: { "retry-after": "9" } }));
    expect(limited.delivery.status).toBe("retrying");
    expect(limited.queue).toMatchObject({ retried: true, retryDelay: 9 });

    const down = await runAction(ACTION, SETTINGS, () => new Response("Service Unavailable", { status: 503 }));
    expect(down.delivery.status).toBe("retrying");
    expect(down.queue.retried).toBe(true);
  });

  it("fails on a 200 it cannot read rather than risk sending twice", async () => {
    const run = await runAction(ACTION, SETTINGS, () => new Response("<html>ok</html>", { status: 200 }));
    expect(run.delivery.status).toBe("failed");
    expect(run.delivery.last_error).toMatch(/without a messages array/);
  });

  it("honours VONAGE_BASE_URL", async () => {
    const run = await runAction(ACTION, { ...SETTINGS, VONAGE_BASE_URL: "https://vonage.double.test/" }, () => SENT);
    expect(run.requests[0]!.url).toBe("https://vonage.double.test/sms/json");
  });

  it("is chosen without `provider` when only its credentials are set", async () => {
    const { provider: _, ...unnamed } = ACTION;
    const run = await runAction(unnamed, SETTINGS, () => SENT);
    expect(run.requests[0]!.url).toBe("https://rest.nexmo.com/sms/json");
    expect(run.delivery.attempt_log[0].provider).toBe("vonage");
  });
});
