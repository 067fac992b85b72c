import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { EMAIL_PROVIDERS } from "../../src/providers/email";
import { outboxProvider } from "../../src/providers/outbox";
import { SECRET_SETTINGS, chooseProvider, missingSettings } from "../../src/providers/registry";
import { requiredNames, secretNames } from "../../src/providers/settings";
import { SMS_PROVIDERS } from "../../src/providers/sms";
import { TASK_PROVIDERS } from "../../src/providers/task";

const ALL = [...EMAIL_PROVIDERS, ...SMS_PROVIDERS, ...TASK_PROVIDERS];
const byName = (name: string) => ALL.find((p) => p.name === name)!;
const bindings = env as CloudflareBindings;

describe("provider settings schemas", () => {
  it("declare which settings are required and which are secrets", () => {
    const declared = Object.fromEntries(ALL.map((p) => [p.name, { required: requiredNames(p.settings), secret: secretNames(p.settings) }]));
    expect(declared).toEqual({
      resend: { required: ["RESEND_API_KEY", "EMAIL_FROM"], secret: ["RESEND_API_KEY"] },
      sendgrid: { required: ["SENDGRID_API_KEY", "EMAIL_FROM"], secret: ["SENDGRID_API_KEY"] },
      postmark: { required: ["POSTMARK_SERVER_TOKEN", "EMAIL_FROM"], secret: ["POSTMARK_SERVER_TOKEN"] },
      mailgun: { required: ["MAILGUN_API_KEY", "MAILGUN_DOMAIN", "EMAIL_FROM"], secret: ["MAILGUN_API_KEY"] },
      cloudflare: { required: ["EMAIL_FROM"], secret: [] },
      twilio: { required: ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"], secret: ["TWILIO_AUTH_TOKEN"] },
      telnyx: { required: ["TELNYX_API_KEY"], secret: ["TELNYX_API_KEY"] },
      vonage: { required: ["VONAGE_API_KEY", "VONAGE_API_SECRET", "VONAGE_FROM"], secret: ["VONAGE_API_KEY", "VONAGE_API_SECRET"] },
      plivo: { required: ["PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN"], secret: ["PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN"] },
      todoist: { required: ["TODOIST_API_TOKEN"], secret: ["TODOIST_API_TOKEN"] },
      asana: { required: ["ASANA_ACCESS_TOKEN"], secret: ["ASANA_ACCESS_TOKEN"] },
      linear: { required: ["LINEAR_API_KEY", "LINEAR_TEAM_ID"], secret: ["LINEAR_API_KEY"] },
      jira: { required: ["JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PROJECT_KEY"], secret: ["JIRA_API_TOKEN"] },
      clickup: { required: ["CLICKUP_API_TOKEN", "CLICKUP_LIST_ID"], secret: ["CLICKUP_API_TOKEN"] },
      trello: { required: ["TRELLO_API_KEY", "TRELLO_TOKEN", "TRELLO_LIST_ID"], secret: ["TRELLO_API_KEY", "TRELLO_TOKEN"] },
      hubspot: { required: ["HUBSPOT_ACCESS_TOKEN"], secret: ["HUBSPOT_ACCESS_TOKEN"] },
    });
    expect(SECRET_SETTINGS).toContain("VONAGE_API_SECRET");
    // Declared, not guessed from the name: an identifier ending in _SID is not a secret.
    expect(SECRET_SETTINGS).not.toContain("TWILIO_ACCOUNT_SID");
  });

  it("say what is missing, counting blank values as unset", () => {
    expect(missingSettings(byName("mailgun"), { MAILGUN_API_KEY: "k", MAILGUN_DOMAIN: "  ", EMAIL_FROM: "a@b.test" }, bindings)).toEqual(["MAILGUN_DOMAIN"]);
    expect(missingSettings(byName("jira"), {}, bindings)).toEqual(["JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PROJECT_KEY"]);
    expect(missingSettings(byName("asana"), { ASANA_ACCESS_TOKEN: "t" }, bindings)).toEqual([]);
    expect(missingSettings(byName("cloudflare"), { EMAIL_FROM: "a@b.test" }, bindings)).toEqual(["(binding)"]);
  });
});

describe("which providers deduplicate retries", () => {
  it("is Resend (its Idempotency-Key), Linear (the issue id) and the outbox; no one else", () => {
    const dedupes = Object.fromEntries([...ALL, outboxProvider("email")].map((p) => [p.name, p.dedupes]));
    expect(dedupes).toEqual({
      resend: true,
      sendgrid: false,
      postmark: false,
      mailgun: false,
      cloudflare: false,
      twilio: false,
      telnyx: false,
      vonage: false,
      plivo: false,
      todoist: false,
      asana: false,
      linear: true,
      jira: false,
      clickup: false,
      trello: false,
      hubspot: false,
      outbox: true,
    });
    expect(byName("resend").idempotencyWindowSeconds).toBe(23 * 3600);
  });
});

describe("the outbox is explicit", () => {
  const PRODUCTION = { OUTBOX: "false" };

  it("is the fall-back only with OUTBOX=true or 1", () => {
    for (const OUTBOX of ["true", "1", " TRUE "]) {
      const choice = chooseProvider("sms", undefined, { OUTBOX }, bindings);
      expect(choice.ok && choice.provider.name, OUTBOX).toBe("outbox");
    }
    for (const settings of [PRODUCTION, {}, { OUTBOX: "yes" }, { OUTBOX: "" }]) {
      expect(chooseProvider("sms", undefined, settings, bindings).ok, JSON.stringify(settings)).toBe(false);
    }
  });

  it("names what to set when no provider is configured, from the schemas", () => {
    expect(chooseProvider("email", undefined, PRODUCTION, bindings)).toEqual({
      ok: false,
      error:
        "no email provider configured: set RESEND_API_KEY, SENDGRID_API_KEY, POSTMARK_SERVER_TOKEN, MAILGUN_API_KEY " +
        "(with that provider's other settings; see the README) or OUTBOX=true for local development",
    });
    expect(chooseProvider("sms", undefined, PRODUCTION, bindings)).toMatchObject({
      error: expect.stringMatching(/^no sms provider configured: set TWILIO_AUTH_TOKEN, TELNYX_API_KEY, VONAGE_API_KEY, PLIVO_AUTH_ID \(/),
    });
    expect(chooseProvider("task", undefined, PRODUCTION, bindings)).toMatchObject({
      error: expect.stringMatching(
        /^no task provider configured: set TODOIST_API_TOKEN, ASANA_ACCESS_TOKEN, LINEAR_API_KEY, JIRA_API_TOKEN, CLICKUP_API_TOKEN, TRELLO_API_KEY, HUBSPOT_ACCESS_TOKEN \(/,
      ),
    });
  });

  it("needs OUTBOX=true even when an action or the default names it", () => {
    expect(chooseProvider("task", "outbox", PRODUCTION, bindings)).toEqual({
      ok: false,
      error: "outbox is named by the action but is for local development only: set OUTBOX=true to use it",
    });
    expect(chooseProvider("task", undefined, { TASK_PROVIDER: "outbox" }, bindings)).toMatchObject({ ok: false });
    const named = chooseProvider("task", "outbox", { OUTBOX: "true" }, bindings);
    expect(named.ok && named.provider.name).toBe("outbox");
  });

  it("still prefers a configured provider when OUTBOX=true", () => {
    const choice = chooseProvider("task", undefined, { OUTBOX: "true", TODOIST_API_TOKEN: "t" }, bindings);
    expect(choice.ok && choice.provider.name).toBe("todoist");
  });
});

describe("the provider names an action may give", () => {
  it("are exactly the registry's, per kind", async () => {
    const { PROVIDER_NAMES } = await import("../../src/schemas/agent");
    const { providerNames } = await import("../../src/providers/registry");
    for (const kind of ["email", "sms", "task"] as const) {
      expect([...PROVIDER_NAMES[kind]].sort()).toEqual(providerNames(kind).sort());
    }
  });
});
