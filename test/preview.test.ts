import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { previewAgent } from "../src/pipeline/preview";
import { encodingsOf, redact } from "../src/providers/redact";
import { SAMPLE_CALL } from "../src/templates/sample-call";
import { SEED_CONFIG, putAgent, request, uniqueId } from "./helpers";

describe("POST /agents/{agent_id}/preview", () => {
  it("renders every action of the seed config against the built-in sample call", async () => {
    const id = uniqueId("agent");
    await putAgent(id, { name: "Acme Support", ...SEED_CONFIG });
    const res = await request("POST", `/agents/${id}/preview`);
    expect(res.status).toBe(200);
    const preview = (await res.json()) as any;
    expect(preview.sample).toBe(true);
    const [sms, webhook, email] = preview.actions;
    expect(sms).toMatchObject({
      status: "ready",
      provider: "outbox",
      message: { to: "+14155551234", body: "Thanks for calling Acme Support! Your reference number is call_sample_0001." },
      sms: { encoding: "GSM-7", segments: 1 },
    });
    expect(webhook.status).toBe("ready");
    expect(webhook.request.url).toBe("https://your-crm.com/api/call-completed");
    expect(webhook.request.headers["webhook-signature"]).toMatch(/^v1,/);
    expect(JSON.parse(webhook.request.body)).toMatchObject({ event: "post_call_follow_up", call_id: "call_sample_0001" });
    expect(email.message.subject).toBe("Your call summary — 2026-03-10");
    expect(email.message.html).toContain("Acme Support");
  });

  it("uses a call you give, and sends nothing", async () => {
    const id = uniqueId("agent");
    await putAgent(id, { voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "sms", template: "Hi {{caller_name}} ✓" }] } } });
    const res = await request("POST", `/agents/${id}/preview`, { call: { caller_number: "+447700900123", metadata: { caller_name: "Ada" } } });
    const preview = (await res.json()) as any;
    expect(preview.sample).toBe(false);
    expect(preview.actions[0].message).toEqual({ to: "+447700900123", body: "Hi Ada ✓" });
    expect(preview.actions[0].sms.encoding).toBe("UCS-2");
    const outbox = (await (await request("GET", "/outbox?call_id=call_preview")).json()) as any;
    expect(outbox.messages).toHaveLength(0);
  });

  it("shows a skipped action and why", async () => {
    const id = uniqueId("agent");
    await putAgent(id, { voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "email", to: "{{caller_email}}", subject: "Hi", body: "x" }] } } });
    const preview = (await (await request("POST", `/agents/${id}/preview`, { call: { metadata: {} } })).json()) as any;
    expect(preview.actions[0]).toMatchObject({ status: "skipped" });
    expect(preview.actions[0].reason).toMatch(/no recipient/);
  });

  it("answers 404 for an unknown agent and 422 for a malformed call", async () => {
    expect((await request("POST", `/agents/${uniqueId("ghost")}/preview`)).status).toBe(404);
    const id = uniqueId("agent");
    await putAgent(id);
    const res = await request("POST", `/agents/${id}/preview`, { call: { duration_seconds: "long" } });
    expect(res.status).toBe(422);
    expect(((await res.json()) as any).errors[0].path).toBe("$.call.duration_seconds");
  });

  it("answers 422 naming an unknown field instead of previewing the sample", async () => {
    const id = uniqueId("agent");
    await putAgent(id);
    const res = await request("POST", `/agents/${id}/preview`, { calls: {} });
    expect(res.status).toBe(422);
    expect(((await res.json()) as any).errors).toEqual([expect.objectContaining({ path: "$.calls", message: "unknown field" })]);
  });
});

