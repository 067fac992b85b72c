import { z } from "@hono/zod-openapi";
import { Identifier, JsonObject } from "./call-event";

/**
 * Outbound calls: an agent's calling settings (`voice_tools.outbound_calls`), the request that
 * places a call, and the outbound call as the API shows it and the callback reports it.
 */

const PlatformId = z.string().trim().min(1).max(256);
/** A platform's own phone number: E.164 is what the platforms take. */
const E164 = z.string().regex(/^\+[1-9]\d{6,14}$/, "must be an E.164 number, e.g. +14155550100");

export const VapiDialer = z.strictObject({
  type: z.literal("vapi"),
  assistant_id: PlatformId.openapi({ description: "The Vapi assistant that talks (assistantId)" }),
  phone_number_id: PlatformId.openapi({ description: "The Vapi phone number that calls (phoneNumberId)" }),
});
export const RetellDialer = z.strictObject({
  type: z.literal("retell"),
  from_number: E164.openapi({ description: "The Retell number that calls; its bound agent talks unless agent_id is given" }),
  agent_id: PlatformId.optional().openapi({ description: "A Retell agent to use instead of the number's own (override_agent_id)" }),
});
export const BlandDialer = z.strictObject({
  type: z.literal("bland"),
  from: E164.optional().openapi({ description: "A Bland number to call from; Bland's pool otherwise" }),
  pathway_id: PlatformId.optional().openapi({ description: "A Bland pathway to follow instead of the request's task as the prompt" }),
});
export const ElevenLabsDialer = z.strictObject({
  type: z.literal("elevenlabs"),
  agent_id: PlatformId.openapi({ description: "The ElevenLabs agent that talks" }),
  agent_phone_number_id: PlatformId.openapi({ description: "The ElevenLabs (Twilio) phone number that calls" }),
});
/** Header names as HTTP allows them. */
const HeaderName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/, "not a valid header name");
export const HttpDialer = z.strictObject({
  type: z.literal("http"),
  url: z.url({ protocol: /^https?$/ }).max(2048).openapi({ description: "Where the create-call request is POSTed" }),
  headers: z
    .record(HeaderName, z.string().max(4096))
    .optional()
    .openapi({
      description: "Request headers; a value may name a Worker secret as {{secret.NAME}}, e.g. \"Bearer {{secret.DIALER_TOKEN}}\"",
      example: { authorization: "Bearer {{secret.DIALER_TOKEN}}" },
    }),
  body: JsonObject.openapi({
    description:
      "The JSON body; every string in it is a Mustache template over the request: phone_number, task, caller_name, " +
      "outbound_call_id, attempt, agent_id and metadata.* (a string that is only {{metadata}} becomes the metadata object)",
    example: { to: "{{phone_number}}", prompt: "{{task}}", reference: "{{outbound_call_id}}" },
  }),
  call_id_path: z
    .string()
    .regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, "a dotted path such as data.call.id")
    .openapi({ description: "Where the answer holds the call's id, as a dotted path", example: "data.id" }),
});
export const SimulatorDialer = z.strictObject({ type: z.literal("simulator") }).openapi({
  description:
    "Dials nobody: a few seconds later the relay produces the call-ended event itself, with the outcome named by the " +
    "request's metadata.simulate_outcome (default completed). Refused unless ALLOW_SIMULATOR=true.",
});

export type VapiDialer = z.infer<typeof VapiDialer>;
export type RetellDialer = z.infer<typeof RetellDialer>;
export type BlandDialer = z.infer<typeof BlandDialer>;
export type ElevenLabsDialer = z.infer<typeof ElevenLabsDialer>;
export type HttpDialer = z.infer<typeof HttpDialer>;

export const Dialer = z
  .discriminatedUnion("type", [VapiDialer, RetellDialer, BlandDialer, ElevenLabsDialer, HttpDialer, SimulatorDialer])
  .openapi("OutboundPlatform", { description: "The voice platform that places the calls, with its ids" });
export type Dialer = z.infer<typeof Dialer>;
export type DialerType = Dialer["type"];
export const DIALER_TYPES = ["vapi", "retell", "bland", "elevenlabs", "http", "simulator"] as const satisfies readonly DialerType[];

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** An IANA time zone the runtime knows, e.g. America/New_York. */
export const TimeZone = z
  .string()
  .min(1)
  .max(64)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, "must be an IANA time zone, e.g. America/New_York")
  .openapi({ example: "America/New_York" });

const LocalTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM, 24-hour");

export const CallingHours = z
  .strictObject({
    timezone: TimeZone.openapi({ description: "Where start and end are read, unless the request names the callee's own time zone" }),
    days: z.array(z.enum(WEEKDAYS)).min(1).max(7).openapi({ example: ["mon", "tue", "wed", "thu", "fri"] }),
    start: LocalTime.openapi({ example: "09:00" }),
    end: LocalTime.openapi({ example: "20:00" }),
  })
  .refine((h) => h.start < h.end, { message: "end must be after start", path: ["end"] })
  .openapi("CallingHours", { description: "When calls may be placed, in local time; a due time outside them moves to the next opening" });
