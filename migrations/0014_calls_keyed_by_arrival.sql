-- The calls table is keyed by (received_at, agent_id, call_id), the order every listing and
-- retention read it in, so calls_by_received goes: D1 bills every index a write touches as one
-- more row written, and this saves one per call logged. A call's received_at never changes (its
-- ledger fixes it at acceptance), so the key still names one call. A call posted again after its
-- ledger was deleted, before the log's retention removed the old row, is a new call: it gets a
-- row of its own, with the received_at its deliveries carry.
CREATE TABLE calls_new (
  call_id       TEXT NOT NULL,
  agent_id      TEXT NOT NULL,
  status        TEXT NOT NULL,
  reason        TEXT,
  action_count  INTEGER NOT NULL,
  ended_at      TEXT,
  received_at   TEXT NOT NULL,
  PRIMARY KEY (received_at, agent_id, call_id)
) WITHOUT ROWID;
INSERT INTO calls_new (call_id, agent_id, status, reason, action_count, ended_at, received_at)
  SELECT call_id, agent_id, status, reason, action_count, ended_at, received_at FROM calls;
DROP TABLE calls;
ALTER TABLE calls_new RENAME TO calls;
CREATE INDEX calls_by_call_id ON calls (call_id);
CREATE INDEX calls_by_agent ON calls (agent_id, received_at);
CREATE INDEX calls_by_status ON calls (status, received_at) WHERE status != 'accepted';
