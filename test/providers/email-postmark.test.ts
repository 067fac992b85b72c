import { describe, expect, it } from "vitest";
import { jsonResponse, runAction } from "./harness";

const SETTINGS = { POSTMARK_SERVER_TOKEN: "pm-server-token", EMAIL_FROM: "Acme <support@acme.test>" };
const ACTION = {
  type: "email",
  to: "{{caller_email}}",
  subject: "Your call summary — {date}",
  body_template: "call_summary",
  provider: "postmark",
};
const SENT = () =>
  jsonResponse(200, {
    To: "john@example.com",
    SubmittedAt: "2026-03-10T15:04:06.1234567Z",
    MessageID: "b7bc2f4a-e38e-4336-af7d-e6c392c2f817",
    ErrorCode: 0,
    Message: "OK",
  });

describe("postmark email provider", () => {
  it("posts the documented JSON to /email with the server token and records MessageID", async () => {
    const run = await runAction(ACTION, SETTINGS, SENT);
    expect(run.requests).toHaveLength(1);
    const req = run.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://api.postmarkapp.com/email");
    expect(req.headers.get("x-postmark-server-token")).toBe("pm-server-token");
    expect(req.headers.get("accept")).toBe("application/json");
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(req.headers.get("authorization")).toBeNull();
    const body = JSON.parse(req.body);
    expect(body).toMatchObject({ From: "Acme <support@acme.test>", To: "john@example.com", MessageStream: "outbound" });
    expect(body.Subject).toMatch(/^Your call summary — \S/);
    expect(body.TextBody).toContain("John Smith");
    expect(body.HtmlBody).toContain("John Smith");
    expect(body.Metadata).toEqual({ delivery_id: run.delivery.id });
    expect(run.delivery).toMatchObject({ status: "delivered", provider: "postmark" });
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider: "postmark", provider_id: "b7bc2f4a-e38e-4336-af7d-e6c392c2f817" });
    expect(run.queue).toMatchObject({ acked: true, retried: false });
  });

  it("uses POSTMARK_MESSAGE_STREAM and POSTMARK_BASE_URL", async () => {
    const run = await runAction(
      ACTION,
      { ...SETTINGS, POSTMARK_MESSAGE_STREAM: "call-summaries", POSTMARK_BASE_URL: "https://postmark.double.test/" },
      SENT,
    );
    expect(run.requests[0]!.url).toBe("https://postmark.double.test/email");
    expect(JSON.parse(run.requests[0]!.body).MessageStream).toBe("call-summaries");
  });

  it("fails a 422 inactive recipient (ErrorCode 406) at once, naming the code", async () => {
    const run = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(422, {
        ErrorCode: 406,
        Message: "You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: john@example.com.",
      }),
    );
    expect(run.delivery.status).toBe("failed");
    expect(run.delivery.last_error).toContain("postmark ErrorCode 406 (inactive recipient): You tried to send to recipient(s)");
    expect(run.queue).toMatchObject({ acked: true, retried: false });
  });

  it("fails every 422 and a 401 at once", async () => {
    for (const [status, code, message] of [
      [422, 300, "Invalid 'To' address: 'john@'."],
      [422, 412, "While your account is pending approval, all recipients must share the same domain as the 'From' address."],
      [422, 999, "Something new."],
      [401, 10, "Request does not contain a valid Server token."],
    ] as const) {
      const run = await runAction(ACTION, SETTINGS, () => jsonResponse(status, { ErrorCode: code, Message: message }));
      expect(run.delivery.status, String(code)).toBe("failed");
      expect(run.delivery.last_error, String(code)).toContain(`postmark ErrorCode ${code}`);
      expect(run.delivery.last_error, String(code)).toContain(message);
      expect(run.queue.retried, String(code)).toBe(false);
    }
  });

  it("retries a 429 after its Retry-After, and a 500", async () => {
    const limited = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(429, { ErrorCode: 429, Message: "Rate limit exceeded" }, { "retry-after": "20" }),
    );
    expect(limited.delivery.status).toBe("retrying");
    expect(limited.queue).toMatchObject({ retried: true, retryDelay: 20 });

    const down = await runAction(ACTION, SETTINGS, () => jsonResponse(500, { ErrorCode: 100, Message: "Maintenance" }));
    expect(down.delivery.status).toBe("retrying");
    expect(down.delivery.last_error).toContain("Maintenance");
    expect(down.queue.retried).toBe(true);
  });

  it("is chosen without `provider` when only its token is set", async () => {
    const { provider: _, ...unnamed } = ACTION;
    const run = await runAction(unnamed, SETTINGS, SENT);
    expect(run.requests[0]!.url).toBe("https://api.postmarkapp.com/email");
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider: "postmark" });
  });
});
