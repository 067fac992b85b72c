import { describe, expect, it } from "vitest";
import { parseMailbox } from "../../src/providers/email/address";
import { jsonResponse, runAction } from "./harness";

const SETTINGS = { SENDGRID_API_KEY: "SG.test-key", EMAIL_FROM: "Acme <support@acme.test>" };
const ACTION = {
  type: "email",
  to: "{{caller_email}}",
  subject: "Your call summary — {date}",
  body_template: "call_summary",
  provider: "sendgrid",
};
const ACCEPTED = () => new Response(null, { status: 202, headers: { "x-message-id": "W9t7fFTbQ3-Xq2CGk0Ck8g" } });

describe("sendgrid email provider", () => {
  it("posts the documented v3 mail/send JSON and records X-Message-Id", async () => {
    const run = await runAction(ACTION, SETTINGS, ACCEPTED);
    expect(run.requests).toHaveLength(1);
    const req = run.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://api.sendgrid.com/v3/mail/send");
    expect(req.headers.get("authorization")).toBe("Bearer SG.test-key");
    expect(req.headers.get("content-type")).toBe("application/json");
    const body = JSON.parse(req.body);
    expect(body.personalizations).toEqual([{ to: [{ email: "john@example.com" }] }]);
    expect(body.from).toEqual({ email: "support@acme.test", name: "Acme" });
    expect(body.subject).toMatch(/^Your call summary — \S/);
    expect(body.content.map((c: any) => c.type)).toEqual(["text/plain", "text/html"]);
    expect(body.content[0].value).toContain("John Smith");
    expect(body.content[1].value).toContain("<");
    expect(body.custom_args).toEqual({ delivery_id: run.delivery.id });
    expect(run.delivery).toMatchObject({ status: "delivered", provider: "sendgrid" });
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider: "sendgrid", provider_id: "W9t7fFTbQ3-Xq2CGk0Ck8g", status_code: 202 });
    expect(run.queue).toMatchObject({ acked: true, retried: false });
  });

  it("sends only text/plain for a plain body, and a bare sender without a name", async () => {
    const run = await runAction({ ...ACTION, body_template: undefined, body: "Thanks" }, { ...SETTINGS, EMAIL_FROM: "support@acme.test" }, ACCEPTED);
    const body = JSON.parse(run.requests[0]!.body);
    expect(body.content).toEqual([{ type: "text/plain", value: "Thanks" }]);
    expect(body.from).toEqual({ email: "support@acme.test" });
  });

  it("fails a 400 or 403 at once with SendGrid's messages and fields", async () => {
    const run = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(403, {
        errors: [
          {
            message: "The from address does not match a verified Sender Identity.",
            field: "from",
            help: "https://sendgrid.com/docs/for-developers/sending-email/sender-identity/",
          },
        ],
      }),
    );
    expect(run.delivery.status).toBe("failed");
    expect(run.delivery.last_error).toContain("sendgrid 403: The from address does not match a verified Sender Identity. (field: from)");
    expect(run.queue).toMatchObject({ acked: true, retried: false });

    const bad = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(400, { errors: [{ message: "Does not contain a valid address.", field: "personalizations.0.to.0.email" }] }),
    );
    expect(bad.delivery.last_error).toContain("(field: personalizations.0.to.0.email)");
    expect(bad.queue.retried).toBe(false);
  });

  it("retries a 429 until its X-RateLimit-Reset epoch, and a 503", async () => {
    const reset = Math.floor(Date.now() / 1000) + 60;
    const limited = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(429, { errors: [{ message: "too many requests", field: null }] }, { "x-ratelimit-reset": String(reset) }),
    );
    expect(limited.delivery.status).toBe("retrying");
    expect(limited.queue.retried).toBe(true);
    expect(limited.queue.retryDelay).toBeGreaterThanOrEqual(58);
    expect(limited.queue.retryDelay).toBeLessThanOrEqual(61);

    const down = await runAction(ACTION, SETTINGS, () => new Response("Service Unavailable", { status: 503 }));
    expect(down.delivery.status).toBe("retrying");
    expect(down.delivery.last_error).toContain("sendgrid HTTP 503");
    expect(down.queue.retried).toBe(true);
  });

  it("uses the EU host for SENDGRID_REGION=eu, and SENDGRID_BASE_URL over both", async () => {
    const eu = await runAction(ACTION, { ...SETTINGS, SENDGRID_REGION: "eu" }, ACCEPTED);
    expect(eu.requests[0]!.url).toBe("https://api.eu.sendgrid.com/v3/mail/send");
    const custom = await runAction(ACTION, { ...SETTINGS, SENDGRID_REGION: "eu", SENDGRID_BASE_URL: "http://sendgrid.double.test" }, ACCEPTED);
    expect(custom.requests[0]!.url).toBe("http://sendgrid.double.test/v3/mail/send");
  });

  it("is the one EMAIL_PROVIDER names, even when Resend is configured too", async () => {
    const { provider: _, ...unnamed } = ACTION;
    const run = await runAction(unnamed, { ...SETTINGS, RESEND_API_KEY: "re_test", EMAIL_PROVIDER: "sendgrid" }, ACCEPTED);
    expect(run.requests[0]!.url).toBe("https://api.sendgrid.com/v3/mail/send");
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider: "sendgrid", provider_id: "W9t7fFTbQ3-Xq2CGk0Ck8g" });
  });
});

describe("parseMailbox", () => {
  it("splits names from addresses", () => {
    expect(parseMailbox("Acme <support@acme.test>")).toEqual({ email: "support@acme.test", name: "Acme" });
    expect(parseMailbox('"Acme, Inc. \\"HQ\\"" <hq@acme.test>')).toEqual({ email: "hq@acme.test", name: 'Acme, Inc. "HQ"' });
    expect(parseMailbox("<bare@acme.test>")).toEqual({ email: "bare@acme.test" });
    expect(parseMailbox(" bare@acme.test ")).toEqual({ email: "bare@acme.test" });
  });
});