export type CallingHours = z.infer<typeof CallingHours>;

export const Redial = z
  .strictObject({
    on: z.array(z.string().min(1).max(64)).max(20).default(["no_answer", "busy"]).openapi({
      description: "Outcomes that dial again (default no_answer and busy)",
    }),
    max_attempts: z.number().int().min(1).max(10).default(1).openapi({ description: "Attempts in all; 1 (the default) never re-dials" }),
    interval_seconds: z.number().int().min(60).max(7 * 86_400).default(3600).openapi({ description: "Wait before a re-dial" }),
  })
  .openapi("Redial");

/** The integration guide's payload: what a Zapier, Make or n8n step POSTs. */
export const OUTBOUND_EXAMPLE = {
  agent_id: "agent_abc123",
  phone_number: "+14155551234",
  task: "Confirm the appointment for Dental cleaning on 2026-03-12 at 10:30. If they cannot come, offer to reschedule.",
  caller_name: "Ana Silva",
  webhook_url: "https://yourapp.com/kallyai/callback",
  metadata: { event_id: "evt_123", calendar_id: "cal_9" },
};

/** Metadata travels to the platform and back in the callback: kept small. */
const Metadata = JsonObject.refine((m) => JSON.stringify(m).length <= 16_384, "at most 16 KiB of JSON");

/** The fields a call is made of, whether they come from the API or a trigger's mapping. */
export const OutboundCallFields = z.strictObject({
  phone_number: z.string().trim().min(1, "must not be empty").max(64).openapi({
    description: "E.164, or a national number read in the agent's default country",
    example: "+14155551234",
  }),
  task: z.string().trim().min(1).max(8000).optional().openapi({ description: "What the agent should do on the call" }),
  caller_name: z.string().trim().min(1).max(200).optional().openapi({ description: "The name of the person called" }),
  webhook_url: z.url({ protocol: /^https?$/ }).max(2048).optional().openapi({
    description: "Receives the signed outcome (Standard Webhooks) once the call is final",
  }),
  metadata: Metadata.optional().openapi({ description: "Returned unchanged in the callback" }),
  timezone: TimeZone.optional().openapi({ description: "The callee's time zone, for calling hours; default the agent's" }),
});
export type OutboundCallFields = z.infer<typeof OutboundCallFields>;

export const OutboundCallRequest = OutboundCallFields.extend({
  agent_id: Identifier,
  scheduled_at: z.iso.datetime({ offset: true }).optional().openapi({ description: "Place the call then (moved into calling hours)" }),
  delay_seconds: z.number().int().min(0).max(366 * 86_400).optional().openapi({ description: "Place the call this many seconds from now" }),
})
  .refine((r) => r.scheduled_at === undefined || r.delay_seconds === undefined, {
    message: "give scheduled_at or delay_seconds, not both",
    path: ["delay_seconds"],
  })
  .openapi("OutboundCallRequest", { example: OUTBOUND_EXAMPLE });
export type OutboundCallRequest = z.infer<typeof OutboundCallRequest>;

export const OUTBOUND_STATUSES = ["queued", "scheduled", "dialing", "in_progress", "completed", "failed", "cancelled"] as const;
export const OutboundStatus = z.enum(OUTBOUND_STATUSES).openapi({
  description:
    "queued: due now; scheduled: waiting for its time (or a re-dial); dialing: the create-call request is out; in_progress: the " +
    "platform placed it; completed / failed / cancelled: final",
});
export type OutboundStatus = z.infer<typeof OutboundStatus>;

export const OutboundAttempt = z
  .object({
    number: z.number().int(),
    placed_at: z.string().openapi({ description: "When the create-call request was sent" }),
    platform_call_id: z.string().nullable(),
    http_status: z.number().int().nullable().openapi({ description: "The platform's answer to the create-call request" }),
    error: z.string().nullable(),
    /** Create-call answers that asked to try again (429, 5xx) before this attempt's own. */
    retries: z.number().int(),
    ended_at: z.string().nullable(),
    ended_reason: z.string().nullable(),
    outcome: z.string().nullable(),
    duration_seconds: z.number().nullable(),
  })
  .openapi("OutboundAttempt");
export type OutboundAttempt = z.infer<typeof OutboundAttempt>;

export const CallbackDelivery = z
  .object({
    delivery_id: z.string(),
    status: z.string(),
    attempts: z.number().int(),
    last_status: z.number().int().nullable(),
    last_error: z.string().nullable(),
  })
  .openapi("CallbackDelivery", { description: "The callback's delivery; replay it with POST /deliveries/{delivery_id}/retry" });

