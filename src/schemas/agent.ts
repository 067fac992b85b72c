import { z } from "@hono/zod-openapi";
import { isCountryCode } from "../lib/phone";
import { Identifier } from "./call-event";
import { CallingHours, Dialer, Redial } from "./outbound";
import { PLATFORM_NAMES, type PlatformName } from "./platform-event";

/**
 * Every top-level name a template may use: the one list that template validation, rendering
 * and the OpenAPI document all read. `metadata` and `details` are objects whose keys are
 * reached with dots (`{{metadata.order_id}}`); `details_list` is the same details as
 * `{label, value}` rows for `{{#details_list}}` sections.
 */
export const TEMPLATE_VARIABLES: readonly string[] = Object.freeze([
  "agent_name",
  "call_id",
  "caller_number",
  "caller_name",
  "caller_email",
  "duration",
  "summary",
  "date",
  "details",
  "metadata",
  "agent_id",
  "duration_seconds",
  "recording_url",
  "outcome",
  "ended_at",
  "transcript",
  "details_list",
]);

/** How templates are written, and every variable they may use, for the OpenAPI document. */
export const TEMPLATE_HELP =
  `A Mustache template: {{variable}} (or the short form {variable}). Variables: ${TEMPLATE_VARIABLES.join(", ")}. ` +
  "{{metadata.<key>}} and {{details.<key>}} reach the call's own keys; " +
  "{{#details_list}}{{label}}: {{value}}{{/details_list}} lists the details line by line. " +
  "An unknown variable is refused when the agent is saved.";

/** A template field's description: what it is, then how templates are written. */
const templateDoc = (what: string) => ({ description: `${what} ${TEMPLATE_HELP}`, "x-template-variables": [...TEMPLATE_VARIABLES] });

const Template = z.string().min(1).max(16_384);
/**
 * The providers an action may name, per kind; `outbox` records instead of sending (OUTBOX=true).
 * The registry in src/providers/ must offer exactly these (a test checks).
 */
export const PROVIDER_NAMES = {
  email: ["outbox", "resend", "sendgrid", "postmark", "mailgun", "cloudflare"],
  sms: ["outbox", "twilio", "telnyx", "vonage", "plivo"],
  task: ["outbox", "todoist", "asana", "linear", "jira", "clickup", "trello", "hubspot"],
} as const;
const providerOf = (kind: keyof typeof PROVIDER_NAMES) =>
  z.enum(PROVIDER_NAMES[kind]).optional().openapi({
    description: `The ${kind} provider to use; without it, the deployment's ${kind.toUpperCase()}_PROVIDER, else the one whose credentials are set`,
  });
/**
 * Outcomes an action runs for. Without it an action runs for connected calls only, so nobody
 * is thanked for a call that never connected.
 */
const When = z
  .array(z.string().min(1).max(64))
  .min(1)
  .max(20)
  .optional()
  .openapi({
    description:
      "Outcomes this action runs for, e.g. [\"no_answer\", \"busy\"] for a missed-call text. Without it the action runs for " +
      "connected calls only (any outcome but no_answer, busy and failed).",
    example: ["confirmed", "reschedule_requested"],
  });
const ResendOnUnknown = z.boolean().optional().openapi({
  description:
    "For providers that cannot deduplicate: when an attempt was cut off before its answer was recorded, send again " +
    "(risking a duplicate) instead of recording the outcome as unknown. Default false.",
});

export const SmsAction = z
  .strictObject({
    type: z.literal("sms"),
    to: Template.optional().openapi({ ...templateDoc("The recipient; defaults to the caller's number."), example: "{{caller_number}}" }),
    template: Template.openapi({
      ...templateDoc("The text message."),
      example: "Thanks for calling {{agent_name}}! Your reference number is {{call_id}}.",
    }),
    provider: providerOf("sms"),
    resend_on_unknown: ResendOnUnknown,
    when: When,
  })
  .openapi("SmsAction");

