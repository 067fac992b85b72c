import { Call } from "../schemas/delivery";
import { decodeCursor, keysetPage, Where } from "./keyset";

export interface CallFilter {
  agent_id?: string;
  status?: Call["status"];
  /** Received at or after (ISO 8601). */
  since?: string;
  /** Received before (ISO 8601). */
  until?: string;
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

/** A call's columns as the API shows it. */
export const CALL_COLUMNS = Object.keys(Call.shape).join(", ");

/** The status calls_by_status leaves out, being that of nearly every call. */
const UNINDEXED_CALL_STATUS = "accepted" satisfies Call["status"];

/** The calls table of the D1 log: one row per call, whatever became of it, keyed in arrival order. */
export class CallLog {
  constructor(private readonly db: D1Database) {}

  /** Newest first, keyset-paginated on (received_at, agent_id, call_id). Null for an unreadable cursor. */
  async list(f: CallFilter): Promise<{ calls: Call[]; next_cursor: string | null } | null> {
    const q = new Where();
    if (f.agent_id) q.add("agent_id = ?", f.agent_id);
    if (f.status) {
      q.add("status = ?", f.status);
      // calls_by_status leaves out 'accepted' (migrations/0011): SQLite uses a partial index
      // only when the query's WHERE says its rows are in it, which `status = ?` does not. An
      // 'accepted' filter reads the table itself newest first (its key starts with received_at),
      // where nearly every row matches.
      if (f.status !== UNINDEXED_CALL_STATUS) q.add(`status != '${UNINDEXED_CALL_STATUS}'`);
    }
    if (f.since) q.add("received_at >= ?", f.since);
    if (f.until) q.add("received_at < ?", f.until);
    if (f.cursor) {
      const after = decodeCursor(f.cursor, 3);
      if (!after) return null;
      q.add("(received_at, agent_id, call_id) < (?, ?, ?)", ...after);
    }
    const { results } = await this.db
      .prepare(`SELECT ${CALL_COLUMNS} FROM calls ${q.clause()} ORDER BY received_at DESC, agent_id DESC, call_id DESC LIMIT ?`)
      .bind(...q.args, f.limit + 1)
      .all<Call>();
    const { page, next_cursor } = keysetPage(results, f.limit, (c) => [c.received_at, c.agent_id, c.call_id]);
    return { calls: page, next_cursor };
  }
}
