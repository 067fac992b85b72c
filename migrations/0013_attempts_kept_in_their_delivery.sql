-- Each delivery keeps its attempts in its own row: attempt_log, a JSON array oldest first, one
-- object per attempt (attempt, started_at, duration_ms, outcome, status_code, error,
-- response_body, provider, provider_id, detail). The ledger logs an attempt in the same write as
-- the change to its delivery, so the attempt costs no row of its own: D1 bills one row written
-- per row, and the attempts table cost one per attempt (three per three-action call).
ALTER TABLE deliveries ADD COLUMN attempt_log TEXT NOT NULL DEFAULT '[]';

UPDATE deliveries SET attempt_log = (
  SELECT json_group_array(json(entry)) FROM (
    SELECT json_object('attempt', attempt, 'started_at', started_at, 'duration_ms', duration_ms, 'outcome', outcome,
        'status_code', status_code, 'error', error, 'response_body', response_body, 'provider', provider,
        'provider_id', provider_id, 'detail', detail) AS entry
    FROM attempts WHERE attempts.delivery_id = deliveries.id ORDER BY attempt
  )
)
WHERE id IN (SELECT delivery_id FROM attempts);

DROP TABLE attempts;
