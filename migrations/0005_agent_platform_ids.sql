-- An agent's ids on the voice platforms (its `platform_ids`), so a platform webhook naming
-- its own agent or assistant id finds the relay's agent in one lookup. One agent per id.
CREATE TABLE agent_platform_ids (
  platform           TEXT NOT NULL,       -- vapi | retell | bland | elevenlabs
  platform_agent_id  TEXT NOT NULL,
  agent_id           TEXT NOT NULL,
  PRIMARY KEY (platform, platform_agent_id)
);
CREATE INDEX agent_platform_ids_by_agent ON agent_platform_ids (agent_id);
