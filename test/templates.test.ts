import Mustache from "mustache";
import { describe, expect, it } from "vitest";
import type { CallEndedEvent } from "../src/schemas/call-event";
import { BUILTIN_TEMPLATES, builtinTemplate } from "../src/templates/builtin";
import { TEMPLATE_VARIABLES } from "../src/schemas/agent";
import { buildTemplateContext, type TemplateContext } from "../src/templates/context";
import {
  normalizeBraces,
  referencedVariables,
  renderTemplate,
  TemplateError,
  validateTemplate,
} from "../src/templates/render";

const AGENT = { id: "agent_abc123", name: "Acme Support" };
const RECEIVED = "2026-03-12T08:00:00.000Z";

function event(overrides: Partial<CallEndedEvent> = {}): CallEndedEvent {
  return { call_id: "call_xyz789", agent_id: "agent_abc123", ...overrides };
}

function ctx(overrides: Partial<CallEndedEvent> = {}): TemplateContext {
  return buildTemplateContext(event(overrides), AGENT, RECEIVED);
}

function text(template: string, context: TemplateContext = ctx()): string {
  return renderTemplate(template, context, "text");
}

describe("buildTemplateContext", () => {
  it.each([
    [0, "0"],
    [1, "1"],
    [59, "1"],
    [60, "1"],
    [61, "2"],
    [230, "4"],
  ])("rounds %i s up to %s whole minutes", (seconds, minutes) => {
    expect(text("{{duration}}", ctx({ duration_seconds: seconds }))).toBe(minutes);
    expect(text("{{duration_seconds}}", ctx({ duration_seconds: seconds }))).toBe(String(seconds));
  });

  it("leaves duration empty when the platform sent none", () => {
    expect(text("[{{duration}}|{{duration_seconds}}]", ctx({ duration_seconds: null }))).toBe("[|]");
    expect(text("[{{duration}}]", ctx())).toBe("[]");
  });

  it("takes the UTC date from ended_at, including non-UTC offsets", () => {
    expect(text("{{date}}", ctx({ ended_at: "2026-03-10T15:04:05Z" }))).toBe("2026-03-10");
    // 21:30 in New York on the 10th is already the 11th in UTC.
    expect(text("{{date}}", ctx({ ended_at: "2026-03-10T21:30:00-05:00" }))).toBe("2026-03-11");
    expect(text("{{date}}", ctx({ ended_at: "2026-03-11T00:30:00+02:00" }))).toBe("2026-03-10");
    expect(text("{{ended_at}}", ctx({ ended_at: "2026-03-10T21:30:00-05:00" }))).toBe("2026-03-10T21:30:00-05:00");
  });

  it("falls back to the time the event was received", () => {
    expect(text("{{date}}", ctx())).toBe("2026-03-12");
    expect(text("{{date}}", ctx({ ended_at: null }))).toBe("2026-03-12");
    expect(text("[{{date}}]", buildTemplateContext(event(), AGENT, "not a date"))).toBe("[]");
  });

  it("reads caller_name and caller_email from metadata, then details", () => {
    const both = ctx({
      metadata: { caller_name: "Ann", caller_email: "ann@example.com" },
      details: { caller_name: "Bob", caller_email: "bob@example.com" },
    });
    expect(text("{{caller_name}} <{{caller_email}}>", both)).toBe("Ann <ann@example.com>");

    const detailsOnly = ctx({ details: { caller_name: "Bob", caller_email: "bob@example.com" } });
    expect(text("{{caller_name}} <{{caller_email}}>", detailsOnly)).toBe("Bob <bob@example.com>");

    const blankMetadata = ctx({ metadata: { caller_name: "  " }, details: { caller_name: "Bob" } });
    expect(text("{{caller_name}}", blankMetadata)).toBe("Bob");
  });

  it("renders every missing value as an empty string", () => {
    const template = TEMPLATE_VARIABLES.filter((n) => !["agent_name", "agent_id", "call_id", "date"].includes(n))
      .map((n) => `${n}=[{{${n}}}]`)
      .join(" ");
    const nulls = ctx({
      caller_number: null,
      duration_seconds: null,
      summary: null,
      transcript: null,
      recording_url: null,
      ended_at: null,
      outcome: null,
      details: null,
      metadata: null,
    });
    for (const context of [ctx(), nulls]) {
      const out = text(template, context);
      expect(out).not.toMatch(/undefined|null|object/);
      expect(out.match(/=\[\]/g)).toHaveLength(TEMPLATE_VARIABLES.length - 4);
    }
    expect(text("[{{metadata.order_id}}|{{details.x.y}}]", nulls)).toBe("[|]");
  });

  it("exposes the agent and event fields", () => {
    const context = ctx({
      caller_number: "+14155551234",
      summary: "Asked about an order.",
      transcript: "Agent: Hi",
      recording_url: "https://rec.example.com/a.mp3",
      outcome: "resolved",
    });
    expect(
      text(
        "{{agent_name}}|{{agent_id}}|{{call_id}}|{{caller_number}}|{{summary}}|{{transcript}}|{{recording_url}}|{{outcome}}",
        context,
      ),
    ).toBe(
      "Acme Support|agent_abc123|call_xyz789|+14155551234|Asked about an order.|Agent: Hi|https://rec.example.com/a.mp3|resolved",
    );
  });

  it("never hands a non-http recording URL to a template", () => {
    expect(text("[{{recording_url}}]", ctx({ recording_url: "javascript:alert(1)" }))).toBe("[]");
  });

  it("shows a bare {{details}} as readable lines", () => {
    const context = ctx({ details: { delivery_date: "March 15", orderID: 42, gift_wrap: true, note: null } });
    expect(text("{{details}}", context)).toBe("Delivery date: March 15\nOrder ID: 42\nGift wrap: yes");
    expect(text("{{{details}}}", context)).toBe("Delivery date: March 15\nOrder ID: 42\nGift wrap: yes");
    expect(text("{{details.delivery_date}}", context)).toBe("March 15");
    expect(text("{{#details_list}}{{label}}={{value}};{{/details_list}}", context)).toBe(
      "Delivery date=March 15;Order ID=42;Gift wrap=yes;",
    );
  });

  it("shows a bare {{metadata}} and nested objects without [object Object]", () => {
    const context = ctx({ metadata: { order_id: "A-1", customer: { first_name: "Ann", tags: ["vip", "new"] } } });
    expect(text("{{metadata}}", context)).toBe("Order id: A-1\nCustomer: First name: Ann, Tags: vip, new");
    expect(text("{{metadata.customer}}", context)).toBe("First name: Ann\nTags: vip, new");
    expect(text("{{metadata.customer.tags}}", context)).toBe("vip, new");
    expect(text("{{metadata.customer.tags.1}}", context)).toBe("new");
  });

  it("hides Object.prototype from templates", () => {
    const context = ctx({ metadata: { order_id: "A-1" } });
    expect(text("[{{metadata.constructor}}{{metadata.hasOwnProperty}}{{details_list.map}}]", context)).toBe("[]");
    expect(text("{{#metadata}}[{{constructor}}]{{order_id}}{{/metadata}}", context)).toBe("[]A-1");
  });
});

