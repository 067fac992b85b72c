-- Agents: the source of truth for follow-up configuration (KV only caches it).
CREATE TABLE agents (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  config      TEXT NOT NULL,            -- JSON: { voice_tools: ... }
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);

-- One row per accepted call-ended event; the Durable Object ledger holds the event itself.
CREATE TABLE calls (
  call_id       TEXT NOT NULL,
  agent_id      TEXT NOT NULL,
  status        TEXT NOT NULL,          -- accepted | no_actions
  reason        TEXT,                   -- why no actions ran, when none did
  action_count  INTEGER NOT NULL,
  ended_at      TEXT,
  received_at   TEXT NOT NULL,
  PRIMARY KEY (agent_id, call_id)
);
CREATE INDEX calls_by_call_id ON calls (call_id);
CREATE INDEX calls_by_received ON calls (received_at);

-- One row per action of a call: its current state and the last attempt's result.
CREATE TABLE deliveries (
  id              TEXT PRIMARY KEY,
  call_id         TEXT NOT NULL,
  agent_id        TEXT NOT NULL,
  action_index    INTEGER NOT NULL,
  action_type     TEXT NOT NULL,
  provider        TEXT,
  target          TEXT,                 -- webhook URL or provider name; never a secret
  status          TEXT NOT NULL,        -- pending | retrying | delivered | failed | gone | skipped
  attempts        INTEGER NOT NULL DEFAULT 0,
  last_status     INTEGER,
  last_error      TEXT,
  next_attempt_at TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);
CREATE INDEX deliveries_by_call ON deliveries (call_id);
CREATE INDEX deliveries_by_created ON deliveries (created_at);
CREATE INDEX deliveries_by_status ON deliveries (status, created_at);
CREATE INDEX deliveries_by_agent ON deliveries (agent_id, created_at);

-- Every attempt, kept for the delivery log and replay decisions.
CREATE TABLE attempts (
  delivery_id   TEXT NOT NULL,
  attempt       INTEGER NOT NULL,
  started_at    TEXT NOT NULL,
  duration_ms   INTEGER NOT NULL,
  outcome       TEXT NOT NULL,          -- delivered | retry | failed | gone | skipped
  status_code   INTEGER,
  error         TEXT,
  response_body TEXT,                   -- first 1 KiB, for debugging
  provider      TEXT,                   -- which provider handled this attempt
  provider_id   TEXT,                   -- the provider's message/task id, when it gives one
  detail        TEXT,                   -- e.g. an SMS's segment count
  PRIMARY KEY (delivery_id, attempt)
);

-- Development sink: what email/SMS/task providers would have been sent.
CREATE TABLE outbox (
  id            TEXT PRIMARY KEY,
  delivery_id   TEXT NOT NULL,
  call_id       TEXT NOT NULL,
  agent_id      TEXT NOT NULL,
  kind          TEXT NOT NULL,          -- email | sms | task
  recipient     TEXT,
  subject       TEXT,
  body          TEXT NOT NULL,          -- JSON of the rendered message
  created_at    TEXT NOT NULL
);
CREATE INDEX outbox_by_delivery ON outbox (delivery_id);
CREATE INDEX outbox_by_created ON outbox (created_at);
