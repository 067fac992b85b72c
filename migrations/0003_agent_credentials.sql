-- Per-agent credentials.

-- Ingest keys scoped to one agent, as a JSON array of { id, sha256, created_at }: kept on the
-- agent's row so the ingest path reads them with the (cached) agent, never the keys themselves.
ALTER TABLE agents ADD COLUMN ingest_keys TEXT NOT NULL DEFAULT '[]';

-- An agent's own webhook signing secrets (whsec_...). They must stay usable for signing, so
-- they are stored as given; no API returns them after creation, and they are never cached in KV.
-- expires_at is NULL for the current secret and set when a newer one replaces it.
CREATE TABLE agent_webhook_secrets (
  id          INTEGER PRIMARY KEY,
  agent_id    TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  secret      TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  expires_at  TEXT
);
CREATE INDEX agent_webhook_secrets_by_agent ON agent_webhook_secrets (agent_id);
