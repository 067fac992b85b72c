// Which of `shards` objects holds a call, for the bench's sharded shapes (the warm floor and the
// sharded relay), so both spread their calls the same way.

/** FNV-1a over the call's key (agent and call id), modulo the number of shards. */
export function shardOf(key: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % shards;
}
