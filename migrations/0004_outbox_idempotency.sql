-- The outbox deduplicates like a provider with idempotency keys: one row per delivery and key,
-- so a re-sent attempt records nothing new, while a replay (a new key) records again.
-- Rows from before this migration keep a NULL key; SQLite's unique index lets NULLs repeat,
-- so earlier duplicates do not stop the index from being built.
ALTER TABLE outbox ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX outbox_by_delivery_key ON outbox (delivery_id, idempotency_key);
