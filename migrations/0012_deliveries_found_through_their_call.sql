-- A call's deliveries are found through the call, not through an index of their own. Every
-- delivery row carries its call's agent and, as created_at, its call's received_at (the ledger
-- logs it so, and the call row is written in the same batch as the call's first deliveries and
-- outlives them under retention), so calls_by_call_id (or the calls key) gives the call and
-- deliveries_by_agent (agent_id, created_at) gives its deliveries. D1 bills every index a write
-- touches as one more row written: this saves one row per delivery logged.
DROP INDEX IF EXISTS deliveries_by_call;
