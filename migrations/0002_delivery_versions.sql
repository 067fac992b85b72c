-- Every change to an action in its call's ledger bumps a version; the log keeps the newest,
-- so a copy written late can never overwrite a newer one.
ALTER TABLE deliveries ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
