import type { ActionType } from "../schemas/agent";
import { ATTEMPT_LOG_MAX, type Attempt, type AttemptRecord, type Call, Delivery, type DeliveryStatus } from "../schemas/delivery";
import { CALL_COLUMNS } from "./calls";
import { decodeCursor, keysetPage, Where } from "./keyset";
import { DELIVERY_COUNTED, deliverySettlesStatements } from "./stats";

export type CallRow = Call;
/** A call as the log stores it: with the ids of its deliveries, through which listings reach them. */
export type LoggedCall = CallRow & { delivery_ids: string[] };
export type ActionRow = Delivery;
export type AttemptRow = Attempt;

/** An attempt as the ledger hands it to the log: which delivery, its number, what happened. */
export interface LoggedAttempt {
  deliveryId: string;
  number: number;
  record: AttemptRecord;
}

export interface DeliveryFilter {
  status?: DeliveryStatus;
  type?: ActionType;
  agent_id?: string;
  call_id?: string;
  since?: string;
  until?: string;
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

/** A delivery's columns as the API shows it; its row also holds its attempts and the stats' bookkeeping. */
const DELIVERY_COLUMNS = Object.keys(Delivery.shape);
const deliveryColumns = (table: string) => DELIVERY_COLUMNS.map((column) => `${table}.${column}`).join(", ");

/** The fields an erasure strips from every logged attempt (the ledger strips the same: erasedAttempt). */
const ERASED_ATTEMPT_FIELDS = ["error", "response_body", "provider_id", "detail"] as const;

/**
 * A delivery's attempt_log with `added` (a JSON array of attempts) merged in: an attempt number
 * already there is replaced, the latest ATTEMPT_LOG_MAX are kept, ordered by number.
 */
const mergedAttemptLog = (stored: string, added: string) =>
  `(SELECT json_group_array(json(value)) FROM (
      SELECT value, n FROM (
        SELECT value, json_extract(value, '$.attempt') AS n FROM json_each(${stored})
          WHERE n NOT IN (SELECT json_extract(value, '$.attempt') FROM json_each(${added}))
        UNION ALL SELECT value, json_extract(value, '$.attempt') AS n FROM json_each(${added})
        ORDER BY n DESC LIMIT ${ATTEMPT_LOG_MAX})
      ORDER BY n))`;

/** Attempts as the log stores them: the API's fields, those without a value left out; the latest ATTEMPT_LOG_MAX. */
function storedAttempts(attempts: LoggedAttempt[]): string {
  const sorted = [...attempts].sort((a, b) => a.number - b.number).slice(-ATTEMPT_LOG_MAX);
  return JSON.stringify(
    sorted.map(({ number, record: r }) => ({
      attempt: number,
      started_at: r.started_at,
      duration_ms: r.duration_ms,
      outcome: r.outcome,
      status_code: r.status_code,
      error: r.error,
      response_body: r.response_body,
      provider: r.provider,
      provider_id: r.provider_id,
      detail: r.detail,
    })),
  );
}

/** A stored attempt_log as the API shows it: every field present, null where it has no value. */
export function attemptLog(stored: string): AttemptRow[] {
  const entries = JSON.parse(stored) as (Pick<AttemptRow, "attempt" | "started_at" | "duration_ms" | "outcome"> & Partial<AttemptRow>)[];
  return entries.map((a) => ({
    attempt: a.attempt,
    started_at: a.started_at,
    duration_ms: a.duration_ms,
    outcome: a.outcome,
    status_code: a.status_code ?? null,
    error: a.error ?? null,
    response_body: a.response_body ?? null,
    provider: a.provider ?? null,
    provider_id: a.provider_id ?? null,
    detail: a.detail ?? null,
  }));
}

/** The status deliveries_by_status leaves out, being that of nearly every delivery. */
const UNINDEXED_DELIVERY_STATUS = "delivered" satisfies DeliveryStatus;

/**
 * The term joining a call's row to its deliveries' rows: the ids its row lists (migrations/0017).
 * As an IN list, SQLite reads them in id order from the deliveries' primary key, so a list
 * ordered by the calls key and then the delivery's id needs no sort.
 */
const DELIVERIES_OF_CALL = "deliveries.id IN (SELECT value FROM json_each(calls.delivery_ids))";

/** A list's statement, and what its cursor holds of a row: the columns it is ordered by. */
interface ListQuery {
  sql: string;
  args: unknown[];
  cursorOf: (row: ActionRow) => string[];
}

/**
 * The D1 delivery log: one row per call, listing its deliveries' ids, and one per action of a
 * call, holding that action's attempts.
 */
export class DeliveryLog {
  constructor(private readonly db: D1Database) {}