describe("per-agent templates", () => {
  it("overrides a built-in body for one agent only", async () => {
    const id = uniqueId("agent");
    await putAgent(id, {
      templates: { call_summary: { html: "<p>Bye {{caller_name}}</p>", text: "Bye {{caller_name}}" } },
      voice_tools: {
        post_call_follow_up: {
          enabled: true,
          actions: [{ type: "email", to: "{{caller_email}}", subject: "Summary", body_template: "call_summary" }],
        },
      },
    });
    const preview = (await (await request("POST", `/agents/${id}/preview`, { call: { metadata: { caller_email: "a@b.test", caller_name: "<Ann>" } } })).json()) as any;
    expect(preview.actions[0].message).toMatchObject({ html: "<p>Bye &lt;Ann&gt;</p>", text: "Bye <Ann>" });
  });

  it("validates template bodies and provider names on save, with paths", async () => {
    const res = await request("PUT", `/agents/${uniqueId("agent")}`, {
      templates: { welcome: { html: "<p>{{nope}}</p>", text: "ok" } },
      voice_tools: {
        post_call_follow_up: {
          enabled: true,
          actions: [
            { type: "sms", template: "Hi", provider: "carrier-pigeon" },
            { type: "email", to: "{{caller_email}}", subject: "S", body_template: "welcome" },
          ],
        },
      },
    });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as any;
    const byPath = Object.fromEntries(problem.errors.map((e: any) => [e.path, e.message]));
    expect(byPath["$.templates.welcome.html"]).toMatch(/nope/);
    expect(byPath["$.voice_tools.post_call_follow_up.actions[0].provider"]).toMatch(/outbox/);
    expect(byPath).not.toHaveProperty(["$.voice_tools.post_call_follow_up.actions[1].body_template"]);
  });
});

describe("preview of a provider request", () => {
  it("shows the exact request with every credential redacted", async () => {
    const agent = {
      id: "agent_preview",
      name: "Acme Support",
      templates: {},
      created_at: "",
      updated_at: "",
      voice_tools: {
        post_call_follow_up: {
          enabled: true,
          actions: [
            { type: "sms" as const, template: "Hi {{caller_name}}" },
            { type: "sms" as const, template: "Hi", provider: "vonage" as const },
          ],
        },
      },
    };
    const settings = {
      TWILIO_ACCOUNT_SID: "AC0123456789",
      TWILIO_AUTH_TOKEN: "twilio-secret-token",
      TWILIO_FROM: "+15005550006",
      VONAGE_API_KEY: "vonage-key-1",
      VONAGE_API_SECRET: "vonage-secret-1",
      VONAGE_FROM: "Acme",
    };
    const [twilio, vonage] = await previewAgent(agent, SAMPLE_CALL, { ...env, ...settings } as CloudflareBindings);
    expect(twilio).toMatchObject({ status: "ready", provider: "twilio", provider_choice: "the one whose credentials are set" });
    expect(twilio!.request).toMatchObject({
      method: "POST",
      url: "https://api.twilio.com/2010-04-01/Accounts/AC0123456789/Messages.json",
      headers: { authorization: "[redacted]" },
    });
    expect(new URLSearchParams((twilio!.request as any).body).get("Body")).toBe("Hi John Smith");
    expect(vonage!.provider).toBe("vonage");
    const shown = JSON.stringify([twilio, vonage]);
    for (const secret of ["twilio-secret-token", "vonage-secret-1", "vonage-key-1", btoa("AC0123456789:twilio-secret-token")]) {
      expect(shown).not.toContain(secret);
    }
  });
});

