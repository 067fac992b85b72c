import { z } from "@hono/zod-openapi";
import { ACTION_TYPES, Action } from "./agent";
import { CallEndedEvent } from "./call-event";

/** Where an action stands: pending and retrying are active, the rest are settled. */
export const DeliveryStatus = z.enum(["pending", "retrying", "delivered", "failed", "gone", "skipped", "unknown"]).openapi({
  description:
    "pending and retrying are active; the rest are settled. unknown: an attempt to a provider that cannot deduplicate " +
    "was cut off before its answer was recorded, or its answer never came (a timeout, a lost connection, a 504), so it " +
    "was not sent again (it may or may not have arrived).",
});
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

/** What one attempt came to. */
export const AttemptOutcome = z.enum(["delivered", "retry", "failed", "gone", "skipped", "unknown"]);
export type AttemptOutcome = z.infer<typeof AttemptOutcome>;

/** One attempt's result as the ledger records it and the delivery log keeps it. */
export const AttemptRecord = z.object({
  outcome: AttemptOutcome,
  started_at: z.string(),
  duration_ms: z.number().int(),
  status_code: z.number().int().optional(),
  error: z.string().optional(),
  response_body: z.string().optional(),
  provider_id: z.string().optional(),
  /** The provider that handled the attempt, when not the planned one. */
  provider: z.string().optional(),
  detail: z.string().optional(),
  /** When outcome is retry: when the next attempt is due (epoch ms). */
  retry_at: z.number().optional(),
});
export type AttemptRecord = z.infer<typeof AttemptRecord>;

/** The answer to a call-ended event. */
export const IngestResult = z
  .object({
    call_id: z.string(),
    status: z.enum(["accepted", "duplicate"]),
    actions: z.array(z.object({ id: z.string(), index: z.number().int(), type: z.enum(ACTION_TYPES) })),
    reason: z.string().nullable().openapi({ description: "Why no action will run, when none will" }),
  })
  .openapi("IngestResult", {
    example: {
      call_id: "call_xyz789",
      status: "accepted",
      actions: [
        { id: "dlv_01HQ7Z8K3M4N5P6Q7R8S9T0V1W", index: 0, type: "sms" },
        { id: "dlv_01HQ7Z8K3M4N5P6Q7R8S9T0V1X", index: 1, type: "webhook" },
        { id: "dlv_01HQ7Z8K3M4N5P6Q7R8S9T0V1Y", index: 2, type: "email" },
      ],
      reason: null,
    },
  });
export type IngestResult = z.infer<typeof IngestResult>;

export const EXAMPLE_DELIVERY = {
  id: "dlv_01HQ7Z8K3M4N5P6Q7R8S9T0V1X",
  call_id: "call_xyz789",
  agent_id: "agent_abc123",
  action_index: 1,
  action_type: "webhook" as const,
  provider: "webhook",
  target: "https://your-crm.com/api/call-completed",
  status: "delivered" as const,
  attempts: 2,
  last_status: 200,
  last_error: null,
  next_attempt_at: null,
  created_at: "2026-03-10T15:04:06.120Z",
  updated_at: "2026-03-10T15:04:37.480Z",
  version: 4,
  run: 0,
};

const EXAMPLE_ATTEMPTS = [
  {
    attempt: 1,
    started_at: "2026-03-10T15:04:06.200Z",
    duration_ms: 5012,
    outcome: "retry" as const,
    status_code: 503,
    error: "HTTP 503: Service Unavailable",
    response_body: "Service Unavailable",
    provider: null,
    provider_id: null,
    detail: null,
  },
  {
    attempt: 2,
    started_at: "2026-03-10T15:04:37.300Z",
    duration_ms: 180,
    outcome: "delivered" as const,
    status_code: 200,
    error: null,
    response_body: '{"ok":true}',
    provider: null,
    provider_id: null,
    detail: null,
  },
];