describe("normalizeBraces", () => {
  it("doubles single braces around bare identifiers", () => {
    expect(normalizeBraces("Hi {caller_name}, order {metadata.order_id}.")).toBe(
      "Hi {{caller_name}}, order {{metadata.order_id}}.",
    );
    expect(normalizeBraces("{a}{b}")).toBe("{{a}}{{b}}");
  });

  it("leaves mustache tags and non-identifier braces alone", () => {
    const untouched = [
      "{{agent_name}}",
      "{{{summary}}}",
      "{{& summary}}",
      "{{#details}}{{delivery_date}}{{/details}}",
      "{{^caller_name}}there{{/caller_name}}",
      '{"a":1}',
      "{ spaced }",
      "{}",
      "{1abc}",
      "{{! a {comment} }}",
      "{{#summary}}{{.}}{{/summary}}",
    ];
    for (const template of untouched) expect(normalizeBraces(template)).toBe(template);
  });

  it("rewrites only the single-brace part of mixed templates", () => {
    expect(normalizeBraces("{{agent_name}} {call_id} {{{summary}}}")).toBe("{{agent_name}} {{call_id}} {{{summary}}}");
  });
});

describe("renderTemplate", () => {
  const PRODUCT_EXAMPLE = "Thanks for calling {agent_name}! Your reference number is {call_id}.";

  it("gives the same output for single and double braces", () => {
    const single = text(PRODUCT_EXAMPLE);
    const double = text("Thanks for calling {{agent_name}}! Your reference number is {{call_id}}.");
    expect(single).toBe("Thanks for calling Acme Support! Your reference number is call_xyz789.");
    expect(double).toBe(single);
    expect(renderTemplate(PRODUCT_EXAMPLE, ctx(), "html")).toBe(single);
  });

  it("never escapes in text mode", () => {
    const context = ctx({ summary: `<b>Tom & Jerry's "plan"</b>` });
    expect(text("{{summary}}", context)).toBe(`<b>Tom & Jerry's "plan"</b>`);
    expect(text("{summary}", context)).toBe(`<b>Tom & Jerry's "plan"</b>`);
    expect(text("{{{summary}}}", context)).toBe(`<b>Tom & Jerry's "plan"</b>`);
  });

  it("escapes every variable in html mode", () => {
    const context = ctx({ summary: `<b>Tom & Jerry's "plan"</b>` });
    const escaped = "&lt;b&gt;Tom &amp; Jerry&#39;s &quot;plan&quot;&lt;/b&gt;";
    expect(renderTemplate("<p>{{summary}}</p>", context, "html")).toBe(`<p>${escaped}</p>`);
    expect(renderTemplate("<p>{summary}</p>", context, "html")).toBe(`<p>${escaped}</p>`);
    // Triple braces would otherwise let a caller inject markup into the email.
    expect(renderTemplate("{{{summary}}}|{{& summary}}", context, "html")).toBe(`${escaped}|${escaped}`);
  });

  it("keeps URLs readable in html mode", () => {
    const context = ctx({ recording_url: "https://rec.example.com/a.mp3?x=1&y=2" });
    expect(renderTemplate('<a href="{{recording_url}}">', context, "html")).toBe(
      '<a href="https://rec.example.com/a.mp3?x=1&amp;y=2">',
    );
  });

  it("does not leak escaping between modes or into Mustache.escape", () => {
    const globalEscape = Mustache.escape;
    const context = ctx({ summary: "a & b" });
    expect(renderTemplate("{{summary}}", context, "html")).toBe("a &amp; b");
    expect(text("{{summary}}", context)).toBe("a & b");
    expect(renderTemplate("{{summary}}", context, "html")).toBe("a &amp; b");
    expect(Mustache.escape).toBe(globalEscape);
    expect(Mustache.render("{{x}}", { x: "a & b" })).toBe("a &amp; b");
  });

  it("reads dotted metadata in both brace styles", () => {
    const context = ctx({ metadata: { order_id: "A-77", shop: { city: "Oslo" } } });
    expect(text("Order {{metadata.order_id}} from {{metadata.shop.city}}", context)).toBe("Order A-77 from Oslo");
    expect(text("Order {metadata.order_id} from {metadata.shop.city}", context)).toBe("Order A-77 from Oslo");
    expect(text("{{#metadata}}{{order_id}}{{/metadata}}", context)).toBe("A-77");
  });

  it("renders sections on optional values", () => {
    const template = "Hi {{#caller_name}}{{caller_name}}{{/caller_name}}{{^caller_name}}there{{/caller_name}}";
    expect(text(template)).toBe("Hi there");
    expect(text(template, ctx({ metadata: { caller_name: "Ann" } }))).toBe("Hi Ann");
    expect(text("{{#duration}}{{duration}} min{{/duration}}", ctx({ duration_seconds: 0 }))).toBe("0 min");
  });

  it("throws TemplateError for syntax errors", () => {
    for (const broken of ["Hi {{caller_name", "{{#summary}}x", "x{{/summary}}", "{{#a}}{{/b}}"]) {
      expect(() => text(broken)).toThrow(TemplateError);
    }
    try {
      text("Hi {{caller_name");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TemplateError);
      expect((err as TemplateError).message).toMatch(/unclosed tag/i);
    }
  });

  it("renders unknown names and partials as nothing rather than throwing", () => {
    expect(text("[{{nope}}][{{> header}}]")).toBe("[][]");
  });

  it("turns mustache failures on unvalidated templates into TemplateError", () => {
    // A view key "hasOwnProperty" breaks mustache's lookup cache; validation refuses it.
    const template = "{{#metadata}}{{hasOwnProperty}}{{order_id}}{{/metadata}}";
    expect(validateTemplate(template)).toMatchObject({ ok: false });
    expect(() => text(template, ctx({ metadata: { order_id: "A-1" } }))).toThrow(TemplateError);
  });
});

