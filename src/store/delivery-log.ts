import type { AttemptRecord } from "../schemas/delivery";
import type { ActionType } from "../schemas/agent";
import type { Attempt, Call, Delivery, DeliveryStatus } from "../schemas/delivery";
import { DELIVERY_COUNTED, deliverySettleStatement } from "./stats";

export type CallRow = Call;
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

/** The status deliveries_by_status leaves out, being that of nearly every delivery. */
const UNINDEXED_DELIVERY_STATUS = "delivered" satisfies DeliveryStatus;

const encodeCursor = (row: ActionRow) => btoa(JSON.stringify([row.created_at, row.id]));
function decodeCursor(cursor: string): [string, string] | null {
  try {
    const value = JSON.parse(atob(cursor)) as unknown;
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "string")) {
      return value as [string, string];
    }
  } catch {
    // fall through: an unreadable cursor is the caller's mistake, reported by the route
  }
  return null;
}

/** The D1 delivery log: one row per action of a call, one row per attempt. */
export class DeliveryLog {
  constructor(private readonly db: D1Database) {}

  /**
   * Mirrors what the ledger has not yet confirmed, in one batch (one transaction): the call
   * row once, each changed action, each new attempt, and an erasure of the attempts logged. An
   * action row is only replaced by a newer version, so batches that land out of order cannot
   * roll the log back. A settle is counted into the hourly stats in the same batch, once
   * (src/store/stats.ts).
   */
  async write(entry: { call?: CallRow; actions: ActionRow[]; attempts: LoggedAttempt[]; erase?: string[] }): Promise<void> {
    const statements: D1PreparedStatement[] = [];
    if (entry.call) statements.push(this.callStatement(entry.call));
    for (const action of entry.actions) {
      // Before the upsert: it compares with the row as stored until then.
      const settle = deliverySettleStatement(this.db, action);
      if (settle) statements.push(settle);
      statements.push(this.actionStatement(action));
    }
    for (const attempt of entry.attempts) statements.push(this.attemptStatement(attempt));
    // An erasure: the deliveries' attempts keep only their outcome, status and timing.
    for (const id of entry.erase ?? []) {
      statements.push(
        this.db.prepare("UPDATE attempts SET error = NULL, response_body = NULL, provider_id = NULL, detail = NULL WHERE delivery_id = ?").bind(id),
      );
    }
    if (statements.length > 0) await this.db.batch(statements);
  }

  private callStatement(call: CallRow): D1PreparedStatement {
    return this.db
      .prepare(
        `INSERT INTO calls (call_id, agent_id, status, reason, action_count, ended_at, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (agent_id, call_id) DO UPDATE SET status = excluded.status, reason = excluded.reason,
           action_count = excluded.action_count`,
      )
      .bind(call.call_id, call.agent_id, call.status, call.reason, call.action_count, call.ended_at, call.received_at);
  }

