import type { Delivery } from "../schemas/delivery";
import type { OutboundCall } from "../schemas/outbound";
import {
  type DeliveryStats,
  type OutboundStats,
  SETTLED_STATUSES,
  type StatsAnswer,
  type StatsGroupBy,
  type StatsWindow,
} from "../schemas/stats";

/**
 * Hourly rollups behind GET /stats (table `stats_hourly`, migration 0010). The delivery log and
 * the outbound-call index add the statements built here to the batch that writes a row, so a
 * settle is counted in the same transaction that stores it, exactly once:
 *
 * - a delivery settle is counted when the written row is newer than the stored one, settled,
 *   and not the settle already counted (`deliveries.counted_status` / `counted_attempts`): a
 *   repeated or late copy counts nothing, a replay that settles again counts again;
 * - an outbound call is counted when its first final view (completed or failed) is stored
 *   (`outbound_calls.final_counted`).
 *
 * The counting statement runs before the row's upsert and reads the stored row as it was; the
 * upsert then records what was counted, by the same rule, in the same write.
 */

export type { DeliveryStats, OutboundStats, StatsAnswer, StatsGroupBy, StatsWindow } from "../schemas/stats";

/** Latency histogram: each bucket holds latencies up to its bound (ms); the last is unbounded. */
export const LATENCY_BUCKETS = [
  { column: "le_1s", le_ms: 1_000 },
  { column: "le_2s", le_ms: 2_000 },
  { column: "le_5s", le_ms: 5_000 },
  { column: "le_10s", le_ms: 10_000 },
  { column: "le_30s", le_ms: 30_000 },
  { column: "le_1m", le_ms: 60_000 },
  { column: "le_5m", le_ms: 300_000 },
  { column: "le_30m", le_ms: 1_800_000 },
  { column: "le_2h", le_ms: 7_200_000 },
  { column: "le_12h", le_ms: 43_200_000 },
  { column: "le_1d", le_ms: 86_400_000 },
  { column: "gt_1d", le_ms: null },
] as const;

/** Outcomes of an outbound call that never became a conversation. */
const NOT_CONNECTED: ReadonlySet<string> = new Set(["no_answer", "busy", "failed", "voicemail", "unknown"]);
const FINAL_OUTBOUND: ReadonlySet<string> = new Set(["completed", "failed"]);
const SETTLED: ReadonlySet<string> = new Set(SETTLED_STATUSES);

const WINDOW_HOURS: Record<StatsWindow, number> = { "24h": 24, "7d": 7 * 24, "30d": 30 * 24 };
const HOUR_MS = 3_600_000;

/** The rollup row's hour: UTC, `YYYY-MM-DDTHH`. */
export const hourOf = (at: string | number) => new Date(at).toISOString().slice(0, 13);

/**
 * The histogram bucket a latency falls in: the first whose bound it does not exceed.
 *
 * @example
 * latencyBucket(1_500) // 1 (le_2s)
 */
export const latencyBucket = (ms: number) => {
  const i = LATENCY_BUCKETS.findIndex((b) => b.le_ms !== null && ms <= b.le_ms);
  return i === -1 ? LATENCY_BUCKETS.length - 1 : i;
};

/**
 * The `q` quantile (0 < q ≤ 1) of a histogram, nearest rank, answered as the upper bound of
 * the bucket that holds it. Null with no counts, or when it falls in the unbounded last bucket.
 *
 * @example
 * percentileFromBuckets([3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0.95) // 2000
 */
export function percentileFromBuckets(counts: readonly number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const [i, n] of counts.entries()) {
    seen += n;
    if (seen >= rank) return LATENCY_BUCKETS[i]?.le_ms ?? null;
  }
  return null;
}

/** Whether an outbound call's outcome means someone talked to the agent. */
export const isConnected = (outcome: string | null) => outcome !== null && !NOT_CONNECTED.has(outcome);

export const isSettled = (status: string) => SETTLED.has(status);

const SETTLED_SQL = SETTLED_STATUSES.map((s) => `'${s}'`).join(", ");
const KEY = "hour, kind, agent_id, action_type, provider, trigger_id, platform, outcome";
const SUMMED = ["settled", "attempts", "connected", "redials", ...LATENCY_BUCKETS.map((b) => b.column)];
const COLUMNS = `${KEY}, ${SUMMED.join(", ")}`;
const ADD_UP = `ON CONFLICT (${KEY}) DO UPDATE SET ${SUMMED.map((c) => `${c} = stats_hourly.${c} + excluded.${c}`).join(", ")}`;

/**
 * SQL: whether a delivery row written with `status` and `attempts` is a settle not yet counted,
 * against the stored row `stored` (its counted_* columns). Only meaningful when the written row
 * is newer than the stored one.
 */
