-- GET /stats reads hourly rollups, kept up to date in the same D1 batch (one transaction) as
-- the delivery log and the outbound-call index, so a 30-day answer reads a few hundred rows
-- instead of the whole log.
--
-- One row per UTC hour and combination of dimensions. A dimension that does not apply to the
-- row's kind is '' (deliveries have no trigger or platform, outbound calls no action type or
-- provider): primary-key columns of a WITHOUT ROWID table cannot be NULL, and '' keeps the
-- upsert's conflict target exact. GET /stats answers '' as null.
CREATE TABLE stats_hourly (
  hour          TEXT NOT NULL,              -- UTC, YYYY-MM-DDTHH: when the delivery settled / the call became final
  kind          TEXT NOT NULL,              -- delivery | outbound
  agent_id      TEXT NOT NULL,
  action_type   TEXT NOT NULL,              -- deliveries: sms | email | webhook | task
  provider      TEXT NOT NULL,              -- deliveries: the provider that handled it ('' if none was chosen)
  trigger_id    TEXT NOT NULL,              -- outbound: the trigger that requested the call ('' if none)
  platform      TEXT NOT NULL,              -- outbound: vapi | retell | bland | elevenlabs | http | simulator
  outcome       TEXT NOT NULL,              -- deliveries: the settled status; outbound: the call's outcome
  settled       INTEGER NOT NULL DEFAULT 0, -- settles counted (deliveries) / calls final (outbound)
  attempts      INTEGER NOT NULL DEFAULT 0, -- attempts those settles took / calls placed
  connected     INTEGER NOT NULL DEFAULT 0, -- outbound: final calls whose outcome is a connected one
  redials       INTEGER NOT NULL DEFAULT 0, -- outbound: attempts beyond each call's first
  -- Accepted → delivered latency of delivered deliveries (first settle only): a count per
  -- bucket, each holding latencies up to its bound (gt_1d: more than a day).
  le_1s         INTEGER NOT NULL DEFAULT 0,
  le_2s         INTEGER NOT NULL DEFAULT 0,
  le_5s         INTEGER NOT NULL DEFAULT 0,
  le_10s        INTEGER NOT NULL DEFAULT 0,
  le_30s        INTEGER NOT NULL DEFAULT 0,
  le_1m         INTEGER NOT NULL DEFAULT 0,
  le_5m         INTEGER NOT NULL DEFAULT 0,
  le_30m        INTEGER NOT NULL DEFAULT 0,
  le_2h         INTEGER NOT NULL DEFAULT 0,
  le_12h        INTEGER NOT NULL DEFAULT 0,
  le_1d         INTEGER NOT NULL DEFAULT 0,
  gt_1d         INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (hour, kind, agent_id, action_type, provider, trigger_id, platform, outcome)
) WITHOUT ROWID;

-- What each delivery's last counted settle was. A write of a delivery row counts a settle when
-- the row is newer than the stored one, settled, and differs from what was counted (another
-- status, or more attempts: a replay that settled again); a repeated or older copy of the row,
-- or a change to a settled row that is not a new settle (erasure clears its error), counts
-- nothing. counted_attempts is also how many of its attempts are already summed.
ALTER TABLE deliveries ADD COLUMN counted_status TEXT;
ALTER TABLE deliveries ADD COLUMN counted_attempts INTEGER NOT NULL DEFAULT 0;

-- 1 once the call's final view was counted (a final call never changes status again).
ALTER TABLE outbound_calls ADD COLUMN final_counted INTEGER NOT NULL DEFAULT 0;