  private actionStatement(a: ActionRow): D1PreparedStatement {
    return this.db
      .prepare(
        `INSERT INTO deliveries (id, call_id, agent_id, action_index, action_type, provider, target, status,
           attempts, last_status, last_error, next_attempt_at, created_at, updated_at, version, run, ${DELIVERY_COUNTED.columns})
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, provider = excluded.provider,
           last_status = excluded.last_status, last_error = excluded.last_error,
           next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at, version = excluded.version,
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
        ...DELIVERY_COUNTED.insertValues(a),
      );
  }

  private attemptStatement({ deliveryId, number, record: r }: LoggedAttempt): D1PreparedStatement {
    return this.db
      .prepare(
        `INSERT OR REPLACE INTO attempts (delivery_id, attempt, started_at, duration_ms, outcome, status_code, error,
           response_body, provider, provider_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        deliveryId,
        number,
        r.started_at,
        r.duration_ms,
        r.outcome,
        r.status_code ?? null,
        r.error ?? null,
        r.response_body ?? null,
        r.provider ?? null,
        r.provider_id ?? null,
        r.detail ?? null,
      );
  }

  /**
   * Deletes log rows of calls received before `cutoff` (ISO 8601), attempts first so none is
   * left without its delivery. Active deliveries are kept whatever their age.
   */
  async deleteOlderThan(cutoff: string): Promise<void> {
    const old = "SELECT id FROM deliveries WHERE created_at < ?1 AND status NOT IN ('pending', 'retrying')";
    await this.db.batch([
      this.db.prepare(`DELETE FROM attempts WHERE delivery_id IN (${old})`).bind(cutoff),
      this.db.prepare(`DELETE FROM deliveries WHERE id IN (${old})`).bind(cutoff),
      this.db
        .prepare(
          `DELETE FROM calls WHERE received_at < ?1
             AND NOT EXISTS (SELECT 1 FROM deliveries d
               WHERE d.agent_id = calls.agent_id AND d.created_at = calls.received_at AND d.call_id = calls.call_id)`,
        )
        .bind(cutoff),
    ]);
  }

  async get(id: string): Promise<ActionRow | null> {
    return this.db.prepare("SELECT * FROM deliveries WHERE id = ?").bind(id).first<ActionRow>();
  }

  async attempts(deliveryId: string): Promise<AttemptRow[]> {
    const { results } = await this.db
      .prepare("SELECT * FROM attempts WHERE delivery_id = ? ORDER BY attempt")
      .bind(deliveryId)
      .all<AttemptRow>();
    return results;
  }

  /** Calls with this id, across agents (call ids are the platform's, unique per agent). */
  async callsById(callId: string): Promise<CallRow[]> {
    const { results } = await this.db
      .prepare("SELECT * FROM calls WHERE call_id = ? ORDER BY received_at DESC")
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

  /** Newest first, keyset-paginated on (created_at, id). Returns null for an unreadable cursor. */
  async list(f: DeliveryFilter): Promise<{ deliveries: ActionRow[]; next_cursor: string | null } | null> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      where.push(clause);
      args.push(value);
    };
    let from = "deliveries";
    if (f.call_id) {
      // A call's deliveries have no index of their own (migrations/0012): the call (one per
      // agent) gives their agent and created_at, which deliveries_by_agent finds. CROSS JOIN
      // keeps calls the outer loop.
      from = "calls CROSS JOIN deliveries";
      add("calls.call_id = ?", f.call_id);
      if (f.agent_id) add("calls.agent_id = ?", f.agent_id);
      where.push(
        "deliveries.agent_id = calls.agent_id AND deliveries.created_at = calls.received_at AND deliveries.call_id = calls.call_id",
      );
    }
    if (f.status) {
      add("deliveries.status = ?", f.status);
      // deliveries_by_status leaves out 'delivered' (migrations/0011): SQLite uses a partial
      // index only when the query's WHERE says its rows are in it, which `status = ?` does not.
      // A 'delivered' filter reads deliveries_by_created, where nearly every row matches.
      if (f.status !== UNINDEXED_DELIVERY_STATUS) where.push(`deliveries.status != '${UNINDEXED_DELIVERY_STATUS}'`);
    }
    if (f.type) add("deliveries.action_type = ?", f.type);
    if (f.agent_id) add("deliveries.agent_id = ?", f.agent_id);
    if (f.since) add("deliveries.created_at >= ?", f.since);
    if (f.until) add("deliveries.created_at < ?", f.until);
    if (f.cursor) {
      const after = decodeCursor(f.cursor);
      if (!after) return null;
      where.push("(deliveries.created_at < ? OR (deliveries.created_at = ? AND deliveries.id < ?))");
      args.push(after[0], after[0], after[1]);
    }
    const sql = `SELECT deliveries.* FROM ${from} ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
                 ORDER BY deliveries.created_at DESC, deliveries.id DESC LIMIT ?`;
    const { results } = await this.db
      .prepare(sql)
      .bind(...args, f.limit + 1)
      .all<ActionRow>();
    const page = results.slice(0, f.limit);
    return { deliveries: page, next_cursor: results.length > f.limit ? encodeCursor(page[page.length - 1]!) : null };
  }
}