const uncountedSettle = (status: string, attempts: string, stored: string) =>
  `${status} IN (${SETTLED_SQL}) AND (${stored}.counted_status IS NULL OR ${stored}.counted_status != ${status} OR ${attempts} > ${stored}.counted_attempts)`;

/**
 * The `counted_status`, `counted_attempts` columns of the delivery upsert: the values a new row
 * is inserted with, and the SET clauses of its `ON CONFLICT (id) DO UPDATE ... WHERE excluded.version >
 * deliveries.version`, which record the settle `deliverySettleStatement` counted, by the same rule.
 */
export const DELIVERY_COUNTED = {
  columns: "counted_status, counted_attempts",
  insertValues: (row: Pick<Delivery, "status" | "attempts">): [string | null, number] =>
    isSettled(row.status) ? [row.status, row.attempts] : [null, 0],
  onConflict: (() => {
    const counted = uncountedSettle("excluded.status", "excluded.attempts", "deliveries");
    return (
      `counted_status = CASE WHEN ${counted} THEN excluded.status ELSE deliveries.counted_status END, ` +
      `counted_attempts = CASE WHEN ${counted} THEN excluded.attempts ELSE deliveries.counted_attempts END`
    );
  })(),
};

/**
 * Counts the settle of delivery row `row` into its hour, unless the stored copy of the row is as
 * new or newer, or this settle was counted already; null when the row is not settled. Add it to
 * the batch BEFORE the row's upsert: it compares with the row as stored until then.
 *
 * Attempts added are those beyond the ones already counted (a replay adds its own). Latency is
 * measured for the first settle only, when delivered: a replay's would measure how long after
 * the call someone pressed replay.
 */
export function deliverySettleStatement(db: D1Database, row: Delivery): D1PreparedStatement | null {
  if (!isSettled(row.status)) return null;
  const bucket = latencyBucket(Date.parse(row.updated_at) - Date.parse(row.created_at));
  const measured = row.status === "delivered" ? 1 : 0;
  // ?1 id, ?2 version, ?3 status, ?4 attempts, ?5 measured, ?6 bucket, ?7 hour, ?8 agent, ?9 type, ?10 provider
  const latency = LATENCY_BUCKETS.map((_, i) => `(?5 AND d.counted_status IS NULL AND ?6 = ${i})`).join(", ");
  return db
    .prepare(
      `INSERT INTO stats_hourly (${COLUMNS})
       SELECT ?7, 'delivery', ?8, ?9, ?10, '', '', ?3, 1, MAX(0, ?4 - COALESCE(d.counted_attempts, 0)), 0, 0, ${latency}
       FROM (SELECT 1) AS one LEFT JOIN deliveries AS d ON d.id = ?1
       WHERE d.id IS NULL OR (?2 > d.version AND ${uncountedSettle("?3", "?4", "d")})
       ${ADD_UP}`,
    )
    .bind(row.id, row.version, row.status, row.attempts, measured, bucket, hourOf(row.updated_at), row.agent_id, row.action_type, row.provider ?? "");
}

/** The `final_counted` value an outbound call's upsert stores; `MAX(stored, excluded)` on conflict. */
export const outboundFinalCounted = (view: Pick<OutboundCall, "status">) => (FINAL_OUTBOUND.has(view.status) ? 1 : 0);

/**
 * Counts an outbound call into the hour it ended, the first time its final view (completed or
 * failed) is stored at a newer version than the stored one; null when the view is not final.
 * Add it to the batch BEFORE the view's upsert.
 */
export function outboundFinalStatement(db: D1Database, view: OutboundCall, version: number): D1PreparedStatement | null {
  if (!outboundFinalCounted(view)) return null;
  const outcome = view.outcome ?? "unknown";
  const placed = view.attempts.length;
  const zeros = LATENCY_BUCKETS.map(() => "0").join(", ");
  return db
    .prepare(
      `INSERT INTO stats_hourly (${COLUMNS})
       SELECT ?3, 'outbound', ?4, '', '', ?5, ?6, ?7, 1, ?8, ?9, ?10, ${zeros}
       FROM (SELECT 1) AS one LEFT JOIN outbound_calls AS o ON o.id = ?1
       WHERE o.id IS NULL OR (?2 > o.version AND o.final_counted = 0)
       ${ADD_UP}`,
    )
    .bind(
      view.id,
      version,
      hourOf(view.ended_at ?? view.updated_at),
      view.agent_id,
      view.trigger_id ?? "",
      view.platform,
      outcome,
      placed,
      isConnected(outcome) ? 1 : 0,
      Math.max(0, placed - 1),
    );
}

/** Deletes rollup rows of hours that ended before `cutoff` (ISO 8601). */
export async function deleteStatsOlderThan(db: D1Database, cutoff: string): Promise<void> {
  await db.prepare("DELETE FROM stats_hourly WHERE hour < ?").bind(hourOf(cutoff)).run();
}

