// The relay's wrangler.toml as each bench target runs it: pure text transforms. Those that
// change a part of wrangler.toml fail loudly when it no longer has that part.

/** The relay's config plus the shards' class, which the sharded relay's CALL_LEDGER calls. */
export function shardedConfig(toml) {
  return `${toml}
[[durable_objects.bindings]]
name = "CALL_SHARDS"
class_name = "ShardedCallLedger"

[[migrations]]
tag = "bench-shards"
new_sqlite_classes = ["ShardedCallLedger"]
`;
}

/**
 * The relay's config without its `actions` consumer: every call is accepted, stored, armed and
 * queued as usual, and nothing is delivered, so its rounds time ingest alone (an experiment;
 * its calls are never delivered, and so are not counted as accepted by the run).
 */
export function ingestOnlyConfig(toml) {
  const consumer = /^\[\[queues\.consumers\]\]\nqueue = "actions"\n(?:[^\n[]+\n)*/m;
  if (!consumer.test(toml)) throw new Error("could not find the actions consumer in wrangler.toml");
  return toml.replace(consumer, "");
}

/**
 * The relay's own config, with its per-agent ingest rate limit raised out of reach: the bench
 * posts every event for one agent, far above what one agent's calls would ever send. The
 * limiter is still called on every event, so its cost stays in the figures.
 */
export function benchConfig(toml) {
  const raised = toml.replace(/^(simple\s*=\s*\{\s*limit\s*=\s*)\d+/m, "$11000000000");
  if (raised === toml && /\[\[ratelimits\]\]/.test(toml)) throw new Error("could not raise the ingest rate limit in wrangler.toml");
  return raised;
}