describe("referencedVariables", () => {
  it("lists names from every tag kind, including nested sections, once each", () => {
    const template = [
      "{agent_name} {{caller_name}} {{{summary}}} {{& outcome}}",
      "{{#metadata}}{{order_id}}{{#items}}{{sku}}{{.}}{{/items}}{{/metadata}}",
      "{{^caller_email}}{{caller_number}}{{/caller_email}}",
      "{{! comment }}{{agent_name}}",
    ].join("\n");
    expect(referencedVariables(template)).toEqual([
      "agent_name",
      "caller_name",
      "summary",
      "outcome",
      "metadata",
      "order_id",
      "items",
      "sku",
      "caller_email",
      "caller_number",
    ]);
  });

  it("sees single-brace dotted names", () => {
    expect(referencedVariables("{metadata.order_id} {{details.delivery_date}}")).toEqual([
      "metadata.order_id",
      "details.delivery_date",
    ]);
  });

  it("throws TemplateError on a syntax error", () => {
    expect(() => referencedVariables("{{#details}}")).toThrow(TemplateError);
  });
});

describe("validateTemplate", () => {
  it("accepts every allowed name in both brace styles", () => {
    for (const name of TEMPLATE_VARIABLES) {
      expect(validateTemplate(`{{${name}}}`)).toEqual({ ok: true });
      expect(validateTemplate(`{${name}}`)).toEqual({ ok: true });
    }
    expect(
      validateTemplate(
        "{{metadata.order_id}} {{details.delivery_date}} {{#details}}{{anything}}{{/details}} " +
          "{{#metadata.items}}{{sku}}{{.}}{{/metadata.items}} {{#details_list}}{{label}}: {{value}}{{/details_list}} " +
          "{{#summary}}{{.}}{{/summary}} {{^caller_name}}there{{/caller_name}} {{! note }}",
      ),
    ).toEqual({ ok: true });
    expect(validateTemplate("Thanks for calling {agent_name}! Your reference number is {call_id}.")).toEqual({
      ok: true,
    });
  });

  it("refuses unknown names and lists the allowed ones", () => {
    const result = validateTemplate("Hi {{foo}}");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toContain('unknown variable "foo"');
    expect(result.message).toContain("allowed: agent_name, call_id,");
    for (const name of ["caller_email", "duration", "summary", "date", "transcript", "metadata.*", "details.*"]) {
      expect(result.message).toContain(name);
    }
  });

  it("names every unknown variable, including single-brace ones", () => {
    const result = validateTemplate("{foo} {{bar.baz}} {{#summary}}{{qux}}{{/summary}} {{^metadata}}{{zip}}{{/metadata}}");
    expect(result).toMatchObject({ ok: false });
    if (result.ok) return;
    expect(result.message).toContain('unknown variables "foo", "bar.baz", "qux", "zip"');
  });

  it("only frees names inside details_list for its row fields", () => {
    expect(validateTemplate("{{#details_list}}{{label}}{{/details_list}}")).toEqual({ ok: true });
    expect(validateTemplate("{{label}}")).toMatchObject({ ok: false });
    expect(validateTemplate("{{#details_list}}{{lable}}{{/details_list}}")).toMatchObject({ ok: false });
  });

  it("refuses partials and delimiter changes", () => {
    const partial = validateTemplate("{{> header}} {{agent_name}}");
    expect(partial).toMatchObject({ ok: false });
    if (!partial.ok) expect(partial.message).toMatch(/partials are not supported/);
    expect(validateTemplate("{{=<% %>=}}<% agent_name %>")).toMatchObject({ ok: false });
  });

  it("refuses syntax errors with the parser's reason", () => {
    for (const broken of ["Hi {{caller_name", "{{#summary}}x", "x{{/summary}}", "{{#summary}}{{/outcome}}"]) {
      const result = validateTemplate(broken);
      expect(result).toMatchObject({ ok: false });
      if (!result.ok) expect(result.message).toMatch(/^template syntax error: /);
    }
  });

  it("refuses names that reach Object.prototype", () => {
    for (const template of [
      "{{#metadata}}{{hasOwnProperty}}{{/metadata}}",
      "{{metadata.constructor}}",
      "{{#details}}{{__proto__}}{{/details}}",
    ]) {
      expect(validateTemplate(template)).toMatchObject({ ok: false });
    }
  });

  it("caps the number of names in the message", () => {
    const template = Array.from({ length: 30 }, (_, i) => `{{v${i}}}`).join("");
    const result = validateTemplate(template);
    expect(result).toMatchObject({ ok: false });
    if (!result.ok) {
      expect(result.message).toContain("and 20 more");
      expect(result.message).not.toContain('"v29"');
    }
  });
});

