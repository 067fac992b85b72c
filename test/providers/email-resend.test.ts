import { describe, expect, it } from "vitest";
import { resend, secondsUntilUtcMidnight } from "../../src/providers/email/resend";
import { jsonResponse, runAction } from "./harness";

const SETTINGS = { RESEND_API_KEY: "re_test", EMAIL_FROM: "Acme <support@acme.test>" };
const ACTION = {
  type: "email",
  to: "{{caller_email}}",
  subject: "Your call summary — {date}",
  body_template: "call_summary",
  provider: "resend",
};
const SENT = () => jsonResponse(200, { id: "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794" });

describe("resend email provider", () => {
  it("posts the documented JSON to /emails, keyed by the delivery id, and records the email id", async () => {
    const run = await runAction(ACTION, SETTINGS, SENT);
    expect(run.requests).toHaveLength(1);
    const req = run.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://api.resend.com/emails");
    expect(req.headers.get("authorization")).toBe("Bearer re_test");
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(req.headers.get("idempotency-key")).toBe(run.delivery.id);
    expect(req.headers.get("user-agent")).toBeTruthy();
    const body = JSON.parse(req.body);
    expect(Object.keys(body).sort()).toEqual(["from", "html", "subject", "text", "to"]);
    expect(body.from).toBe("Acme <support@acme.test>");
    expect(body.to).toEqual(["john@example.com"]);
    expect(body.subject).toMatch(/^Your call summary — \S/);
    expect(body.html).toContain("John Smith");
    expect(body.text).toContain("John Smith");
    expect(run.delivery).toMatchObject({ status: "delivered", provider: "resend" });
    expect(run.delivery.attempt_log[0]).toMatchObject({
      provider: "resend",
      provider_id: "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794",
      status_code: 200,
    });
    expect(run.queue).toMatchObject({ acked: true, retried: false });
  });

  it("omits html for a plain-text body", async () => {
    const run = await runAction({ ...ACTION, body_template: undefined, body: "Thanks {{caller_name}}" }, SETTINGS, SENT);
    const body = JSON.parse(run.requests[0]!.body);
    expect(body).not.toHaveProperty("html");
    expect(body.text).toBe("Thanks John Smith");
  });

  it("fails a 422 validation_error at once with Resend's name and message", async () => {
    const run = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(422, { statusCode: 422, name: "validation_error", message: "Invalid `to` field." }),
    );
    expect(run.delivery.status).toBe("failed");
    expect(run.delivery.last_error).toContain("resend validation_error: Invalid `to` field.");
    expect(run.queue).toMatchObject({ acked: true, retried: false });
  });

  it("fails a 403 invalid_api_key at once", async () => {
    const run = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(403, { statusCode: 403, name: "invalid_api_key", message: "API key is invalid" }),
    );
    expect(run.delivery).toMatchObject({ status: "failed" });
    expect(run.delivery.last_error).toContain("resend invalid_api_key");
    expect(run.queue.retried).toBe(false);
  });

  it("retries a 429 rate_limit_exceeded after the ratelimit-reset it gives", async () => {
    const run = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(
        429,
        { statusCode: 429, name: "rate_limit_exceeded", message: "Too many requests. You can only make 2 requests per second." },
        { "ratelimit-limit": "2", "ratelimit-remaining": "0", "ratelimit-reset": "7" },
      ),
    );
    expect(run.delivery.status).toBe("retrying");
    expect(run.delivery.last_error).toContain("resend rate_limit_exceeded");
    expect(run.queue).toMatchObject({ retried: true, retryDelay: 7 });
  });

  it("retries a 429 after its Retry-After", async () => {
    const run = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(429, { statusCode: 429, name: "rate_limit_exceeded", message: "slow down" }, { "retry-after": "12" }),
    );
    expect(run.queue).toMatchObject({ retried: true, retryDelay: 12 });
    // A 429 without Resend's error body is read as a rate limit too.
    const bare = await runAction(ACTION, SETTINGS, () => new Response("Too Many Requests", { status: 429, headers: { "retry-after": "9" } }));
    expect(bare.queue).toMatchObject({ retried: true, retryDelay: 9 });
  });

  it("retries a 429 daily_quota_exceeded at the next 00:00 UTC, when the quota resets", async () => {
    const answer = {
      status: 429,
      headers: new Headers({ "retry-after": "1" }),
      body: JSON.stringify({ statusCode: 429, name: "daily_quota_exceeded", message: "You have reached your daily email sending quota." }),
    };
    const now = Date.UTC(2026, 2, 10, 21, 30, 15, 500);
    expect(resend.parseResponse(answer, now)).toMatchObject({
      outcome: "retry",
      status_code: 429,
      // 2 h 29 min 44.5 s to midnight, rounded up; the Retry-After of 1 s is not what ends a daily quota.
      retry_after_seconds: 2 * 3600 + 29 * 60 + 45,
      error: "resend daily_quota_exceeded: You have reached your daily email sending quota.",
    });
    const run = await runAction(ACTION, SETTINGS, () => new Response(answer.body, { status: 429, headers: { "content-type": "application/json" } }));
    expect(run.delivery.status).toBe("retrying");
    expect(run.queue.retried).toBe(true);
  });

  it("counts seconds to the next 00:00 UTC", () => {
    expect(secondsUntilUtcMidnight(Date.UTC(2026, 0, 1, 0, 0, 0))).toBe(86_400);
    expect(secondsUntilUtcMidnight(Date.UTC(2026, 0, 1, 23, 59, 59, 999))).toBe(1);
    expect(secondsUntilUtcMidnight(Date.UTC(2026, 11, 31, 12, 0, 0))).toBe(43_200);
  });

  it("fails a 429 monthly_quota_exceeded at once: no retry schedule outlasts a month", async () => {
    const run = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(429, { statusCode: 429, name: "monthly_quota_exceeded", message: "You have reached your monthly email sending quota." }, { "retry-after": "30" }),
    );
    expect(run.delivery.status).toBe("failed");
    expect(run.delivery.last_error).toContain("resend monthly_quota_exceeded");
    expect(run.queue).toMatchObject({ acked: true, retried: false });
  });

  it("retries a 500 and a concurrent_idempotent_requests 409", async () => {
    for (const [status, name] of [
      [500, "internal_server_error"],
      [409, "concurrent_idempotent_requests"],
    ] as const) {
      const run = await runAction(ACTION, SETTINGS, () => jsonResponse(status, { statusCode: status, name, message: "try later" }));
      expect(run.delivery.status, name).toBe("retrying");
      expect(run.queue.retried, name).toBe(true);
    }
  });

  it("honours RESEND_BASE_URL", async () => {
    const run = await runAction(ACTION, { ...SETTINGS, RESEND_BASE_URL: "https://resend.proxy.test/v1/" }, SENT);
    expect(run.requests[0]!.url).toBe("https://resend.proxy.test/v1/emails");
    expect(run.delivery.status).toBe("delivered");
  });

  it("is chosen without `provider` when its key is set, ahead of providers later in the list", async () => {
    const { provider: _, ...unnamed } = ACTION;
    const run = await runAction(unnamed, { ...SETTINGS, SENDGRID_API_KEY: "SG.test", POSTMARK_SERVER_TOKEN: "pm" }, SENT);
    expect(run.requests[0]!.url).toBe("https://api.resend.com/emails");
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider: "resend" });
  });

  it("is not configured without EMAIL_FROM, so naming it fails the action", async () => {
    const run = await runAction(ACTION, { RESEND_API_KEY: "re_test" }, SENT);
    expect(run.requests).toHaveLength(0);
    expect(run.delivery.status).toBe("failed");
    expect(run.delivery.last_error).toContain("EMAIL_FROM");
  });
});
