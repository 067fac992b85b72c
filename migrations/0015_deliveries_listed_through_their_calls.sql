-- Deliveries have no time index of their own. A delivery's created_at is its call's received_at
-- and its call's row outlives it (0012), and the calls table is keyed by received_at first
-- (0014): a list of deliveries not narrowed by a call, an agent or a rare status reads the
-- calls key newest first and each call's deliveries in deliveries_by_agent, and the retention
-- sweep finds old deliveries the same way (src/store/delivery-log.ts). D1 bills every index a
-- write touches as one more row written: this saves one row per delivery logged.
DROP INDEX IF EXISTS deliveries_by_created;