describe("call_summary built-in", () => {
  const template = builtinTemplate("call_summary");
  const full = ctx({
    caller_number: "+14155551234",
    duration_seconds: 230,
    ended_at: "2026-03-10T15:04:05Z",
    summary: "Customer <Tom> & Jerry's order was rescheduled.",
    recording_url: "https://rec.example.com/call_xyz789.mp3?sig=a&b=1",
    outcome: "resolved",
    metadata: { caller_name: "Ann" },
    details: { delivery_date: "March 15", gift_wrap: true },
  });

  it("exists, is the exported entry and is valid", () => {
    expect(template).toBe(BUILTIN_TEMPLATES.call_summary);
    expect(builtinTemplate("nope")).toBeUndefined();
    expect(builtinTemplate("toString")).toBeUndefined();
    if (!template) return;
    expect(validateTemplate(template.html)).toEqual({ ok: true });
    expect(validateTemplate(template.text)).toEqual({ ok: true });
  });

  it("renders HTML with escaped values and the recording link", () => {
    if (!template) return expect.unreachable();
    const html = renderTemplate(template.html, full, "html");
    expect(html).toContain("Hi Ann,");
    expect(html).toContain("Acme Support");
    expect(html).toContain("2026-03-10");
    expect(html).toContain("4 min");
    expect(html).toContain("resolved");
    expect(html).toContain("Customer &lt;Tom&gt; &amp; Jerry&#39;s order was rescheduled.");
    expect(html).not.toContain("<Tom>");
    expect(html).toMatch(/>Delivery date<\/td><td[^>]*>March 15</);
    expect(html).toMatch(/>Gift wrap<\/td><td[^>]*>yes</);
    expect(html).toContain('href="https://rec.example.com/call_xyz789.mp3?sig=a&amp;b=1"');
    expect(html).toContain("Listen to the recording");
    expect(html).toContain("max-width:600px");
    expect(html).not.toMatch(/<script|<link|<img|src=|\{\{|\}\}/i);
  });

  it("leaves out the link, details and greeting name when absent", () => {
    if (!template) return expect.unreachable();
    const html = renderTemplate(template.html, ctx({ summary: "Short call." }), "html");
    expect(html).toContain("Hello,");
    expect(html).toContain("Short call.");
    expect(html).not.toContain("Listen to the recording");
    expect(html).not.toContain("href=");
    expect(html).not.toContain("Details</h2>");
    expect(html).not.toContain("Duration");
    expect(html).not.toContain("Outcome");
  });

  it("renders plain text without tags or escaping", () => {
    if (!template) return expect.unreachable();
    expect(template.text).not.toMatch(/<\/?[a-z][^>]*>/i);
    const plain = ctx({ summary: "All good.", recording_url: "https://rec.example.com/a.mp3", details: { a: "b" } });
    expect(renderTemplate(template.text, plain, "text")).not.toMatch(/<\/?[a-z][^>]*>|&[a-z#0-9]+;/i);
    // The caller's own text comes through verbatim, never entity-escaped.
    const out = renderTemplate(template.text, full, "text");
    expect(out).toBe(
      [
        "Hi Ann,",
        "",
        "Here is a summary of your call with Acme Support on 2026-03-10.",
        "",
        "Date: 2026-03-10",
        "Duration: 4 min",
        "Outcome: resolved",
        "",
        "Summary",
        "Customer <Tom> & Jerry's order was rescheduled.",
        "",
        "Details",
        "- Delivery date: March 15",
        "- Gift wrap: yes",
        "",
        "Listen to the recording: https://rec.example.com/call_xyz789.mp3?sig=a&b=1",
        "",
        "Thank you for calling Acme Support.",
        "",
        "--",
        "This message was sent automatically after your call. Reference: call_xyz789",
        "",
      ].join("\n"),
    );
  });

  it("renders minimal plain text without empty sections", () => {
    if (!template) return expect.unreachable();
    const out = renderTemplate(template.text, ctx(), "text");
    expect(out).toContain("Hello,\n");
    expect(out).not.toMatch(/Summary|Details|Listen|Duration|Outcome/);
    expect(out).not.toMatch(/\n\n\n/);
  });
});
