import { z } from "@hono/zod-openapi";

/** How far back GET /stats looks. */
export const STATS_WINDOWS = ["24h", "7d", "30d"] as const;
export const StatsWindow = z.enum(STATS_WINDOWS);
export type StatsWindow = z.infer<typeof StatsWindow>;

/** The dimension GET /stats groups on. */
export const STATS_GROUP_BY = ["action_type", "provider", "agent", "trigger", "platform", "outcome"] as const;
export const StatsGroupBy = z.enum(STATS_GROUP_BY);
export type StatsGroupBy = z.infer<typeof StatsGroupBy>;

/** Settled delivery statuses, in the order the answer lists them. */
export const SETTLED_STATUSES = ["delivered", "failed", "gone", "skipped", "unknown"] as const;
export type SettledStatus = (typeof SETTLED_STATUSES)[number];

export const StatsQuery = z.object({
  window: StatsWindow.default("24h").openapi({ description: "The last 24 hours, 7 days or 30 days, by whole UTC hours" }),
  group_by: StatsGroupBy.optional().openapi({
    description:
      "Also answer one group per value of this dimension. `agent`, `outcome`: both kinds. `action_type`, `provider`: " +
      "deliveries only (outbound calls form one group, key null). `trigger`, `platform`: outbound calls only (deliveries " +
      "form one group, key null). `outcome` is a delivery's settled status and an outbound call's outcome.",
  }),
});

const rate = (what: string) =>
  z.number().nullable().openapi({ description: `${what}, 0 to 1 (4 decimals); null when there is nothing to divide by` });

export const LatencyStats = z
  .object({
    measured: z.number().int().openapi({ description: "Delivered deliveries whose latency was measured (their first settle)" }),
    p50_ms: z.number().int().nullable(),
    p95_ms: z.number().int().nullable(),
    buckets: z
      .array(z.object({ le_ms: z.number().int().nullable().openapi({ description: "The bucket's upper bound; null: more than a day" }), count: z.number().int() }))
      .openapi({ description: "The histogram the percentiles are read from" }),
  })
  .openapi({
    description:
      "Accepted → delivered: from the moment the call was accepted to the moment the delivery was recorded delivered, for " +
      "the first settle of each delivery (a replay's is not measured). Percentiles come from a fixed histogram (1 s, 2 s, " +
      "5 s, 10 s, 30 s, 1 min, 5 min, 30 min, 2 h, 12 h, 1 day, more): each is the upper bound of the bucket that holds " +
      "it, so p95_ms 5000 means the 95th percentile is between 2 and 5 seconds. Null when nothing was measured, or when " +
      "the percentile lies beyond a day.",
  });

export const DeliveryStats = z.object({
  settled: z.number().int().openapi({ description: "Settles counted: a replayed delivery that settles again counts again" }),
  by_status: z.object(Object.fromEntries(SETTLED_STATUSES.map((s) => [s, z.number().int()])) as Record<SettledStatus, z.ZodNumber>),
  success_rate: rate("delivered / (settled − skipped): skipped deliveries were never meant to be sent"),
  attempts: z.number().int().openapi({ description: "Attempts those settles took" }),
  attempts_per_delivery: z.number().nullable().openapi({ description: "attempts / settled (2 decimals); null when none settled" }),
  latency: LatencyStats,
});
export type DeliveryStats = z.infer<typeof DeliveryStats>;

export const OutboundStats = z.object({
  final: z.number().int().openapi({ description: "Outbound calls that became final (completed or failed; cancelled ones are not counted)" }),
  by_outcome: z.record(z.string(), z.number().int()).openapi({ description: "Final calls by outcome" }),
  connected: z.number().int().openapi({ description: "Final calls with a connected outcome: any but no_answer, busy, failed, voicemail, unknown" }),
  connect_rate: rate("connected / final"),
  attempts: z.number().int().openapi({ description: "Attempts placed for those calls" }),
  redials: z.number().int().openapi({ description: "Attempts beyond each call's first" }),
});
export type OutboundStats = z.infer<typeof OutboundStats>;

const groupKey = z.string().nullable().openapi({ description: "The dimension's value; null where it does not apply" });

const EXAMPLE_BUCKETS = [1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000, 1_800_000, 7_200_000, 43_200_000, 86_400_000, null];
const buckets = (counts: number[]) => EXAMPLE_BUCKETS.map((le_ms, i) => ({ le_ms, count: counts[i] ?? 0 }));

const EXAMPLE_DELIVERIES = {
  settled: 120,
  by_status: { delivered: 112, failed: 3, gone: 1, skipped: 4, unknown: 0 },
  success_rate: 0.9655,
  attempts: 131,
  attempts_per_delivery: 1.09,
  latency: { measured: 112, p50_ms: 2000, p95_ms: 10_000, buckets: buckets([40, 30, 26, 12, 2, 1, 1]) },
};
const EXAMPLE_OUTBOUND = {
  final: 20,
  by_outcome: { confirmed: 11, reschedule_requested: 2, no_answer: 5, voicemail: 2 },
  connected: 13,
  connect_rate: 0.65,
  attempts: 31,
  redials: 11,
};

export const StatsAnswer = z
  .object({
    window: StatsWindow,
    group_by: StatsGroupBy.nullable(),
    since: z.string().openapi({ description: "Start of the first UTC hour counted" }),
    until: z.string().openapi({ description: "When the answer was read" }),
    deliveries: z.object({ total: DeliveryStats, groups: z.array(DeliveryStats.extend({ key: groupKey })) }),
    outbound_calls: z.object({ total: OutboundStats, groups: z.array(OutboundStats.extend({ key: groupKey })) }),
  })
  .openapi("Stats", {
    example: {
      window: "24h",
      group_by: "agent",
      since: "2026-03-09T15:00:00.000Z",
      until: "2026-03-10T15:04:05.412Z",
      deliveries: { total: EXAMPLE_DELIVERIES, groups: [{ key: "agent_abc123", ...EXAMPLE_DELIVERIES }] },
      outbound_calls: { total: EXAMPLE_OUTBOUND, groups: [{ key: "agent_abc123", ...EXAMPLE_OUTBOUND }] },
    },
  });
export type StatsAnswer = z.infer<typeof StatsAnswer>;