describe("redaction of provider secrets", () => {
  const agentWith = (actions: unknown[]) => ({
    id: "agent_redact",
    name: "Acme Support",
    templates: {},
    created_at: "",
    updated_at: "",
    voice_tools: { post_call_follow_up: { enabled: true, actions } },
  });
  // Every character here changes under percent-, form- or JSON-encoding.
  const NASTY = 'a+b/c=d&e f"g';
  const preview = (actions: unknown[], settings: Record<string, string>) =>
    previewAgent(agentWith(actions) as any, SAMPLE_CALL, { ...env, ...settings } as CloudflareBindings);

  it("removes Vonage's api_secret from the form body, where it is form-encoded", async () => {
    const settings = { VONAGE_API_KEY: "vonage-key-1", VONAGE_API_SECRET: NASTY, VONAGE_FROM: "Acme" };
    const [vonage] = await preview([{ type: "sms", template: "Hi", provider: "vonage" }], settings);
    expect(vonage!.status).toBe("ready");
    const body = (vonage!.request as any).body as string;
    expect(new URLSearchParams(body).get("api_secret")).toBe("[redacted]");
    expect(new URLSearchParams(body).get("api_key")).toBe("[redacted]");
    expect(new URLSearchParams(body).get("text")).toBe("Hi");
    const shown = JSON.stringify(vonage);
    for (const form of [...encodingsOf(NASTY), "a%2Bb%2Fc%3Dd%26e+f%22g", "a%2Bb%2Fc%3Dd%26e%20f%22g"]) expect(shown).not.toContain(form);
  });

  it("removes secrets inside Basic auth (Mailgun, Twilio, Jira) and leaves the rest readable", async () => {
    const settings = {
      MAILGUN_API_KEY: NASTY,
      MAILGUN_DOMAIN: "mg.acme.test",
      EMAIL_FROM: "Acme <support@acme.test>",
      TWILIO_ACCOUNT_SID: "AC0123456789",
      TWILIO_AUTH_TOKEN: `tw ${NASTY}`,
      TWILIO_FROM: "+15005550006",
      JIRA_BASE_URL: "https://acme.atlassian.net",
      JIRA_EMAIL: "ops@acme.test",
      JIRA_API_TOKEN: `jira-${NASTY}`,
      JIRA_PROJECT_KEY: "OPS",
    };
    const actions = [
      { type: "email", to: "{{caller_email}}", subject: "Hi", body: "x", provider: "mailgun" },
      { type: "sms", template: "Hi", provider: "twilio" },
      { type: "task", title: "Call back", provider: "jira" },
    ];
    const shown = await preview(actions, settings);
    expect(shown.map((a) => a.status)).toEqual(["ready", "ready", "ready"]);
    const text = JSON.stringify(shown);
    for (const [user, secret] of [["api", NASTY], ["AC0123456789", `tw ${NASTY}`], ["ops@acme.test", `jira-${NASTY}`]] as const) {
      expect(text).not.toContain(btoa(`${user}:${secret}`));
      for (const form of encodingsOf(secret)) expect(text).not.toContain(form);
    }
    expect((shown[1]!.request as any).url).toBe("https://api.twilio.com/2010-04-01/Accounts/AC0123456789/Messages.json");
  });

  it("removes a Basic credential holding a secret from any header, and JSON-escaped secrets from a body", () => {
    const settings = { TODOIST_API_TOKEN: NASTY };
    const call = {
      method: "POST" as const,
      url: `https://tasks.test/${encodeURIComponent(NASTY)}?t=${new URLSearchParams({ t: NASTY }).toString().slice(2)}`,
      headers: { "x-forwarded-credentials": `Basic ${btoa(`someone:${NASTY}`)}`, "x-other": `Basic ${btoa("user:not-a-secret")}` },
      body: JSON.stringify({ note: `token ${NASTY} here`, nested: { t: NASTY } }),
    };
    const out = redact(call, settings);
    expect(out.headers["x-forwarded-credentials"]).toBe("Basic [redacted]");
    expect(out.headers["x-other"]).toBe(`Basic ${btoa("user:not-a-secret")}`);
    expect(out.url).toBe("https://tasks.test/[redacted]?t=[redacted]");
    expect(JSON.parse(out.body)).toEqual({ note: "token [redacted] here", nested: { t: "[redacted]" } });
  });

  it("removes secrets as the providers send them: trimmed", () => {
    const out = redact({ method: "POST", url: "https://x.test", headers: {}, body: "k=abcd1234" }, { TELNYX_API_KEY: "  abcd1234\n" });
    expect(out.body).toBe("k=[redacted]");
  });

  it("shows a failed provider choice as an error: no outbox without OUTBOX=true", async () => {
    const [sms] = await preview([{ type: "sms", template: "Hi {{caller_name}}" }], { OUTBOX: "false" });
    expect(sms).toMatchObject({ status: "error", message: { body: "Hi John Smith" } });
    expect(sms!.reason).toMatch(/^no sms provider configured: set TWILIO_AUTH_TOKEN, .* or OUTBOX=true for local development$/);
  });
});