/** An outbound call of the documentation's examples: confirmed on the second attempt. */
export const EXAMPLE_OUTBOUND_CALL = {
  id: "oc_5f2c9a1e7b3d4c6a8e0f1b2c",
  status: "completed" as const,
  outcome: "confirmed",
  agent_id: "agent_abc123",
  trigger_id: "trg_8c1d2e3f4a5b6c7d",
  platform: "vapi" as const,
  phone_number: "+14155551234",
  caller_name: "Ana Silva",
  task: OUTBOUND_EXAMPLE.task,
  webhook_url: OUTBOUND_EXAMPLE.webhook_url,
  metadata: OUTBOUND_EXAMPLE.metadata,
  timezone: "America/New_York",
  requested_at: "2026-03-11T13:00:02.114Z",
  scheduled_for: null,
  max_attempts: 3,
  attempts: [
    {
      number: 1,
      placed_at: "2026-03-11T14:30:00.210Z",
      platform_call_id: "7b1e2c3d-0a4f-4b5c-8d6e-9f0a1b2c3d4e",
      http_status: 201,
      error: null,
      retries: 0,
      ended_at: "2026-03-11T14:30:41.000Z",
      ended_reason: "customer-did-not-answer",
      outcome: "no_answer",
      duration_seconds: 0,
    },
    {
      number: 2,
      placed_at: "2026-03-11T15:30:00.190Z",
      platform_call_id: "0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f",
      http_status: 201,
      error: null,
      retries: 0,
      ended_at: "2026-03-11T15:32:38.000Z",
      ended_reason: "customer-ended-call",
      outcome: "confirmed",
      duration_seconds: 158,
    },
  ],
  error: null,
  ended_at: "2026-03-11T15:32:39.020Z",
  callback: { delivery_id: "dlv_4be2a0c19f7d3e5a6b8c9d0e", status: "delivered", attempts: 1, last_status: 200, last_error: null },
  fallback_delivery_ids: [],
  updated_at: "2026-03-11T15:32:39.020Z",
};

export const OutboundCall = z
  .object({
    id: z.string().openapi({ example: "oc_5f2c9a1e7b3d4c6a8e0f1b2c" }),
    status: OutboundStatus,
    outcome: z.string().nullable(),
    agent_id: z.string(),
    trigger_id: z.string().nullable(),
    platform: z.enum(DIALER_TYPES),
    phone_number: z.string().openapi({ description: "The normalised number", example: "+14155551234" }),
    caller_name: z.string().nullable(),
    task: z.string().nullable(),
    webhook_url: z.string().nullable(),
    metadata: JsonObject,
    timezone: z.string().nullable(),
    requested_at: z.string(),
    scheduled_for: z.string().nullable().openapi({ description: "When the next attempt will be placed (after calling hours)" }),
    max_attempts: z.number().int(),
    attempts: z.array(OutboundAttempt),
    error: z.string().nullable().openapi({ description: "Why the call failed, e.g. the platform's refusal" }),
    ended_at: z.string().nullable(),
    callback: CallbackDelivery.nullable(),
    fallback_delivery_ids: z.array(z.string()),
    updated_at: z.string(),
  })
  .openapi("OutboundCall", { example: EXAMPLE_OUTBOUND_CALL });
export type OutboundCall = z.infer<typeof OutboundCall>;

/** What the source system receives once the call is final. */
export const OutboundCallback = z
  .object({
    event: z.literal("outbound_call.completed"),
    id: z.string(),
    trigger_id: z.string().nullable(),
    agent_id: z.string(),
    phone_number: z.string(),
    caller_name: z.string().nullable(),
    task: z.string().nullable(),
    status: z.enum(["completed", "failed"]),
    outcome: z.string(),
    attempts: z.number().int(),
    call_id: z.string().nullable(),
    platform: z.string(),
    ended_reason: z.string().nullable(),
    duration_seconds: z.number().nullable(),
    summary: z.string().nullable(),
    details: JsonObject.nullable(),
    recording_url: z.string().nullable(),
    error: z.string().nullable(),
    requested_at: z.string(),
    ended_at: z.string(),
    metadata: JsonObject,
  })
  .openapi("OutboundCallback", {
    description: "What webhook_url receives once an outbound call is final.",
    example: {
      event: "outbound_call.completed",
      id: EXAMPLE_OUTBOUND_CALL.id,
      trigger_id: EXAMPLE_OUTBOUND_CALL.trigger_id,
      agent_id: EXAMPLE_OUTBOUND_CALL.agent_id,
      phone_number: EXAMPLE_OUTBOUND_CALL.phone_number,
      caller_name: EXAMPLE_OUTBOUND_CALL.caller_name,
      task: EXAMPLE_OUTBOUND_CALL.task,
      status: "completed",
      outcome: "confirmed",
      attempts: 2,
      call_id: "0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f",
      platform: "vapi",
      ended_reason: "customer-ended-call",
      duration_seconds: 158,
      summary: "Ana confirmed her appointment on March 12 at 10:30.",
      details: { appointment_status: "confirmed" },
      recording_url: "https://storage.vapi.ai/0c9d8e7f-recording.wav",
      error: null,
      requested_at: EXAMPLE_OUTBOUND_CALL.requested_at,
      ended_at: EXAMPLE_OUTBOUND_CALL.ended_at,
      metadata: EXAMPLE_OUTBOUND_CALL.metadata,
    },
  });
export type OutboundCallback = z.infer<typeof OutboundCallback>;