-- Backfill: what the log already holds is counted once, here. The bucket bounds are those of
-- LATENCY_BUCKETS in src/store/stats.ts.
INSERT INTO stats_hourly (hour, kind, agent_id, action_type, provider, trigger_id, platform, outcome, settled, attempts,
    le_1s, le_2s, le_5s, le_10s, le_30s, le_1m, le_5m, le_30m, le_2h, le_12h, le_1d, gt_1d)
  SELECT hour, 'delivery', agent_id, action_type, provider, '', '', status, COUNT(*), SUM(attempts),
    SUM(b = 0), SUM(b = 1), SUM(b = 2), SUM(b = 3), SUM(b = 4), SUM(b = 5),
    SUM(b = 6), SUM(b = 7), SUM(b = 8), SUM(b = 9), SUM(b = 10), SUM(b = 11)
  FROM (
    SELECT hour, agent_id, action_type, provider, status, attempts,
      CASE WHEN status != 'delivered' THEN -1 WHEN ms <= 1000 THEN 0 WHEN ms <= 2000 THEN 1 WHEN ms <= 5000 THEN 2
        WHEN ms <= 10000 THEN 3 WHEN ms <= 30000 THEN 4 WHEN ms <= 60000 THEN 5 WHEN ms <= 300000 THEN 6
        WHEN ms <= 1800000 THEN 7 WHEN ms <= 7200000 THEN 8 WHEN ms <= 43200000 THEN 9 WHEN ms <= 86400000 THEN 10
        ELSE 11 END AS b
    FROM (
      SELECT substr(updated_at, 1, 13) AS hour, agent_id, action_type, COALESCE(provider, '') AS provider, status, attempts,
        ROUND((julianday(updated_at) - julianday(created_at)) * 86400000.0) AS ms
      FROM deliveries
      WHERE status IN ('delivered', 'failed', 'gone', 'skipped', 'unknown') AND counted_status IS NULL
    )
  ) WHERE true
  GROUP BY hour, agent_id, action_type, provider, status
  ON CONFLICT (hour, kind, agent_id, action_type, provider, trigger_id, platform, outcome) DO UPDATE SET
    settled = stats_hourly.settled + excluded.settled, attempts = stats_hourly.attempts + excluded.attempts,
    le_1s = stats_hourly.le_1s + excluded.le_1s, le_2s = stats_hourly.le_2s + excluded.le_2s,
    le_5s = stats_hourly.le_5s + excluded.le_5s, le_10s = stats_hourly.le_10s + excluded.le_10s,
    le_30s = stats_hourly.le_30s + excluded.le_30s, le_1m = stats_hourly.le_1m + excluded.le_1m,
    le_5m = stats_hourly.le_5m + excluded.le_5m, le_30m = stats_hourly.le_30m + excluded.le_30m,
    le_2h = stats_hourly.le_2h + excluded.le_2h, le_12h = stats_hourly.le_12h + excluded.le_12h,
    le_1d = stats_hourly.le_1d + excluded.le_1d, gt_1d = stats_hourly.gt_1d + excluded.gt_1d;

UPDATE deliveries SET counted_status = status, counted_attempts = attempts
  WHERE status IN ('delivered', 'failed', 'gone', 'skipped', 'unknown') AND counted_status IS NULL;

INSERT INTO stats_hourly (hour, kind, agent_id, action_type, provider, trigger_id, platform, outcome, settled, attempts, connected, redials)
  SELECT hour, 'outbound', agent_id, '', '', trigger_id, platform, outcome, COUNT(*), SUM(placed),
    SUM(outcome NOT IN ('no_answer', 'busy', 'failed', 'voicemail', 'unknown')), SUM(MAX(placed - 1, 0))
  FROM (
    SELECT substr(COALESCE(json_extract(view, '$.ended_at'), json_extract(view, '$.updated_at')), 1, 13) AS hour, agent_id,
      COALESCE(trigger_id, '') AS trigger_id, json_extract(view, '$.platform') AS platform,
      COALESCE(json_extract(view, '$.outcome'), 'unknown') AS outcome, json_array_length(view, '$.attempts') AS placed
    FROM outbound_calls
    WHERE status IN ('completed', 'failed') AND final_counted = 0
  ) WHERE true
  GROUP BY hour, agent_id, trigger_id, platform, outcome
  ON CONFLICT (hour, kind, agent_id, action_type, provider, trigger_id, platform, outcome) DO UPDATE SET
    settled = stats_hourly.settled + excluded.settled, attempts = stats_hourly.attempts + excluded.attempts,
    connected = stats_hourly.connected + excluded.connected, redials = stats_hourly.redials + excluded.redials;

UPDATE outbound_calls SET final_counted = 1 WHERE status IN ('completed', 'failed') AND final_counted = 0;
