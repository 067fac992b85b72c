import type { Call } from "../schemas/delivery";

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

/** The status calls_by_status leaves out, being that of nearly every call. */
const UNINDEXED_CALL_STATUS = "accepted" satisfies Call["status"];

const encodeCursor = (call: Call) => btoa(JSON.stringify([call.received_at, call.agent_id, call.call_id]));

function decodeCursor(cursor: string): [string, string, string] | null {
  try {
    const value = JSON.parse(atob(cursor)) as unknown;
    if (Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === "string")) return value as [string, string, string];
  } catch {
    // an unreadable cursor is the caller's mistake, reported by the route
  }
  return null;
}

/** The calls table of the D1 log: one row per call, whatever became of it, keyed in arrival order. */
export class CallLog {
  constructor(private readonly db: D1Database) {}

  /** Newest first, keyset-paginated on (received_at, agent_id, call_id). Null for an unreadable cursor. */
  async list(f: CallFilter): Promise<{ calls: Call[]; next_cursor: string | null } | null> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      where.push(clause);
      args.push(value);
    };
    if (f.agent_id) add("agent_id = ?", f.agent_id);
    if (f.status) {
      add("status = ?", f.status);
      // calls_by_status leaves out 'accepted' (migrations/0011): SQLite uses a partial index
      // only when the query's WHERE says its rows are in it, which `status = ?` does not. An
      // 'accepted' filter reads the table itself newest first (its key starts with received_at),
      // where nearly every row matches.
      if (f.status !== UNINDEXED_CALL_STATUS) where.push(`status != '${UNINDEXED_CALL_STATUS}'`);
    }
    if (f.since) add("received_at >= ?", f.since);
    if (f.until) add("received_at < ?", f.until);
    if (f.cursor) {
      const after = decodeCursor(f.cursor);
      if (!after) return null;
      where.push("(received_at, agent_id, call_id) < (?, ?, ?)");
      args.push(...after);
    }
    const { results } = await this.db
      .prepare(
        `SELECT call_id, agent_id, status, reason, action_count, ended_at, received_at FROM calls
         ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY received_at DESC, agent_id DESC, call_id DESC LIMIT ?`,
      )
      .bind(...args, f.limit + 1)
      .all<Call>();
    const page = results.slice(0, f.limit);
    return { calls: page, next_cursor: results.length > f.limit ? encodeCursor(page[page.length - 1]!) : null };
  }
}
