-- A call's settles are counted into one rollup row instead of one per action type, provider
-- and status: a three-action call that settles at once writes one stats row, not three.
--
-- One row per UTC hour and agent. `counts` is a JSON object keyed `type:provider:status`
-- (provider '' when none was chosen), each value the array
-- [settled, attempts, le_1s, le_2s, le_5s, le_10s, le_30s, le_1m, le_5m, le_30m, le_2h, le_12h, le_1d, gt_1d]
-- in the order of DELIVERY_COUNTERS in src/store/stats.ts. stats_hourly keeps the outbound
-- calls' rollups; GET /stats still reads any delivery row found there (one written by the
-- release before between this migration and the deploy).
CREATE TABLE delivery_stats_hourly (
  hour      TEXT NOT NULL,   -- UTC, YYYY-MM-DDTHH: when the deliveries settled
  agent_id  TEXT NOT NULL,
  counts    TEXT NOT NULL,
  PRIMARY KEY (hour, agent_id)
) WITHOUT ROWID;

INSERT INTO delivery_stats_hourly (hour, agent_id, counts)
  SELECT hour, agent_id, json_group_object(action_type || ':' || provider || ':' || outcome,
    json_array(settled, attempts, le_1s, le_2s, le_5s, le_10s, le_30s, le_1m, le_5m, le_30m, le_2h, le_12h, le_1d, gt_1d))
  FROM stats_hourly WHERE kind = 'delivery'
  GROUP BY hour, agent_id;

DELETE FROM stats_hourly WHERE kind = 'delivery';