export const EmailAction = z
  .strictObject({
    type: z.literal("email"),
    to: Template.openapi({ ...templateDoc("The recipient address."), example: "{{caller_email}}" }),
    subject: Template.openapi({ ...templateDoc("The subject line."), example: "Your call summary — {{date}}" }),
    body_template: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .openapi({ description: "A template name: built-in (e.g. call_summary) or one of the agent's `templates`.", example: "call_summary" }),
    body: Template.optional().openapi(templateDoc("A plain-text body, used when body_template is absent.")),
    provider: providerOf("email"),
    resend_on_unknown: ResendOnUnknown,
    when: When,
  })
  .refine((a) => a.body_template !== undefined || a.body !== undefined, {
    message: "give body_template or body",
    path: ["body"],
  })
  .openapi("EmailAction");

export const WebhookAction = z
  .strictObject({
    type: z.literal("webhook"),
    url: z.url({ protocol: /^https?$/ }).max(2048),
    include_transcript: z.boolean().default(false),
    include_recording_url: z.boolean().default(false),
    when: When,
  })
  .openapi("WebhookAction");

export const TaskAction = z
  .strictObject({
    type: z.literal("task"),
    title: Template.openapi({ ...templateDoc("The task's title."), example: "Call back {{caller_name}} ({{caller_number}})" }),
    notes: Template.optional().openapi({ ...templateDoc("The task's notes."), example: "{{summary}}" }),
    due_in_days: z.number().int().min(0).max(365).optional(),
    provider: providerOf("task"),
    resend_on_unknown: ResendOnUnknown,
    when: When,
  })
  .openapi("TaskAction");

export const Action = z.discriminatedUnion("type", [SmsAction, EmailAction, WebhookAction, TaskAction]);
export type Action = z.infer<typeof Action>;
export type ActionType = Action["type"];
export const ACTION_TYPES = ["sms", "email", "webhook", "task"] as const satisfies readonly ActionType[];
/** The kinds of action a provider sends (a webhook is its own provider). */
export type MessageKind = Exclude<ActionType, "webhook">;

/**
 * A call's ledger keeps its actions in one row of at most 2 MB; this bound (well above any real
 * agent's) keeps a call's actions inside it whatever characters their templates use.
 */
export const ACTIONS_MAX_JSON_CHARS = 262_144;
const actionList = (max: number) =>
  z
    .array(Action)
    .max(max)
    .refine((actions) => JSON.stringify(actions).length <= ACTIONS_MAX_JSON_CHARS, {
      message: `the actions take more than ${ACTIONS_MAX_JSON_CHARS} characters as JSON`,
    })
    .openapi({ description: `Up to ${max} actions, together at most ${ACTIONS_MAX_JSON_CHARS} characters as JSON.` });

export const PostCallFollowUp = z.strictObject({
  enabled: z.boolean().default(false),
  actions: actionList(20).default([]),
});

/** How an agent places outbound calls (`voice_tools.outbound_calls`). */
export const OutboundCallsSettings = z
  .strictObject({
    platform: Dialer,
    calling_hours: CallingHours.optional(),
    default_country: z
      .string()
      .regex(/^[A-Za-z]{2}$/, "must be an ISO 3166 alpha-2 country code, e.g. US")
      .transform((c) => c.toUpperCase())
      .optional()
      .openapi({ description: "Country of numbers written without +; else the agent's default_country, else DEFAULT_COUNTRY" }),
    redial: Redial.default({ on: ["no_answer", "busy"], max_attempts: 1, interval_seconds: 3600 }),
    fallback_actions: actionList(10).default([]).openapi({
      description:
        `Up to 10 actions, together at most ${ACTIONS_MAX_JSON_CHARS} characters as JSON. Run once when the final outcome ` +
        "is one of redial.on or failed. Templates see caller_name, caller_number (the number called), outcome, and " +
        "metadata.* (the request's metadata, with metadata.task and metadata.phone_number).",
    }),
    result_timeout_seconds: z.number().int().min(60).max(7 * 86_400).default(3600).openapi({
      description: "A placed call with no call-ended event by then ends with outcome unknown",
    }),
  })
  .openapi("OutboundCallsSettings", {
    example: {
      platform: { type: "vapi", assistant_id: "asst_123", phone_number_id: "pn_456" },
      calling_hours: { timezone: "America/New_York", days: ["mon", "tue", "wed", "thu", "fri"], start: "09:00", end: "20:00" },
      default_country: "US",
      redial: { on: ["no_answer", "busy"], max_attempts: 3, interval_seconds: 3600 },
      fallback_actions: [{ type: "sms", template: "Sorry we missed you, {{caller_name}}. Call us on +1 415 555 0100." }],
      result_timeout_seconds: 3600,
    },
  });
