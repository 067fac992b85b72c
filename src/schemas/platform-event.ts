import { z } from "@hono/zod-openapi";
import { CallEndedEvent } from "./call-event";

/** The voice platforms whose own webhook formats `POST /calls/ended/{platform}` accepts. */
export const PLATFORM_NAMES = ["vapi", "retell", "bland", "elevenlabs"] as const;
export const PlatformName = z.enum(PLATFORM_NAMES).openapi({ description: "The voice platform that sent the webhook" });
export type PlatformName = z.infer<typeof PlatformName>;

/**
 * The canonical outcomes. Each platform's ended reason maps to one of them; an agent's
 * `outcome_field`/`outcome_map` may refine a connected call's outcome from its details.
 */
export const OUTCOMES = [
  "completed",
  "confirmed",
  "reschedule_requested",
  "declined",
  "no_answer",
  "busy",
  "voicemail",
  "failed",
  "unknown",
] as const;
export const KnownOutcome = z.enum(OUTCOMES);
export type KnownOutcome = z.infer<typeof KnownOutcome>;

/**
 * An outcome: one of the canonical values, or any other string kept as given (a business's
 * own disposition such as "callback_booked"). The union keeps the vocabulary visible in
 * OpenAPI while still accepting the rest.
 */
export const Outcome = z
  .union([KnownOutcome, z.string().min(1).max(128)])
  .openapi({
    description: `One of ${OUTCOMES.join(", ")}; any other string is kept as given.`,
    example: "confirmed",
  });
/** `string & {}` keeps editor completion for the known values without narrowing the type. */
export type Outcome = KnownOutcome | (string & {});

/** The platform's own reason for the end of the call, as it sent it (e.g. `customer-did-not-answer`). */
export const EndedReason = z
  .string()
  .max(256)
  .openapi({ description: "The voice platform's own ended reason, unchanged", example: "customer-ended-call" });

/**
 * The fields issue 7 adds to the canonical call-ended event, as a shape to merge:
 * `CallEndedEvent.extend(PlatformEventFields)`. Like every optional field there, both
 * accept `null` (platforms send it for what they do not have).
 */
export const PlatformEventFields = {
  ended_reason: EndedReason.nullish(),
  outcome: Outcome.nullish(),
};

/** The canonical event with the new fields: what a platform adapter produces. */
export const PlatformCallEvent = CallEndedEvent.extend(PlatformEventFields);
export type PlatformCallEvent = z.infer<typeof PlatformCallEvent>;
