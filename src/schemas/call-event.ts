import { z } from "@hono/zod-openapi";

/** Identifiers appear in URLs, Durable Object names and log rows, so they are kept plain. */
export const Identifier = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:@-]+$/, "use letters, digits and _ . : @ - only");

/** Free-form key/value data carried through from the voice platform or the trigger. */
export const JsonObject = z.record(z.string(), z.unknown());

/** The seed's call-ended event: the example of the OpenAPI document and of the README. */
export const CALL_ENDED_EXAMPLE = {
  call_id: "call_xyz789",
  agent_id: "agent_abc123",
  caller_number: "+14155551234",
  duration_seconds: 230,
  summary: "Caller inquired about order #12345. Agent confirmed delivery date of March 15.",
  transcript: "Agent: Hello! Caller: Hi, about my order...",
  recording_url: "https://recordings.example.com/call_xyz789",
  ended_at: "2026-03-10T15:04:05Z",
  outcome: "confirmed",
  details: { delivery_date: "March 15" },
  metadata: { order_id: "12345", caller_name: "John Smith", caller_email: "john@example.com" },
};

/**
 * The canonical call-ended event. Voice platforms often send `null` for fields
 * they do not have, so every optional field also accepts `null` (treated as absent).
 */
export const CallEndedEvent = z
  .object({
    call_id: Identifier.max(256).openapi({ example: "call_xyz789" }),
    agent_id: Identifier.openapi({ example: "agent_abc123" }),
    caller_number: z.string().max(64).nullish().openapi({ example: "+14155551234" }),
    duration_seconds: z.number().nonnegative().max(7 * 24 * 3600).nullish().openapi({ example: 230 }),
    summary: z.string().max(65_536).nullish(),
    transcript: z.string().nullish(),
    recording_url: z.url({ protocol: /^https?$/ }).max(2048).nullish(),
    ended_at: z.iso.datetime({ offset: true }).nullish().openapi({ example: "2026-03-10T15:04:05Z" }),
    outcome: z.string().min(1).max(128).nullish().openapi({
      description:
        "completed, confirmed, reschedule_requested, declined, no_answer, busy, voicemail, failed or unknown; any other string is kept as given",
      example: "confirmed",
    }),
    ended_reason: z.string().max(256).nullish().openapi({ description: "The voice platform's own reason for the end of the call, unchanged" }),
    details: JsonObject.nullish(),
    metadata: JsonObject.nullish(),
  })
  .openapi("CallEndedEvent", { example: CALL_ENDED_EXAMPLE });


export type CallEndedEvent = z.infer<typeof CallEndedEvent>;
