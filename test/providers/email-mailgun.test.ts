import { describe, expect, it } from "vitest";
import { multipartBody } from "../../src/providers/http";
import { jsonResponse, runAction, type SeenRequest } from "./harness";

const SETTINGS = { MAILGUN_API_KEY: "key-test", MAILGUN_DOMAIN: "mg.acme.test", EMAIL_FROM: "Acme <support@acme.test>" };
const ACTION = {
  type: "email",
  to: "{{caller_email}}",
  subject: "Your call summary — {date}",
  body_template: "call_summary",
  provider: "mailgun",
};
const ID = "<20260310150406.1.ABCDEF0123456789@mg.acme.test>";
const QUEUED = () => jsonResponse(200, { id: ID, message: "Queued. Thank you." });

/** Reads a request body as a multipart/form-data parser (workerd's own) sees it. */
async function formOf(req: SeenRequest): Promise<FormData> {
  return new Response(req.body, { headers: { "content-type": req.headers.get("content-type")! } }).formData();
}

describe("mailgun email provider", () => {
  it("posts the documented multipart form to /v3/{domain}/messages with Basic auth and records the id", async () => {
    const run = await runAction(ACTION, SETTINGS, QUEUED);
    expect(run.requests).toHaveLength(1);
    const req = run.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://api.mailgun.net/v3/mg.acme.test/messages");
    expect(req.headers.get("authorization")).toBe(`Basic ${btoa("api:key-test")}`);
    expect(req.headers.get("content-type")).toBe(`multipart/form-data; boundary=callrelay-${run.delivery.id}`);
    const form = await formOf(req);
    expect([...form.keys()].sort()).toEqual(["from", "h:X-Callrelay-Delivery", "html", "subject", "text", "to"]);
    expect(form.get("from")).toBe("Acme <support@acme.test>");
    expect(form.get("to")).toBe("john@example.com");
    expect(form.get("subject")).toMatch(/^Your call summary — \S/);
    expect(form.get("text")).toContain("John Smith");
    expect(form.get("html")).toContain("John Smith");
    expect(form.get("html")).toContain("<");
    expect(form.get("h:X-Callrelay-Delivery")).toBe(run.delivery.id);
    expect(run.delivery).toMatchObject({ status: "delivered", provider: "mailgun" });
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider: "mailgun", provider_id: ID });
    expect(run.queue).toMatchObject({ acked: true, retried: false });
  });

  it("leaves html out of a plain-text email, and sends exactly this body on every attempt", async () => {
    const action = { ...ACTION, subject: "Thanks", body_template: undefined, body: "Thanks" };
    const run = await runAction(action, SETTINGS, QUEUED);
    const req = run.requests[0]!;
    const b = `callrelay-${run.delivery.id}`;
    const part = (name: string, value: string) => [`--${b}`, `Content-Disposition: form-data; name="${name}"`, "", value];
    expect(req.body).toBe(
      [
        ...part("from", "Acme <support@acme.test>"),
        ...part("to", "john@example.com"),
        ...part("subject", "Thanks"),
        ...part("text", "Thanks"),
        ...part("h:X-Callrelay-Delivery", run.delivery.id),
        `--${b}--`,
        "",
      ].join("\r\n"),
    );
    const form = await formOf(req);
    expect(form.has("html")).toBe(false);
    expect(form.get("text")).toBe("Thanks");
  });

  it("keeps UTF-8 subjects and bodies intact, line breaks included", async () => {
    const action = { ...ACTION, subject: "Résumé — ✓ 日本語 {{caller_name}}", body_template: undefined, body: "Merci, Zoë!\nÇa va ✓ 😀\r\nfin" };
    const run = await runAction(action, SETTINGS, QUEUED);
    const form = await formOf(run.requests[0]!);
    expect(form.get("subject")).toBe("Résumé — ✓ 日本語 John Smith");
    expect(form.get("text")).toBe("Merci, Zoë!\nÇa va ✓ 😀\r\nfin");
    expect(run.delivery.status).toBe("delivered");
  });

  it("picks another boundary when a value contains the first one", () => {
    const clash = multipartBody({ text: "see --callrelay-dlv_1 here" }, "callrelay-dlv_1");
    expect(clash.contentType).toBe("multipart/form-data; boundary=callrelay-dlv_1-1");
    expect(clash.body).toBe('--callrelay-dlv_1-1\r\nContent-Disposition: form-data; name="text"\r\n\r\nsee --callrelay-dlv_1 here\r\n--callrelay-dlv_1-1--\r\n');
    expect(multipartBody({ text: "x" }, "callrelay-dlv_1")).toEqual(multipartBody({ text: "x" }, "callrelay-dlv_1"));
  });

  it("fails a 400 with Mailgun's message, and a plain-text 401, at once", async () => {
    const bad = await runAction(ACTION, SETTINGS, () => jsonResponse(400, { message: "to parameter is not a valid address. please check documentation" }));
    expect(bad.delivery.status).toBe("failed");
    expect(bad.delivery.last_error).toContain("mailgun 400: to parameter is not a valid address");
    expect(bad.queue).toMatchObject({ acked: true, retried: false });

    const denied = await runAction(ACTION, SETTINGS, () => new Response("Forbidden", { status: 401 }));
    expect(denied.delivery.status).toBe("failed");
    expect(denied.delivery.last_error).toContain("mailgun HTTP 401: Forbidden");
    expect(denied.queue.retried).toBe(false);
  });

  it("retries a 429 after its Retry-After, and a 502", async () => {
    const limited = await runAction(ACTION, SETTINGS, () => jsonResponse(429, { message: "Too many requests" }, { "retry-after": "45" }));
    expect(limited.delivery.status).toBe("retrying");
    expect(limited.delivery.last_error).toContain("mailgun 429: Too many requests");
    expect(limited.queue).toMatchObject({ retried: true, retryDelay: 45 });

    const down = await runAction(ACTION, SETTINGS, () => new Response("Bad Gateway", { status: 502 }));
    expect(down.delivery.status).toBe("retrying");
    expect(down.queue.retried).toBe(true);
  });

  it("uses the EU host for MAILGUN_REGION=eu, and MAILGUN_BASE_URL over both", async () => {
    const eu = await runAction(ACTION, { ...SETTINGS, MAILGUN_REGION: "EU" }, QUEUED);
    expect(eu.requests[0]!.url).toBe("https://api.eu.mailgun.net/v3/mg.acme.test/messages");
    const custom = await runAction(ACTION, { ...SETTINGS, MAILGUN_REGION: "eu", MAILGUN_BASE_URL: "http://mailgun.double.test" }, QUEUED);
    expect(custom.requests[0]!.url).toBe("http://mailgun.double.test/v3/mg.acme.test/messages");
  });

  it("needs MAILGUN_DOMAIN as well as the key to be configured", async () => {
    const { MAILGUN_DOMAIN: _, ...noDomain } = SETTINGS;
    const run = await runAction(ACTION, noDomain, QUEUED);
    expect(run.requests).toHaveLength(0);
    expect(run.delivery.status).toBe("failed");
    expect(run.delivery.last_error).toContain("MAILGUN_DOMAIN");
  });
});