  /**
   * Mirrors what the ledger has not yet confirmed, in one batch (one transaction): the call
   * row once (again when a re-run adds deliveries to its list), each changed action with its
   * new attempts, and an erasure of the attempts logged.
   * An action row (attempts included) is only replaced by a newer version, so batches that land
   * out of order cannot roll the log back or bring back what an erasure stripped. A settle is
   * counted into the hourly stats in the same batch, once (src/store/stats.ts).
   */
  async write(entry: { call?: LoggedCall; actions: ActionRow[]; attempts: LoggedAttempt[]; erase?: string[] }): Promise<void> {
    const statements: D1PreparedStatement[] = [];
    if (entry.call) statements.push(this.callStatement(entry.call));
    const attemptsOf = new Map<string, LoggedAttempt[]>();
    for (const a of entry.attempts) attemptsOf.set(a.deliveryId, [...(attemptsOf.get(a.deliveryId) ?? []), a]);
    // Before the upserts: the counting compares with the rows as stored until then.
    statements.push(...deliverySettlesStatements(this.db, entry.actions));
    for (const action of entry.actions) {
      statements.push(this.actionStatement(action, attemptsOf.get(action.id) ?? []));
      attemptsOf.delete(action.id);
    }
    // Attempts of an action whose row the log has at this version already (a ledger carried over
    // from an earlier release can hold such): merged into the row as it is.
    for (const [id, attempts] of attemptsOf) {
      statements.push(
        this.db.prepare(`UPDATE deliveries SET attempt_log = ${mergedAttemptLog("deliveries.attempt_log", "?1")} WHERE id = ?2`).bind(storedAttempts(attempts), id),
      );
    }
    // An erasure: the deliveries' attempts keep only their outcome, status and timing.
    const erased = ERASED_ATTEMPT_FIELDS.map((field) => `'$.${field}'`).join(", ");
    for (const id of entry.erase ?? []) {
      statements.push(
        this.db
          .prepare(`UPDATE deliveries SET attempt_log = (SELECT json_group_array(json_remove(value, ${erased})) FROM json_each(attempt_log)) WHERE id = ?`)
          .bind(id),
      );
    }
    if (statements.length > 0) await this.db.batch(statements);
  }

  private callStatement(call: LoggedCall): D1PreparedStatement {
    return this.db
      .prepare(
        `INSERT INTO calls (call_id, agent_id, status, reason, action_count, ended_at, received_at, delivery_ids)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (received_at, agent_id, call_id) DO UPDATE SET status = excluded.status, reason = excluded.reason,
           action_count = excluded.action_count, delivery_ids = excluded.delivery_ids`,
      )
      .bind(call.call_id, call.agent_id, call.status, call.reason, call.action_count, call.ended_at, call.received_at, JSON.stringify(call.delivery_ids));
  }

  private actionStatement(a: ActionRow, attempts: LoggedAttempt[]): D1PreparedStatement {
    return this.db
      .prepare(
        `INSERT INTO deliveries (id, call_id, agent_id, action_index, action_type, provider, target, status,
           attempts, last_status, last_error, next_attempt_at, created_at, updated_at, version, run, attempt_log, ${DELIVERY_COUNTED.columns})
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, provider = excluded.provider,
           last_status = excluded.last_status, last_error = excluded.last_error,
           next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at, version = excluded.version,
           attempt_log = ${mergedAttemptLog("deliveries.attempt_log", "excluded.attempt_log")},
           ${DELIVERY_COUNTED.onConflict}
         WHERE excluded.version > deliveries.version`,
      )
      .bind(
        a.id,
        a.call_id,
        a.agent_id,
        a.action_index,
        a.action_type,
        a.provider,
        a.target,
        a.status,
        a.attempts,
        a.last_status,
        a.last_error,
        a.next_attempt_at,
        a.created_at,
        a.updated_at,
        a.version,
        a.run,
        storedAttempts(attempts),
        ...DELIVERY_COUNTED.insertValues(a),
      );
  }

  /**
   * Deletes the log rows of calls whose retention has ended by their ledger's clock: received
   * before `cutoff` (ISO 8601), and every delivery settled and last changed before it. A call
   * replayed, re-run or settled late keeps its ledger RETENTION_DAYS past that change, and its
   * rows with it: a later write of the ledger (an erasure) would otherwise log them anew,
   * count their settles again, and leave rows no call row leads to.
   */
  async deleteOlderThan(cutoff: string): Promise<void> {
    await this.db.batch([
      // Old calls by the calls key, their deliveries by the ids their rows list (see list).
      this.db
        .prepare(
          `DELETE FROM deliveries WHERE id IN (
             SELECT deliveries.id FROM calls CROSS JOIN deliveries
             WHERE calls.received_at < ?1 AND ${DELIVERIES_OF_CALL}
               AND NOT EXISTS (
                 SELECT 1 FROM deliveries AS sibling
                 WHERE sibling.id IN (SELECT value FROM json_each(calls.delivery_ids))
                   AND (sibling.status IN ('pending', 'retrying') OR sibling.updated_at >= ?1)))`,
        )
        .bind(cutoff),
      this.db
        .prepare(
          `DELETE FROM calls WHERE received_at < ?1 AND NOT EXISTS (SELECT 1 FROM deliveries WHERE ${DELIVERIES_OF_CALL})`,
        )
        .bind(cutoff),
    ]);
  }