/** One action of one call, as the delivery log keeps it. */
export const Delivery = z
  .object({
    id: z.string(),
    call_id: z.string(),
    agent_id: z.string(),
    action_index: z.number().int(),
    action_type: z.enum(ACTION_TYPES),
    provider: z.string().nullable().openapi({ description: "Null until an unnamed provider is chosen at send time" }),
    target: z.string().nullable(),
    status: DeliveryStatus,
    attempts: z.number().int(),
    last_status: z.number().int().nullable(),
    last_error: z.string().nullable(),
    next_attempt_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    version: z.number().int().openapi({ description: "Increases with every change to the delivery" }),
    run: z.number().int().openapi({ description: "0 for the actions planned when the call was accepted; 1, 2, … for each re-run" }),
  })
  .openapi("Delivery", { example: EXAMPLE_DELIVERY });
export type Delivery = z.infer<typeof Delivery>;

export const Attempt = z
  .object({
    attempt: z.number().int(),
    started_at: z.string(),
    duration_ms: z.number().int(),
    outcome: AttemptOutcome,
    status_code: z.number().int().nullable(),
    error: z.string().nullable(),
    response_body: z.string().nullable().openapi({ description: "First KiB of the response" }),
    provider: z.string().nullable(),
    provider_id: z.string().nullable(),
    detail: z.string().nullable().openapi({ description: "e.g. an SMS's segment count" }),
  })
  .openapi("Attempt", { example: EXAMPLE_ATTEMPTS[1] });
export type Attempt = z.infer<typeof Attempt>;

/**
 * The attempts the log keeps of a delivery, the latest ones: at about 1.2 KB each (the first KiB
 * of the answer and the rest), well inside D1's 2 MB row even for a delivery replayed hundreds
 * of times, so its log write can never be refused for size.
 */
export const ATTEMPT_LOG_MAX = 500;

export const DeliveryWithAttempts = Delivery.extend({
  attempt_log: z.array(Attempt).openapi({
    description: `Its attempts, oldest first: the latest ${ATTEMPT_LOG_MAX} (a delivery replayed more often than that loses its oldest)`,
  }),
}).openapi("DeliveryWithAttempts", {
  example: { ...EXAMPLE_DELIVERY, attempt_log: EXAMPLE_ATTEMPTS },
});

/** A call as the delivery log indexes it. */
export const Call = z.object({
  call_id: z.string(),
  agent_id: z.string(),
  status: z.enum(["accepted", "unrouted", "disabled", "no_actions"]).openapi({
    description:
      "accepted: actions planned. unrouted: no agent had this id. disabled: the agent's follow-up was off. no_actions: it had none. " +
      "A call that is not accepted runs once its agent is fixed and it is posted again, or by POST /calls/{call_id}/rerun.",
  }),
  reason: z.string().nullable(),
  action_count: z.number().int(),
  ended_at: z.string().nullable(),
  received_at: z.string(),
});
export type Call = z.infer<typeof Call>;

/** GET /calls/{call_id}: the ledger of one call, every action with its attempts. */
export const CallLedgerView = Call.extend({
  agent_name: z.string(),
  event: CallEndedEvent,
  raw: z.unknown().openapi({ description: "The voice platform's payload as received (platform routes only), else null" }),
  actions: z.array(DeliveryWithAttempts.extend({ action: Action })),
}).openapi("CallLedger", {
  example: {
    call_id: "call_xyz789",
    agent_id: "agent_abc123",
    status: "accepted",
    reason: null,
    action_count: 1,
    ended_at: "2026-03-10T15:04:05Z",
    received_at: "2026-03-10T15:04:06.080Z",
    agent_name: "Acme Support",
    event: {
      call_id: "call_xyz789",
      agent_id: "agent_abc123",
      caller_number: "+14155551234",
      duration_seconds: 230,
      summary: "Caller inquired about order #12345. Agent confirmed delivery date of March 15.",
      ended_at: "2026-03-10T15:04:05Z",
      outcome: "confirmed",
      metadata: { order_id: "12345" },
    },
    raw: null,
    actions: [
      {
        ...EXAMPLE_DELIVERY,
        action_index: 0,
        attempt_log: EXAMPLE_ATTEMPTS,
        action: { type: "webhook", url: "https://your-crm.com/api/call-completed", include_transcript: true, include_recording_url: true },
      },
    ],
  },
});