const GROUP_COLUMN: Record<StatsGroupBy, string> = {
  action_type: "action_type",
  provider: "provider",
  agent: "agent_id",
  trigger: "trigger_id",
  platform: "platform",
  outcome: "outcome",
};

interface SummedRow {
  kind: "delivery" | "outbound";
  grp: string;
  outcome: string;
  settled: number;
  attempts: number;
  connected: number;
  redials: number;
  [bucket: string]: number | string;
}

const round = (x: number, places: number) => Math.round(x * 10 ** places) / 10 ** places;
const ratio = (a: number, b: number, places: number) => (b === 0 ? null : round(a / b, places));

function deliveryStats(rows: SummedRow[]): DeliveryStats {
  const by_status = Object.fromEntries(SETTLED_STATUSES.map((s) => [s, 0])) as DeliveryStats["by_status"];
  const counts = LATENCY_BUCKETS.map(() => 0);
  let settled = 0;
  let attempts = 0;
  for (const row of rows) {
    if (isSettled(row.outcome)) by_status[row.outcome as keyof typeof by_status] += row.settled;
    settled += row.settled;
    attempts += row.attempts;
    LATENCY_BUCKETS.forEach((b, i) => {
      counts[i]! += Number(row[b.column] ?? 0);
    });
  }
  return {
    settled,
    by_status,
    success_rate: ratio(by_status.delivered, settled - by_status.skipped, 4),
    attempts,
    attempts_per_delivery: ratio(attempts, settled, 2),
    latency: {
      measured: counts.reduce((a, b) => a + b, 0),
      p50_ms: percentileFromBuckets(counts, 0.5),
      p95_ms: percentileFromBuckets(counts, 0.95),
      buckets: LATENCY_BUCKETS.map((b, i) => ({ le_ms: b.le_ms, count: counts[i]! })),
    },
  };
}

function outboundStats(rows: SummedRow[]): OutboundStats {
  const by_outcome: Record<string, number> = {};
  let final = 0;
  let connected = 0;
  let attempts = 0;
  let redials = 0;
  for (const row of rows) {
    by_outcome[row.outcome] = (by_outcome[row.outcome] ?? 0) + row.settled;
    final += row.settled;
    connected += row.connected;
    attempts += row.attempts;
    redials += row.redials;
  }
  return { final, by_outcome, connected, connect_rate: ratio(connected, final, 4), attempts, redials };
}

/** Rows grouped by key ('' answered as null), largest group first. */
function grouped<T extends { settled: number } | { final: number }>(rows: SummedRow[], stats: (rows: SummedRow[]) => T) {
  const byKey = new Map<string, SummedRow[]>();
  for (const row of rows) byKey.set(row.grp, [...(byKey.get(row.grp) ?? []), row]);
  const size = (s: T) => ("settled" in s ? s.settled : s.final);
  return [...byKey]
    .map(([key, list]) => ({ key: key === "" ? null : key, ...stats(list) }))
    .sort((a, b) => size(b) - size(a) || (a.key ?? "").localeCompare(b.key ?? ""));
}

/**
 * GET /stats's answer, read from the hourly rollups: the hours from the one `window` before
 * `now` (epoch ms) to now, both kinds, totals and, with `group_by`, one group per value.
 *
 * @example
 * const stats = await readStats(env.DB, { window: "7d", group_by: "agent", now: Date.now() });
 * stats.deliveries.total.success_rate; // 0.9655
 */
export async function readStats(db: D1Database, input: { window: StatsWindow; group_by?: StatsGroupBy; now: number }): Promise<StatsAnswer> {
  const since = hourOf(input.now - WINDOW_HOURS[input.window] * HOUR_MS);
  const key = input.group_by ? GROUP_COLUMN[input.group_by] : "''";
  const sums = SUMMED.map((c) => `SUM(${c}) AS ${c}`).join(", ");
  const { results } = await db
    .prepare(`SELECT kind, ${key} AS grp, outcome, ${sums} FROM stats_hourly WHERE hour >= ? GROUP BY kind, grp, outcome`)
    .bind(since)
    .all<SummedRow>();
  const deliveries = results.filter((r) => r.kind === "delivery");
  const outbound = results.filter((r) => r.kind === "outbound");
  return {
    window: input.window,
    group_by: input.group_by ?? null,
    since: `${since}:00:00.000Z`,
    until: new Date(input.now).toISOString(),
    deliveries: { total: deliveryStats(deliveries), groups: input.group_by ? grouped(deliveries, deliveryStats) : [] },
    outbound_calls: { total: outboundStats(outbound), groups: input.group_by ? grouped(outbound, outboundStats) : [] },
  };
}