export type OutboundCallsSettings = z.infer<typeof OutboundCallsSettings>;

const TemplateName = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, "use lowercase letters, digits and _");

/** An email body an agent defines, or a per-agent override of a built-in one (same name). */
export const EmailTemplate = z
  .strictObject({
    html: z.string().min(1).max(65_536).openapi(templateDoc("The HTML body, rendered with HTML escaping of every variable.")),
    text: z.string().min(1).max(65_536).openapi(templateDoc("The plain-text alternative; never escaped.")),
  })
  .openapi("EmailTemplate");
export type EmailTemplate = z.infer<typeof EmailTemplate>;
/**
 * Each call's ledger copies the agent's templates into its record (at most 1.9 MB, sized at two
 * bytes a character, beside the call's actions): this bound keeps them (0.5 MB) and one run's
 * actions (ACTIONS_MAX_JSON_CHARS, up to 1 MB stored inside the list's JSON) inside it.
 */
export const TEMPLATES_MAX_JSON_CHARS = 262_144;
export const AgentTemplates = z
  .record(TemplateName, EmailTemplate)
  .refine((templates) => JSON.stringify(templates).length <= TEMPLATES_MAX_JSON_CHARS, {
    message: `the templates take more than ${TEMPLATES_MAX_JSON_CHARS} characters as JSON`,
  });

const PlatformAgentId = z.string().min(1).max(256);
export const PlatformIds = z
  .strictObject(Object.fromEntries(PLATFORM_NAMES.map((p) => [p, PlatformAgentId.optional()])) as Record<PlatformName, z.ZodOptional<typeof PlatformAgentId>>)
  .openapi({
    description:
      "The platform's own agent or assistant id for this agent, per platform: a platform webhook naming it is routed here.",
    example: { vapi: "b9a1c3e2-1f0e-4c6b-9a55-0d3e4f5a6b7c", retell: "oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD" },
  });
/** The country of phone numbers written without +; wins over the deployment's DEFAULT_COUNTRY. */
export const DefaultCountry = z
  .string()
  .trim()
  .toUpperCase()
  .refine(isCountryCode, "must be an ISO 3166 alpha-2 country code, e.g. US")
  .openapi({
    description:
      "ISO 3166 alpha-2 country for phone numbers written without + (SMS recipients, caller_number); overrides the deployment's DEFAULT_COUNTRY",
    example: "US",
  });
export const OutcomeMap = z.record(z.string().min(1).max(256), z.string().min(1).max(64)).openapi({
  description: "Maps values of `outcome_field` to outcomes, e.g. {\"yes\": \"confirmed\", \"reschedule\": \"reschedule_requested\"}",
});

/** The follow-up of the documentation's examples: a thank-you text, a CRM webhook and a summary email. */
const EXAMPLE_FOLLOW_UP: z.infer<typeof PostCallFollowUp> = {
  enabled: true,
  actions: [
    { type: "sms", template: "Thanks for calling {{agent_name}}! Your reference number is {{call_id}}." },
    { type: "webhook", url: "https://your-crm.com/api/call-completed", include_transcript: true, include_recording_url: true },
    { type: "email", to: "{{caller_email}}", subject: "Your call summary — {{date}}", body_template: "call_summary" },
  ],
};
const EXAMPLE_CONFIG = { name: "Acme Support", voice_tools: { post_call_follow_up: EXAMPLE_FOLLOW_UP } };

