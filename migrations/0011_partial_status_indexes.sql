-- The status indexes hold only the statuses worth looking up by status. D1 bills every index a
-- write touches as one more row written, and almost every row has the common status: a call is
-- logged 'accepted', and a delivery is usually first logged already 'delivered' (the ledger
-- logs a call together with its first results). Leaving those out saves one row per accepted
-- call and per delivery written as delivered; a delivery still enters the index while pending
-- or retrying and leaves it when it is delivered.
--
-- A query uses a partial index only when its WHERE implies the index's, which a bound
-- `status = ?` does not: the list queries (src/store/calls.ts, src/store/delivery-log.ts) add
-- the literal term (`status != 'delivered'`) when filtering on a rare status. Filtering on the
-- common status reads the time index (calls_by_received, deliveries_by_created) newest first,
-- where nearly every row matches.
DROP INDEX calls_by_status;
CREATE INDEX calls_by_status ON calls (status, received_at) WHERE status != 'accepted';

DROP INDEX deliveries_by_status;
CREATE INDEX deliveries_by_status ON deliveries (status, created_at) WHERE status != 'delivered';
