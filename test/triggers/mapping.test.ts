import { describe, expect, it } from "vitest";
import { fieldProblem } from "../../src/errors";
import { OUTBOUND_EXAMPLE, OutboundCallFields } from "../../src/schemas/outbound";
import type { TriggerCallMapping } from "../../src/schemas/trigger";
import { parseFormBody } from "../../src/triggers/form-body";
import { mapTriggerPayload } from "../../src/triggers/mapping";

const CALENDAR_EVENT = {
  attendee_phone: " +14155551234 ",
  attendee_name: "Ana Silva",
  event_title: "Dental cleaning",
  event_date: "2026-03-12",
  event_time: "10:30",
  event_id: "evt_123",
  calendar_id: "cal_9",
  attendee: { tz: "America/New_York", email: "ana@example.com" },
  line_items: [{ sku: "a1" }],
  guests: 2,
  vip: true,
  notes: null,
};

const MAPPING: TriggerCallMapping = {
  phone_number: "{{attendee_phone}}",
  task: "Confirm the appointment for {{event_title}} on {{event_date}} at {{event_time}}.",
  caller_name: "{{attendee_name}}",
  webhook_url: "https://yourapp.com/kallyai/callback",
  timezone: "{{attendee.tz}}",
  metadata: { event_id: "{{event_id}}", calendar_id: "{{calendar_id}}" },
};

