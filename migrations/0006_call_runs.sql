-- A call's actions can run again (POST /calls/{id}/rerun, or a re-post once its agent is fixed):
-- each delivery records which run created it. 0 is the run at acceptance.
ALTER TABLE deliveries ADD COLUMN run INTEGER NOT NULL DEFAULT 0;
-- Calls are listed newest first, per agent and per status.
CREATE INDEX calls_by_agent ON calls (agent_id, received_at);
CREATE INDEX calls_by_status ON calls (status, received_at);
