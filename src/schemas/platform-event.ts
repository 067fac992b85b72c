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

/** An outcome: one of the canonical values, or any other string kept as given. */
/** `string & {}` keeps editor completion for the known values without narrowing the type. */
export type Outcome = KnownOutcome | (string & {});

/**
 * What a platform adapter produces: the canonical event itself (it carries `ended_reason`
 * and `outcome` for every sender), named for the adapters that build it.
 */
export const PlatformCallEvent = CallEndedEvent;
export type PlatformCallEvent = z.infer<typeof PlatformCallEvent>;
