import type { OutboundCall, OutboundStatus } from "../schemas/outbound";
import { decodeCursor, keysetPage, Where } from "./keyset";
import { outboundFinalCounted, outboundFinalStatement } from "./stats";

/** What GET /outbound-calls filters on. */
export interface OutboundFilter {
  status?: OutboundStatus;
  agent_id?: string;
  trigger_id?: string;
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

/**
 * The D1 index of outbound calls: for listing, and for finding the outbound call a platform's
 * call-ended webhook ends. Each call's Durable Object is its source of truth and writes here.
 */
export class OutboundCallIndex {
  constructor(private readonly db: D1Database) {}

  /**
   * Stores a call's view at `version`, and the platform call ids of its attempts. A write of an
   * older version than the stored one changes nothing, so late writes cannot go back in time.
   * The first final view stored is counted into the hourly stats in the same batch, once.
   */
  async save(view: OutboundCall, version: number): Promise<void> {
    // Before the upsert: it compares with the row as stored until then.
    const final = outboundFinalStatement(this.db, view, version);
    const statements = [
      ...(final ? [final] : []),
      this.db
        .prepare(
          `INSERT INTO outbound_calls (id, agent_id, trigger_id, status, requested_at, version, view, final_counted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET status = excluded.status, version = excluded.version, view = excluded.view,
             final_counted = MAX(outbound_calls.final_counted, excluded.final_counted)
           WHERE excluded.version > outbound_calls.version`,
        )
        .bind(view.id, view.agent_id, view.trigger_id, view.status, view.requested_at, version, JSON.stringify(view), outboundFinalCounted(view)),
      ...view.attempts
        .filter((a) => a.platform_call_id !== null)
        .map((a) =>
          this.db
            .prepare("INSERT OR IGNORE INTO outbound_platform_calls (platform_call_id, outbound_call_id, created_at) VALUES (?, ?, ?)")
            .bind(a.platform_call_id, view.id, a.placed_at),
        ),
    ];
    await this.db.batch(statements);
  }

  /** Records which outbound call a platform call belongs to, as soon as the platform names it. */
  async link(platformCallId: string, outboundCallId: string, at: string): Promise<void> {
    await this.db
      .prepare("INSERT OR IGNORE INTO outbound_platform_calls (platform_call_id, outbound_call_id, created_at) VALUES (?, ?, ?)")
      .bind(platformCallId, outboundCallId, at)
      .run();
  }

  /** The outbound call a platform's call belongs to, if the relay placed it. */
  async byPlatformCall(platformCallId: string): Promise<string | null> {
    const row = await this.db
      .prepare("SELECT outbound_call_id FROM outbound_platform_calls WHERE platform_call_id = ?")
      .bind(platformCallId)
      .first<{ outbound_call_id: string }>();
    return row?.outbound_call_id ?? null;
  }

  /** Newest first, filtered, one page; `next_cursor` continues it. Null for a cursor that is not ours. */
  async list(filter: OutboundFilter): Promise<{ calls: OutboundCall[]; next_cursor: string | null } | null> {
    const q = new Where();
    if (filter.status) q.add("status = ?", filter.status);
    if (filter.agent_id) q.add("agent_id = ?", filter.agent_id);
    if (filter.trigger_id) q.add("trigger_id = ?", filter.trigger_id);
    if (filter.cursor) {
      const after = decodeCursor(filter.cursor, 2);
      if (!after) return null;
      q.add("(requested_at, id) < (?, ?)", ...after);
    }
    const sql = `SELECT view FROM outbound_calls ${q.clause()} ORDER BY requested_at DESC, id DESC LIMIT ?`;
    const { results } = await this.db.prepare(sql).bind(...q.args, filter.limit + 1).all<{ view: string }>();
    const views = results.map((r) => JSON.parse(r.view) as OutboundCall);
    const { page, next_cursor } = keysetPage(views, filter.limit, (c) => [c.requested_at, c.id]);
    return { calls: page, next_cursor };
  }

  /**
   * Drops index rows of calls final since before `cutoff` (their objects delete themselves),
   * and platform ids linked before it: a webhook that late still finds its call by our id.
   */
  async deleteOlderThan(cutoff: string): Promise<void> {
    await this.db.batch([
      this.db
        .prepare("DELETE FROM outbound_calls WHERE status IN ('completed', 'failed', 'cancelled') AND json_extract(view, '$.updated_at') < ?")
        .bind(cutoff),
      this.db.prepare("DELETE FROM outbound_platform_calls WHERE created_at < ?").bind(cutoff),
    ]);
  }
}
