-- The log's tables keep their rows in their primary key's own b-tree (WITHOUT ROWID). A rowid
-- table with a text or composite primary key also keeps a separate index of that key, and D1
-- bills every index a write touches as one more row written: this saves one row per call, per
-- delivery and per attempt logged. Columns, keys and other indexes are unchanged.

CREATE TABLE calls_new (
  call_id       TEXT NOT NULL,
  agent_id      TEXT NOT NULL,
  status        TEXT NOT NULL,
  reason        TEXT,
  action_count  INTEGER NOT NULL,
  ended_at      TEXT,
  received_at   TEXT NOT NULL,
  PRIMARY KEY (agent_id, call_id)
) WITHOUT ROWID;
INSERT INTO calls_new (call_id, agent_id, status, reason, action_count, ended_at, received_at)
  SELECT call_id, agent_id, status, reason, action_count, ended_at, received_at FROM calls;
DROP TABLE calls;
ALTER TABLE calls_new RENAME TO calls;
CREATE INDEX calls_by_call_id ON calls (call_id);
CREATE INDEX calls_by_received ON calls (received_at);
CREATE INDEX calls_by_agent ON calls (agent_id, received_at);
CREATE INDEX calls_by_status ON calls (status, received_at);

CREATE TABLE deliveries_new (
  id              TEXT PRIMARY KEY,
  call_id         TEXT NOT NULL,
  agent_id        TEXT NOT NULL,
  action_index    INTEGER NOT NULL,
  action_type     TEXT NOT NULL,
  provider        TEXT,
  target          TEXT,
  status          TEXT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  last_status     INTEGER,
  last_error      TEXT,
  next_attempt_at TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  version         INTEGER NOT NULL DEFAULT 0,
  run             INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO deliveries_new (id, call_id, agent_id, action_index, action_type, provider, target, status, attempts,
    last_status, last_error, next_attempt_at, created_at, updated_at, version, run)
  SELECT id, call_id, agent_id, action_index, action_type, provider, target, status, attempts,
    last_status, last_error, next_attempt_at, created_at, updated_at, version, run FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_by_call ON deliveries (call_id);
CREATE INDEX deliveries_by_created ON deliveries (created_at);
CREATE INDEX deliveries_by_status ON deliveries (status, created_at);
CREATE INDEX deliveries_by_agent ON deliveries (agent_id, created_at);
CREATE INDEX deliveries_retrying_by_target ON deliveries (target) WHERE status = 'retrying';

CREATE TABLE attempts_new (
  delivery_id   TEXT NOT NULL,
  attempt       INTEGER NOT NULL,
  started_at    TEXT NOT NULL,
  duration_ms   INTEGER NOT NULL,
  outcome       TEXT NOT NULL,
  status_code   INTEGER,
  error         TEXT,
  response_body TEXT,
  provider      TEXT,
  provider_id   TEXT,
  detail        TEXT,
  PRIMARY KEY (delivery_id, attempt)
) WITHOUT ROWID;
INSERT INTO attempts_new SELECT delivery_id, attempt, started_at, duration_ms, outcome, status_code, error,
    response_body, provider, provider_id, detail FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_new RENAME TO attempts;