  /**
   * Deletes one call's rows: its deliveries, with their attempts, found through the call as a
   * list finds them and by the ids its ledger holds (a row its call row no longer lists goes
   * too), and its call row.
   */
  async deleteCall(call: Pick<CallRow, "agent_id" | "call_id" | "received_at">, deliveryIds: readonly string[] = []): Promise<void> {
    const key = [call.received_at, call.agent_id, call.call_id];
    await this.db.batch([
      this.db
        .prepare(
          `DELETE FROM deliveries WHERE id IN (
             SELECT listed.value FROM calls CROSS JOIN json_each(calls.delivery_ids) AS listed
             WHERE calls.received_at = ? AND calls.agent_id = ? AND calls.call_id = ?)
           OR id IN (SELECT value FROM json_each(?))`,
        )
        .bind(...key, JSON.stringify(deliveryIds)),
      this.db.prepare("DELETE FROM calls WHERE received_at = ? AND agent_id = ? AND call_id = ?").bind(...key),
    ]);
  }

  async get(id: string): Promise<ActionRow | null> {
    return this.db.prepare(`SELECT ${deliveryColumns("deliveries")} FROM deliveries WHERE id = ?`).bind(id).first<ActionRow>();
  }

  /** A delivery with its attempts, oldest first. */
  async withAttempts(id: string): Promise<(ActionRow & { attempt_log: AttemptRow[] }) | null> {
    const row = await this.db
      .prepare(`SELECT ${deliveryColumns("deliveries")}, attempt_log FROM deliveries WHERE id = ?`)
      .bind(id)
      .first<ActionRow & { attempt_log: string }>();
    return row ? { ...row, attempt_log: attemptLog(row.attempt_log) } : null;
  }

  /** The attempts of each of these deliveries, oldest first; none for a delivery the log lacks. */
  async attempts(ids: string[]): Promise<Map<string, AttemptRow[]>> {
    const found = new Map<string, AttemptRow[]>(ids.map((id) => [id, []]));
    // D1 binds at most 100 parameters per statement; a call re-run many times has more actions.
    const reads: D1PreparedStatement[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      const some = ids.slice(i, i + 100);
      reads.push(this.db.prepare(`SELECT id, attempt_log FROM deliveries WHERE id IN (${some.map(() => "?").join(", ")})`).bind(...some));
    }
    if (reads.length === 0) return found;
    for (const { results } of await this.db.batch<{ id: string; attempt_log: string }>(reads)) {
      for (const row of results) found.set(row.id, attemptLog(row.attempt_log));
    }
    return found;
  }

  /** Calls with this id, across agents (call ids are the platform's, unique per agent). */
  async callsById(callId: string): Promise<CallRow[]> {
    const { results } = await this.db
      .prepare(`SELECT ${CALL_COLUMNS} FROM calls WHERE call_id = ? ORDER BY received_at DESC`)
      .bind(callId)
      .all<CallRow>();
    return results;
  }

  /**
   * Deliveries of one target waiting out a retry's backoff (other than `exceptId`), soonest
   * due first. Reads the partial index `deliveries_retrying_by_target` only.
   */
  async retryingForTarget(
    target: string,
    exceptId: string,
    limit: number,
  ): Promise<Pick<ActionRow, "id" | "agent_id" | "call_id" | "action_index">[]> {
    const { results } = await this.db
      .prepare(
        `SELECT id, agent_id, call_id, action_index FROM deliveries
         WHERE target = ? AND status = 'retrying' AND id != ?
         ORDER BY next_attempt_at LIMIT ?`,
      )
      .bind(target, exceptId, limit)
      .all<Pick<ActionRow, "id" | "agent_id" | "call_id" | "action_index">>();
    return results;
  }

