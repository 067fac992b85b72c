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
 * Hourly rollups behind GET /stats: `delivery_stats_hourly` (migration 0016), one row per hour and
 * agent with the counts of each action type, provider and status inside it, and `stats_hourly`
 * (migration 0010) for outbound calls. The delivery log and the outbound-call index add the
 * statements built here to the batch that writes a row, so a settle is counted in the same
 * transaction that stores it, exactly once:
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
 * deliveries.version`, which record the settle `deliverySettlesStatements` counted, by the same rule.
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

/** What a delivery rollup keeps per action type, provider and status, in this order (migration 0016). */
const DELIVERY_COUNTERS = ["settled", "attempts", ...LATENCY_BUCKETS.map((b) => b.column)];
const COUNTER_COLUMNS = DELIVERY_COUNTERS.map((_, i) => `c${i}`).join(", ");
/** A delivery rollup's key inside its row; the parts are names from fixed lists, none holds a colon. */
const countsKey = (row: Pick<Delivery, "action_type" | "provider" | "status">) => `${row.action_type}:${row.provider ?? ""}:${row.status}`;
/** SQL: the columns c0, c1, ... summing each counter of the arrays in column `value`. */
const summedCounters = (value: string) => DELIVERY_COUNTERS.map((_, i) => `SUM(json_extract(${value}, '$[${i}]')) AS c${i}`).join(", ");

/**
 * SQL: the counts objects `a` and `b` added up key by key, each value the array of
 * DELIVERY_COUNTERS.
 */
const addedCounts = (a: string, b: string) =>
  `(SELECT json_group_object(key, json_array(${COUNTER_COLUMNS})) FROM (
    SELECT key, ${summedCounters("value")} FROM (SELECT key, value FROM json_each(${a}) UNION ALL SELECT key, value FROM json_each(${b}))
    GROUP BY key))`;

/**
 * Counts the settles among delivery rows `rows` (one write's) into their hour's rollup row of
 * their agent, each unless the stored copy of its row is as new or newer or this settle was
 * counted already. One statement per hour and agent, so a call whose actions settle together
 * writes one rollup row. Add them to the batch BEFORE the rows' upserts: they compare with the
 * rows as stored until then.
 *
 * Attempts added are those beyond the ones already counted (a replay adds its own). Latency is
 * measured for the first settle only, when delivered: a replay's would measure how long after
 * the call someone pressed replay.
 */
export function deliverySettlesStatements(db: D1Database, rows: Delivery[]): D1PreparedStatement[] {
  const groups = new Map<string, Delivery[]>();
  for (const row of rows.filter((r) => isSettled(r.status))) {
    const key = `${hourOf(row.updated_at)} ${row.agent_id}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return [...groups.values()].map((group) => settlesStatement(db, group));
}

/**
 * One statement counting `rows`, settled deliveries of one agent in one hour. The rows travel as
 * one JSON parameter, so any number of them fits D1's limits on parameters and compound SELECTs.
 */
function settlesStatement(db: D1Database, rows: Delivery[]): D1PreparedStatement {
  const first = rows[0]!;
  const settles = rows.map((row) => ({
    id: row.id,
    version: row.version,
    status: row.status,
    attempts: row.attempts,
    key: countsKey(row),
    // Latency is measured for a delivered row's first settle only (checked against the stored row below).
    bucket: row.status === "delivered" ? latencyBucket(Date.parse(row.updated_at) - Date.parse(row.created_at)) : -1,
  }));
  const fields = ["id", "version", "status", "attempts", "key", "bucket"].map((f) => `json_extract(value, '$.${f}') AS ${f}`).join(", ");
  const latency = LATENCY_BUCKETS.map((_, i) => `SUM(s.bucket = ${i} AND d.counted_status IS NULL) AS c${i + 2}`).join(", ");
  return db
    .prepare(
      `WITH s AS (SELECT ${fields} FROM json_each(?3))
       INSERT INTO delivery_stats_hourly (hour, agent_id, counts)
       SELECT ?1, ?2, counts FROM (
         SELECT json_group_object(key, json_array(${COUNTER_COLUMNS})) AS counts, COUNT(*) AS keys FROM (
           SELECT s.key AS key, COUNT(*) AS c0, SUM(MAX(0, s.attempts - COALESCE(d.counted_attempts, 0))) AS c1, ${latency}
           FROM s LEFT JOIN deliveries AS d ON d.id = s.id
           WHERE d.id IS NULL OR (s.version > d.version AND ${uncountedSettle("s.status", "s.attempts", "d")})
           GROUP BY s.key))
       WHERE keys > 0
       ON CONFLICT (hour, agent_id) DO UPDATE SET counts = ${addedCounts("delivery_stats_hourly.counts", "excluded.counts")}`,
    )
    .bind(hourOf(first.updated_at), first.agent_id, JSON.stringify(settles));
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
  const hour = hourOf(cutoff);
  await db.batch([
    db.prepare("DELETE FROM stats_hourly WHERE hour < ?").bind(hour),
    db.prepare("DELETE FROM delivery_stats_hourly WHERE hour < ?").bind(hour),
  ]);
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

/** A delivery rollup's counts of one key, summed over the window (per agent when grouped by agent). */
interface CountedRow {
  agent: string;
  key: string;
  [counter: `c${number}`]: number;
}

/** A delivery rollup's summed counts as a row of the shape stats_hourly answers in. */
function summedDeliveries(row: CountedRow, groupBy: StatsGroupBy | undefined): SummedRow {
  const [action_type = "", provider = "", status = ""] = row.key.split(":");
  // Deliveries have no trigger or platform: grouped by one, they form one group ('').
  const dimensions: Partial<Record<StatsGroupBy, string>> = { action_type, provider, agent: row.agent, outcome: status };
  const grp = (groupBy && dimensions[groupBy]) ?? "";
  const counters = Object.fromEntries(DELIVERY_COUNTERS.map((name, i) => [name, Number(row[`c${i}`] ?? 0)]));
  return { kind: "delivery", grp, outcome: status, connected: 0, redials: 0, ...counters } as SummedRow;
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
  const [rolled, counted] = await db.batch([
    db.prepare(`SELECT kind, ${key} AS grp, outcome, ${sums} FROM stats_hourly WHERE hour >= ? GROUP BY kind, grp, outcome`).bind(since),
    db
      .prepare(
        `SELECT ${input.group_by === "agent" ? "r.agent_id" : "''"} AS agent, j.key AS key, ${summedCounters("j.value")}
         FROM delivery_stats_hourly AS r, json_each(r.counts) AS j WHERE r.hour >= ? GROUP BY agent, j.key`,
      )
      .bind(since),
  ]);
  const results = rolled!.results as SummedRow[];
  const deliveries = [
    ...results.filter((r) => r.kind === "delivery"),
    ...(counted!.results as CountedRow[]).map((row) => summedDeliveries(row, input.group_by)),
  ];
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
