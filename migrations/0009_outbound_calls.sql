-- Outbound calls and the automation triggers that request them.
--
-- Each outbound call lives in its own Durable Object (the source of truth: schedule, attempts,
-- outcome). This table is its index for listing and filtering, written by the object after
-- each change it commits; `version` only ever grows, so a late write of an older view never
-- replaces a newer one.
CREATE TABLE outbound_calls (
  id            TEXT PRIMARY KEY,
  agent_id      TEXT NOT NULL,
  trigger_id    TEXT,
  status        TEXT NOT NULL,
  requested_at  TEXT NOT NULL,
  version       INTEGER NOT NULL,
  view          TEXT NOT NULL          -- the call as GET /outbound-calls/{id} shows it (JSON)
) WITHOUT ROWID;
CREATE INDEX outbound_calls_by_time ON outbound_calls (requested_at DESC, id DESC);

-- A platform's call id → our outbound call: how a call-ended webhook that lacks our id in its
-- metadata still finds the outbound call it ends.
CREATE TABLE outbound_platform_calls (
  platform_call_id  TEXT PRIMARY KEY,
  outbound_call_id  TEXT NOT NULL,
  created_at        TEXT NOT NULL
) WITHOUT ROWID;

-- The URLs Zapier, Make, n8n and Power Automate POST to. The secret authenticates them; a
-- rotated-out secret stays valid until previous_secret_expires_at.
CREATE TABLE triggers (
  id                         TEXT PRIMARY KEY,
  agent_id                   TEXT NOT NULL,
  config                     TEXT NOT NULL,   -- TriggerConfig (JSON)
  secret                     TEXT NOT NULL,
  previous_secret            TEXT,
  previous_secret_expires_at TEXT,
  created_at                 TEXT NOT NULL,
  updated_at                 TEXT NOT NULL
) WITHOUT ROWID;