  /**
   * Newest first, keyset-paginated. Returns null for an unreadable cursor.
   *
   * Deliveries are indexed only by rare status and by target: a call's row lists its deliveries'
   * ids (migrations/0017), and a delivery's created_at is its call's received_at. So a list
   * narrowed by a call reads that call's row by its id, and one narrowed by a rare status reads
   * deliveries_by_status; any other reads the calls key newest first (an agent's calls through
   * calls_by_agent), and each call's deliveries by their primary key.
   */
  async list(f: DeliveryFilter): Promise<{ deliveries: ActionRow[]; next_cursor: string | null } | null> {
    const rareStatus = f.status !== undefined && f.status !== UNINDEXED_DELIVERY_STATUS;
    const query = f.call_id || rareStatus ? this.listQuery(f) : this.listThroughCalls(f);
    if (!query) return null;
    const { results } = await this.db
      .prepare(query.sql)
      .bind(...query.args, f.limit + 1)
      .all<ActionRow>();
    const { page, next_cursor } = keysetPage(results, f.limit, query.cursorOf);
    return { deliveries: page, next_cursor };
  }

  /** A list of one call's deliveries (through its row), or of a rare status's (through deliveries_by_status). */
  private listQuery(f: DeliveryFilter): ListQuery | null {
    const q = new Where();
    let from = "deliveries";
    if (f.call_id) {
      // CROSS JOIN keeps the call the outer loop, and INDEXED BY keeps it on the call's id (a
      // call or two) when an agent is given too, rather than on every call of the agent.
      from = "calls INDEXED BY calls_by_call_id CROSS JOIN deliveries";
      q.add("calls.call_id = ?", f.call_id);
      if (f.agent_id) q.add("calls.agent_id = ?", f.agent_id);
      q.add(DELIVERIES_OF_CALL);
    }
    if (f.call_id && f.status) {
      // A call's few deliveries are read by id; `+` keeps the planner off deliveries_by_status,
      // which would read every delivery of that status to find the call's.
      q.add("+deliveries.status = ?", f.status);
    } else if (f.status) {
      q.add("deliveries.status = ?", f.status);
      // deliveries_by_status leaves out 'delivered' (migrations/0011): SQLite uses a partial
      // index only when the query's WHERE says its rows are in it, which `status = ?` does not.
      if (f.status !== UNINDEXED_DELIVERY_STATUS) q.add(`deliveries.status != '${UNINDEXED_DELIVERY_STATUS}'`);
    }
    if (f.type) q.add("deliveries.action_type = ?", f.type);
    if (f.agent_id) q.add("deliveries.agent_id = ?", f.agent_id);
    if (f.since) q.add("deliveries.created_at >= ?", f.since);
    if (f.until) q.add("deliveries.created_at < ?", f.until);
    if (f.cursor) {
      const after = decodeCursor(f.cursor, 2);
      if (!after) return null;
      const [createdAt, id] = after;
      q.add("(deliveries.created_at < ? OR (deliveries.created_at = ? AND deliveries.id < ?))", createdAt, createdAt, id);
    }
    return {
      sql: `SELECT ${deliveryColumns("deliveries")} FROM ${from} ${q.clause()} ORDER BY deliveries.created_at DESC, deliveries.id DESC LIMIT ?`,
      args: q.args,
      cursorOf: (row) => [row.created_at, row.id],
    };
  }

  /** A list led by the calls key, newest first: unfiltered, by agent, delivered, by type, by time. */
  private listThroughCalls(f: DeliveryFilter): ListQuery | null {
    const q = new Where();
    // An agent's calls in calls_by_agent (agent_id, received_at), rather than every call's key.
    const from = f.agent_id ? "calls INDEXED BY calls_by_agent" : "calls";
    if (f.agent_id) q.add("calls.agent_id = ?", f.agent_id);
    q.add(DELIVERIES_OF_CALL);
    if (f.status) q.add("deliveries.status = ?", f.status);
    if (f.type) q.add("deliveries.action_type = ?", f.type);
    if (f.since) q.add("calls.received_at >= ?", f.since);
    if (f.until) q.add("calls.received_at < ?", f.until);
    if (f.cursor) {
      const after = decodeCursor(f.cursor, 4);
      if (!after) return null;
      const [receivedAt, agentId, callId, id] = after;
      // The first term is a range of either index; the second takes the calls after the
      // cursor's, and the rest of the cursor's own call (delivery ids are hashes: their order
      // says nothing of their calls').
      q.add("calls.received_at <= ?", receivedAt);
      q.add(
        "((calls.received_at, calls.agent_id, calls.call_id) < (?, ?, ?) OR ((calls.received_at, calls.agent_id, calls.call_id) = (?, ?, ?) AND deliveries.id < ?))",
        receivedAt,
        agentId,
        callId,
        receivedAt,
        agentId,
        callId,
        id,
      );
    }
    return {
      sql: `SELECT ${deliveryColumns("deliveries")} FROM ${from} CROSS JOIN deliveries ${q.clause()}
            ORDER BY calls.received_at DESC, calls.agent_id DESC, calls.call_id DESC, deliveries.id DESC LIMIT ?`,
      args: q.args,
      cursorOf: (row) => [row.created_at, row.agent_id, row.call_id, row.id],
    };
  }
}
