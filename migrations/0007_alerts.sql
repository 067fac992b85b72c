-- Bringing a recovered webhook target's waiting retries forward looks up the deliveries in
-- `retrying` for one target. A partial index holds only those rows: a delivery enters it
-- when it starts waiting and leaves it when it settles, so in a healthy deployment (almost
-- nothing retrying) it costs almost no row writes, unlike an index over every delivery
-- ever made, and a lookup for a healthy target reads nothing.
CREATE INDEX deliveries_retrying_by_target ON deliveries (target) WHERE status = 'retrying';

-- Alert throttling: at most one notice per target per window. A delivery that fails for good
-- (failed or gone) either opens a new window, and its notice carries everything that failed
-- since the previous notice, or is counted here for the next one. One row per target that
-- has ever failed for good; updated atomically, so concurrent consumers neither lose a count
-- nor both send.
CREATE TABLE alert_windows (
  target          TEXT PRIMARY KEY,
  window_start    INTEGER NOT NULL,     -- epoch ms of the last notice
  failed          INTEGER NOT NULL DEFAULT 0,  -- failed since the last notice, not yet reported
  gone            INTEGER NOT NULL DEFAULT 0,  -- gone since the last notice, not yet reported
  opened          INTEGER NOT NULL DEFAULT 0,  -- 1 when the last change opened a window (send a notice)
  report_failed   INTEGER NOT NULL DEFAULT 0,  -- what the notice of the current window reports
  report_gone     INTEGER NOT NULL DEFAULT 0,
  previous_start  INTEGER                      -- epoch ms of the notice before, if any
);
