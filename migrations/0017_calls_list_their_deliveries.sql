-- A call's row lists its deliveries' ids (`delivery_ids`, a JSON array), so a listing reaches a
-- call's deliveries through their primary key and deliveries_by_agent goes: D1 bills every index
-- a write touches as one more row written, and this saves one per delivery logged (three per
-- three-action call). The ledger writes the list with the call's row (again when a re-run adds
-- actions); here it is built from the deliveries each call already has, found as the release
-- before found them.
--
-- The column has no default: a call row written without it (by the release before, between
-- this migration and the deploy) is refused, with the deliveries of its batch, and the call's
-- ledger writes it again every 30 seconds until the new release does.
CREATE TABLE calls_new (
  call_id       TEXT NOT NULL,
  agent_id      TEXT NOT NULL,
  status        TEXT NOT NULL,
  reason        TEXT,
  action_count  INTEGER NOT NULL,
  ended_at      TEXT,
  received_at   TEXT NOT NULL,
  delivery_ids  TEXT NOT NULL,
  PRIMARY KEY (received_at, agent_id, call_id)
) WITHOUT ROWID;
INSERT INTO calls_new (call_id, agent_id, status, reason, action_count, ended_at, received_at, delivery_ids)
  SELECT c.call_id, c.agent_id, c.status, c.reason, c.action_count, c.ended_at, c.received_at,
    (SELECT json_group_array(d.id) FROM deliveries AS d
      WHERE d.agent_id = c.agent_id AND d.created_at = c.received_at AND d.call_id = c.call_id)
  FROM calls AS c;
DROP TABLE calls;
ALTER TABLE calls_new RENAME TO calls;
CREATE INDEX calls_by_call_id ON calls (call_id);
CREATE INDEX calls_by_agent ON calls (agent_id, received_at);
CREATE INDEX calls_by_status ON calls (status, received_at) WHERE status != 'accepted';
DROP INDEX deliveries_by_agent;
