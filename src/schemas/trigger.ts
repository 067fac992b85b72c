import { z } from "@hono/zod-openapi";
import { Identifier } from "./call-event";

/**
 * Automation triggers: the URL a Zapier, Make, n8n or Power Automate step POSTs to, and how
 * its payload becomes an outbound call.
 */

const FieldTemplate = z.string().min(1).max(8192);

export const TriggerCallMapping = z
  .strictObject({
    phone_number: FieldTemplate.optional(),
    task: FieldTemplate.optional(),
    caller_name: FieldTemplate.optional(),
    webhook_url: FieldTemplate.optional(),
    metadata: z
      .record(z.string().min(1).max(128), FieldTemplate)
      .optional()
      .openapi({ description: "Each value a template; a value that is only {{path}} naming an object or list keeps it whole" }),
    timezone: FieldTemplate.optional(),
  })
  .openapi("TriggerCallMapping", {
    description:
      "Each field is a Mustache template over the incoming payload ({{attendee.phone}} reaches nested keys). A field left out is " +
      "taken from the payload's field of the same name, as in the seed payload.",
    example: {
      phone_number: "{{attendee_phone}}",
      task: "Confirm the appointment for {{event_title}} on {{event_date}} at {{event_time}}.",
      caller_name: "{{attendee_name}}",
      metadata: { event_id: "{{event_id}}", calendar_id: "{{calendar_id}}" },
    },
  });
export type TriggerCallMapping = z.infer<typeof TriggerCallMapping>;

export const FILTER_OPS = ["exists", "not_exists", "eq", "ne", "in", "contains", "matches"] as const;
export const FilterCondition = z
  .strictObject({
    field: z.string().min(1).max(256).openapi({ description: "A dotted path into the payload", example: "deal.stage" }),
    op: z.enum(FILTER_OPS),
    value: z.unknown().optional().openapi({ description: "eq/ne: a value; in: a list; contains: a substring or list item; matches: a regular expression" }),
  })
  .superRefine((c, ctx) => {
    const needsValue = c.op !== "exists" && c.op !== "not_exists";
    if (needsValue && c.value === undefined) ctx.addIssue({ code: "custom", message: `op ${c.op} needs a value`, path: ["value"] });
    if (c.op === "in" && c.value !== undefined && !Array.isArray(c.value)) {
      ctx.addIssue({ code: "custom", message: "op in needs a list", path: ["value"] });
    }
    if (c.op === "matches") {
      if (typeof c.value !== "string" || c.value.length > 512) {
        ctx.addIssue({ code: "custom", message: "op matches needs a regular expression of at most 512 characters", path: ["value"] });
      } else {
        try {
          new RegExp(c.value, "u");
        } catch (err) {
          ctx.addIssue({ code: "custom", message: `not a regular expression: ${err instanceof Error ? err.message : String(err)}`, path: ["value"] });
        }
      }
    }
  })
  .openapi("TriggerFilterCondition", { example: { field: "deal.stage", op: "eq", value: "won" } });
export type FilterCondition = z.infer<typeof FilterCondition>;

export const TriggerSchedule = z
  .union([
    z.strictObject({ delay_seconds: z.number().int().min(0).max(366 * 86_400) }),
    z.strictObject({
      at: FieldTemplate.openapi({ description: "A template rendering an ISO time, e.g. {{event_start}}" }),
      offset_seconds: z.number().int().min(-366 * 86_400).max(366 * 86_400).default(0),
    }),
  ])
  .openapi("TriggerSchedule", {
    description: "When to place the call: a delay, or a time from the payload with an offset (-86400: a day before)",
    example: { at: "{{event_start}}", offset_seconds: -86_400 },
  });
export type TriggerSchedule = z.infer<typeof TriggerSchedule>;

const EXAMPLE_TRIGGER_CONFIG = {
  name: "Appointment tomorrow → confirmation call",
  agent_id: "agent_abc123",
  enabled: true,
  call: {
    phone_number: "{{attendee_phone}}",
    task: "Confirm the appointment for {{event_title}} on {{event_date}} at {{event_time}}. If they cannot come, offer to reschedule.",
    caller_name: "{{attendee_name}}",
    webhook_url: "https://yourapp.com/kallyai/callback",
    metadata: { event_id: "{{event_id}}", calendar_id: "{{calendar_id}}" },
  },
  schedule: { at: "{{event_start}}", offset_seconds: -86_400 },
  dedupe_key: "{{event_id}}",
};

/** A trigger of the documentation's examples, as the API shows it. */
export const EXAMPLE_TRIGGER = {
  ...EXAMPLE_TRIGGER_CONFIG,
  id: "trg_8c1d2e3f4a5b6c7d",
  url: "https://relay.example.com/hooks/trg_8c1d2e3f4a5b6c7d",
  created_at: "2026-03-01T09:00:00.000Z",
  updated_at: "2026-03-01T09:00:00.000Z",
};

export const TriggerConfig = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    agent_id: Identifier,
    enabled: z.boolean().default(true),
    call: TriggerCallMapping.optional(),
    filter: z.array(FilterCondition).max(20).optional(),
    schedule: TriggerSchedule.optional(),
    dedupe_key: FieldTemplate.optional().openapi({
      description: "A template, e.g. {{event_id}}: a second event with the same rendered key within 30 days places nothing",
      example: "{{event_id}}",
    }),
  })
  .openapi("TriggerConfig", { example: EXAMPLE_TRIGGER_CONFIG });
export type TriggerConfig = z.infer<typeof TriggerConfig>;

export const Trigger = TriggerConfig.extend({
  id: z.string().openapi({ example: "trg_8c1d2e3f4a5b6c7d" }),
  url: z.string().openapi({ description: "Paste this into Zapier, Make, n8n or Power Automate", example: "https://relay.example.com/hooks/trg_8c1d2e3f4a5b6c7d" }),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Trigger", { example: EXAMPLE_TRIGGER });
export type Trigger = z.infer<typeof Trigger>;