/** The agent of the documentation's examples. */
export const EXAMPLE_AGENT = {
  id: "agent_abc123",
  name: "Acme Support",
  templates: {},
  voice_tools: { post_call_follow_up: EXAMPLE_FOLLOW_UP },
  platform_ids: { vapi: "b9a1c3e2-1f0e-4c6b-9a55-0d3e4f5a6b7c" },
  created_at: "2026-03-01T09:00:00.000Z",
  updated_at: "2026-03-10T14:00:00.000Z",
};

/**
 * An agent is one D1 row, and D1 refuses a row over 2,000,000 bytes: the config's UTF-8 JSON
 * stays under this, with room for the row's other columns. Each part has a bound of its own
 * in characters, but text of three-byte characters can still add up past the row.
 */
export const AGENT_MAX_JSON_BYTES = 1_900_000;

/** The top-level field that takes the most bytes: the one to shorten when the agent is too large. */
function largestField(config: Record<string, unknown>): string | undefined {
  let largest: { key: string; bytes: number } | undefined;
  for (const [key, value] of Object.entries(config)) {
    const bytes = utf8Bytes(JSON.stringify(value) ?? "");
    if (!largest || bytes > largest.bytes) largest = { key, bytes };
  }
  return largest?.key;
}

const utf8Bytes = (text: string) => new TextEncoder().encode(text).length;

/** What a user writes: the body of PUT, and the result a merge patch must produce. */
export const AgentConfig = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    templates: AgentTemplates.optional().openapi({
      description: `Email bodies by name; a built-in name overrides the built-in for this agent. Together at most ${TEMPLATES_MAX_JSON_CHARS} characters as JSON.`,
    }),
    voice_tools: z
      .strictObject({ post_call_follow_up: PostCallFollowUp.optional(), outbound_calls: OutboundCallsSettings.optional() })
      .optional(),
    platform_ids: PlatformIds.optional(),
    outcome_field: z.string().min(1).max(128).optional().openapi({
      description: "A key of the platform's structured extraction (`details`) that holds the call's outcome, for connected calls",
      example: "appointment_status",
    }),
    outcome_map: OutcomeMap.optional(),
    default_country: DefaultCountry.optional(),
  })
  .superRefine((config, ctx) => {
    const bytes = utf8Bytes(JSON.stringify(config));
    if (bytes <= AGENT_MAX_JSON_BYTES) return;
    const field = largestField(config);
    ctx.addIssue({
      code: "custom",
      path: field ? [field] : [],
      message: `the agent takes ${bytes} bytes as JSON, more than ${AGENT_MAX_JSON_BYTES}; this is its largest field`,
    });
  })
  .openapi("AgentConfig", {
    description: `An agent's follow-up configuration, at most ${AGENT_MAX_JSON_BYTES} bytes as JSON. Template fields (sms to/template, email to/subject/body, task title/notes, templates html/text): ${TEMPLATE_HELP}`,
    "x-template-variables": [...TEMPLATE_VARIABLES],
    example: EXAMPLE_CONFIG,
  });
export type AgentConfig = z.infer<typeof AgentConfig>;

/** What the API returns and what the ledger snapshots. */
export const Agent = z
  .object({
    id: Identifier,
    name: z.string(),
    templates: AgentTemplates,
    voice_tools: z.object({ post_call_follow_up: PostCallFollowUp, outbound_calls: OutboundCallsSettings.optional() }),
    platform_ids: PlatformIds.optional(),
    outcome_field: z.string().optional(),
    outcome_map: OutcomeMap.optional(),
    default_country: z.string().optional(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Agent", { example: EXAMPLE_AGENT });
export type Agent = z.infer<typeof Agent>;

export type SmsAction = z.infer<typeof SmsAction>;
export type EmailAction = z.infer<typeof EmailAction>;
export type WebhookAction = z.infer<typeof WebhookAction>;
export type TaskAction = z.infer<typeof TaskAction>;