describe("mapTriggerPayload", () => {
  it("renders each mapped field over the payload, trimmed", () => {
    const { fields, problems } = mapTriggerPayload(CALENDAR_EVENT, MAPPING);
    expect(problems).toEqual([]);
    expect(fields).toEqual({
      phone_number: "+14155551234",
      task: "Confirm the appointment for Dental cleaning on 2026-03-12 at 10:30.",
      caller_name: "Ana Silva",
      webhook_url: "https://yourapp.com/kallyai/callback",
      timezone: "America/New_York",
      metadata: { event_id: "evt_123", calendar_id: "cal_9" },
    });
    expect(OutboundCallFields.safeParse(fields).success).toBe(true);
  });

  it("takes the seed payload as it is when there is no mapping", () => {
    const { fields, problems } = mapTriggerPayload(OUTBOUND_EXAMPLE, undefined);
    expect(problems).toEqual([]);
    expect(fields).toEqual({
      phone_number: "+14155551234",
      task: OUTBOUND_EXAMPLE.task,
      caller_name: "Ana Silva",
      webhook_url: "https://yourapp.com/kallyai/callback",
      metadata: { event_id: "evt_123", calendar_id: "cal_9" },
    });
  });

  it("takes the fields a mapping leaves out from the payload, strings trimmed", () => {
    const payload = { phone_number: "  +14155551234 ", task: " Call back ", caller_name: "   ", timezone: "Europe/Lisbon", metadata: { a: 1 }, name: "Bo" };
    const { fields, problems } = mapTriggerPayload(payload, { caller_name: "{{name}}" });
    expect(problems).toEqual([]);
    expect(fields).toEqual({ phone_number: "+14155551234", task: "Call back", caller_name: "Bo", timezone: "Europe/Lisbon", metadata: { a: 1 } });
  });

  it("turns a numeric phone number in the payload into its digits", () => {
    expect(mapTriggerPayload({ phone_number: 14155551234 }, undefined).fields).toEqual({ phone_number: "14155551234" });
  });

  it("passes other payload values through for validation to name", () => {
    const { fields } = mapTriggerPayload({ phone_number: { e164: "+1" }, task: 7, caller_name: null, metadata: "[object Object]" }, undefined);
    expect(fields).toEqual({ phone_number: { e164: "+1" }, task: 7, metadata: "[object Object]" });
    expect(OutboundCallFields.safeParse(fields).success).toBe(false);
  });

  it("reads a form body's nested metadata", () => {
    const { fields } = mapTriggerPayload(parseFormBody("phone_number=%2B14155551234&metadata__event_id=evt_1"), undefined);
    expect(JSON.parse(JSON.stringify(fields))).toEqual({ phone_number: "+14155551234", metadata: { event_id: "evt_1" } });
    expect(OutboundCallFields.safeParse(fields).success).toBe(true);
  });

  it("leaves out a field whose template renders empty", () => {
    const { fields, problems } = mapTriggerPayload(CALENDAR_EVENT, { phone_number: "{{attendee_phone}}", caller_name: "{{nobody}}", task: "  {{notes}} " });
    expect(problems).toEqual([]);
    expect(fields).toEqual({ phone_number: "+14155551234" });
  });

  it("does not fall back to the payload for a field the mapping names", () => {
    const { fields } = mapTriggerPayload({ phone_number: "+14155551234", caller_name: "From payload" }, { caller_name: "{{missing}}" });
    expect(fields).toEqual({ phone_number: "+14155551234" });
  });

  it("reports a mapped phone number that renders empty, naming the template", () => {
    const { fields, problems } = mapTriggerPayload({ attendee_phone: "  " }, { phone_number: "{{attendee_phone}}" });
    expect(fields).toEqual({});
    expect(problems).toEqual([fieldProblem(["call", "phone_number"], 'the template "{{attendee_phone}}" rendered empty')]);
    expect(problems[0]).toEqual({ path: "$.call.phone_number", pointer: "/call/phone_number", message: 'the template "{{attendee_phone}}" rendered empty' });
  });

  it("reports a payload without a phone number at phone_number", () => {
    expect(mapTriggerPayload({ task: "x" }, undefined).problems).toEqual([
      fieldProblem(["phone_number"], 'the event has no phone_number; send one, or map one with call.phone_number, e.g. "{{attendee_phone}}"'),
    ]);
    expect(mapTriggerPayload({ phone_number: " " }, {}).problems).toEqual([
      fieldProblem(["phone_number"], 'the event has an empty phone_number; send one, or map one with call.phone_number, e.g. "{{attendee_phone}}"'),
    ]);
    expect(mapTriggerPayload(["+14155551234"], undefined).problems).toHaveLength(1);
  });

  it("reports a template that cannot be rendered at its field, and keeps going", () => {
    const { fields, problems } = mapTriggerPayload(CALENDAR_EVENT, {
      phone_number: "{{attendee_phone",
      task: "{{> partial}}",
      caller_name: "{{attendee_name}}",
      metadata: { bad: "{{=<% %>=}}", ok: "{{event_id}}" },
    });
    expect(fields).toEqual({ caller_name: "Ana Silva", metadata: { ok: "evt_123" } });
    expect(problems).toEqual([
      fieldProblem(["call", "phone_number"], "template syntax error: Unclosed tag at 16"),
      fieldProblem(["call", "task"], 'partials are not supported ("{{> partial}}")'),
      fieldProblem(["call", "metadata", "bad"], "changing delimiters is not supported"),
    ]);
  });

  it("keeps whole values for metadata templates that are a single object, list, number or boolean", () => {
    const { fields } = mapTriggerPayload(CALENDAR_EVENT, {
      phone_number: "{{attendee_phone}}",
      metadata: {
        attendee: "{{attendee}}",
        items: "{{ line_items }}",
        guests: "{{guests}}",
        vip: "{{{vip}}}",
        first_sku: "{{line_items.0.sku}}",
        text_guests: "{{guests}} guests",
        notes: "{{notes}}",
        missing: "{{missing}}",
        inline: "items: {{line_items}}",
      },
    });
    expect(fields.metadata).toEqual({
      attendee: { tz: "America/New_York", email: "ana@example.com" },
      items: [{ sku: "a1" }],
      guests: 2,
      vip: "true",
      first_sku: "a1",
      text_guests: "2 guests",
      inline: 'items: [{"sku":"a1"}]',
    });
  });

  it("leaves metadata out when every mapped value renders empty, and drops prototype keys", () => {
    expect(mapTriggerPayload({ phone_number: "1" }, { metadata: { a: "{{missing}}" } }).fields).toEqual({ phone_number: "1" });
    const { fields } = mapTriggerPayload({ phone_number: "1", x: "y" }, { metadata: JSON.parse('{"__proto__": "{{x}}", "ok": "{{x}}"}') });
    expect(fields.metadata).toEqual({ ok: "y" });
    expect(Object.getPrototypeOf(fields.metadata)).toBe(Object.prototype);
  });

  it("ignores the payload's metadata when the mapping has its own", () => {
    const { fields } = mapTriggerPayload({ phone_number: "1", metadata: { from: "payload" }, id: "e1" }, { metadata: { id: "{{id}}" } });
    expect(fields.metadata).toEqual({ id: "e1" });
  });
});
