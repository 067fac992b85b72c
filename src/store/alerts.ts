/** What one final failure did to its target's alert window. */
export interface AlertWindow {
  /** True when this failure opened a new window: send a notice now. */
  notify: boolean;
  /** Epoch ms the current window opened (the last notice). */
  windowStart: number;
  /** When notifying: failed / gone since the previous notice, this one included. */
  failed: number;
  gone: number;
  /** Epoch ms of the notice before this one, or null for the target's first. */
  previousStart: number | null;
}

/**
 * Alert throttling in D1 (`alert_windows`): one row per target, changed by a single upsert so
 * concurrent consumers cannot both open a window or lose a count (KV could do neither).
 */
export class AlertWindows {
  constructor(private readonly db: D1Database) {}

  /** Counts one final failure of `target` at `now`; a window older than `windowMs` is replaced by a new one. */
  async count(target: string, outcome: "failed" | "gone", now: number, windowMs: number): Promise<AlertWindow> {
    const f = outcome === "failed" ? 1 : 0;
    const g = outcome === "gone" ? 1 : 0;
    // Every SET expression reads the row as it was, so `expired` means the same in each.
    const expired = "alert_windows.window_start <= ?5";
    const row = await this.db
      .prepare(
        `INSERT INTO alert_windows (target, window_start, failed, gone, opened, report_failed, report_gone, previous_start)
         VALUES (?1, ?2, 0, 0, 1, ?3, ?4, NULL)
         ON CONFLICT (target) DO UPDATE SET
           opened         = CASE WHEN ${expired} THEN 1 ELSE 0 END,
           report_failed  = CASE WHEN ${expired} THEN alert_windows.failed + ?3 ELSE alert_windows.report_failed END,
           report_gone    = CASE WHEN ${expired} THEN alert_windows.gone + ?4 ELSE alert_windows.report_gone END,
           previous_start = CASE WHEN ${expired} THEN alert_windows.window_start ELSE alert_windows.previous_start END,
           failed         = CASE WHEN ${expired} THEN 0 ELSE alert_windows.failed + ?3 END,
           gone           = CASE WHEN ${expired} THEN 0 ELSE alert_windows.gone + ?4 END,
           window_start   = CASE WHEN ${expired} THEN ?2 ELSE alert_windows.window_start END
         RETURNING opened, window_start, report_failed, report_gone, previous_start`,
      )
      .bind(target, now, f, g, now - windowMs)
      .first<{ opened: number; window_start: number; report_failed: number; report_gone: number; previous_start: number | null }>();
    if (!row) throw new Error("alert window upsert returned nothing");
    return {
      notify: row.opened === 1,
      windowStart: row.window_start,
      failed: row.report_failed,
      gone: row.report_gone,
      previousStart: row.previous_start,
    };
  }
}
