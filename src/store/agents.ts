import { AppError } from "../errors";
import { IsolateMemo } from "../lib/isolate-memo";
import { Agent, AgentConfig, OutboundCallsSettings, PostCallFollowUp } from "../schemas/agent";
import type { PlatformName } from "../schemas/platform-event";
import { type IngestKeyRef, MAX_INGEST_KEYS } from "../security/ingest-keys";

interface AgentRow {
  id: string;
  name: string;
  config: string;
  created_at: string;
  updated_at: string;
  /** JSON array of IngestKeyRef (migration 0003). */
  ingest_keys?: string;
}

/**
 * The agent with its internal fields, as the ingest path reads it (and KV caches it). Never
 * answered by the API: routes get the public `Agent` from `get`, `list` and `put`.
 */
export interface StoredAgent extends Agent {
  /** Hashes of the agent's own ingest keys; absent in entries cached before migration 0003. */
  ingest_keys?: IngestKeyRef[];
}

/** Cached "no such agent" marker, so unknown agents do not reach D1 on every event. */
const MISSING = { missing: true } as const;
const cacheKey = (id: string) => `agent:${id}`;
/** KV's shortest expiry and edge-cache time: a config is never served staler than this. */
const CACHE_TTL_SECONDS = 60;
/**
 * Each isolate also keeps what it read for a few seconds: a busy agent's events then cost no
 * KV read each (KV reads are billed per read). Another location may so see a save up to
 * 60 + 10 s late; the isolate that saved sees it at once.
 */
const memory = new IsolateMemo<StoredAgent | null>(10_000);

function fromRow(row: AgentRow): Agent {
  const config = JSON.parse(row.config) as AgentConfig;
  return {
    id: row.id,
    name: row.name,
    templates: config.templates ?? {},
    voice_tools: {
      post_call_follow_up: PostCallFollowUp.parse(config.voice_tools?.post_call_follow_up ?? {}),
      ...(config.voice_tools?.outbound_calls ? { outbound_calls: OutboundCallsSettings.parse(config.voice_tools.outbound_calls) } : {}),
    },
    ...(config.platform_ids ? { platform_ids: config.platform_ids } : {}),
    ...(config.outcome_field ? { outcome_field: config.outcome_field } : {}),
    ...(config.outcome_map ? { outcome_map: config.outcome_map } : {}),
    ...(config.default_country ? { default_country: config.default_country } : {}),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function storedFromRow(row: AgentRow): StoredAgent {
  return { ...fromRow(row), ingest_keys: JSON.parse(row.ingest_keys ?? "[]") as IngestKeyRef[] };
}

/** The API's view of an agent: its internal fields dropped. */
export function publicAgent(agent: StoredAgent): Agent {
  const { ingest_keys: _keys, ...rest } = agent;
  return rest;
}

/** The stored config as a user wrote it: what a merge patch applies to. */
export function toConfig(agent: Agent): AgentConfig {
  const { id: _id, created_at: _created, updated_at: _updated, ...config } = agent;
  return config;
}

export class AgentStore {
  constructor(
    private readonly db: D1Database,
    private readonly cache: KVNamespace,
  ) {}

  /** Reads from D1, the source of truth. */
  async get(id: string): Promise<Agent | null> {
    const stored = await this.read(id);
    return stored ? publicAgent(stored) : null;
  }

  /** Reads from D1 with the internal fields. */
  private async read(id: string): Promise<StoredAgent | null> {
    const row = await this.db.prepare("SELECT * FROM agents WHERE id = ?").bind(id).first<AgentRow>();
    return row ? storedFromRow(row) : null;
  }

  /**
   * Read-through cache for the ingest hot path; every write below invalidates it. Entries
   * live at most CACHE_TTL_SECONDS, which bounds how stale another location can be.
   */
  async getCached(id: string): Promise<StoredAgent | null> {
    const held = memory.get(id);
    if (held !== undefined) return held;
    const readSince = memory.mark();
    const hit = await this.cache.get<StoredAgent | typeof MISSING>(cacheKey(id), { type: "json", cacheTtl: CACHE_TTL_SECONDS });
    if (hit) {
      const agent = "missing" in hit ? null : hit;
      memory.set(id, agent, readSince);
      return agent;
    }
    const agent = await this.read(id);
    await this.fill(id, agent);
    memory.set(id, agent, readSince);
    return agent;
  }

  /** Every write ends here: this isolate and KV drop the cached config. */
  private async forget(id: string): Promise<void> {
    memory.forget(id);
    await this.cache.delete(cacheKey(id));
  }

  /**
   * Caches what D1 said, then asks D1 again: a save that landed between our read and our put
   * has already invalidated the cache, so our put would bring back the old config. If D1
   * changed meanwhile, the newer config is cached instead; the next event sees the save.
   */
  private async fill(id: string, read: StoredAgent | null): Promise<void> {
    const entry = (agent: StoredAgent | null) => JSON.stringify(agent ?? MISSING);
    await this.cache.put(cacheKey(id), entry(read), { expirationTtl: CACHE_TTL_SECONDS });
    const now = await this.read(id);
    if (entry(now) !== entry(read)) await this.cache.put(cacheKey(id), entry(now), { expirationTtl: CACHE_TTL_SECONDS });
  }

  /**
   * Creates or replaces the agent; returns it and whether it was created. Its platform ids
   * are indexed in the same transaction; one already used by another agent is a 409.
   */
  async put(id: string, config: AgentConfig, now: string): Promise<{ agent: Agent; created: boolean }> {
    const { name = id, ...rest } = config;
    const stored = JSON.stringify({ ...rest, templates: config.templates ?? {}, voice_tools: config.voice_tools ?? {} });
    const platformIds = Object.entries(config.platform_ids ?? {}).filter((e): e is [string, string] => typeof e[1] === "string");
    let results: D1Result<{ n: number } | AgentRow>[];
    try {
      // One batch is one transaction, so "did it exist" and the write cannot be split by another writer.
      results = await this.db.batch<{ n: number } | AgentRow>([
        this.db.prepare("SELECT COUNT(*) AS n FROM agents WHERE id = ?").bind(id),
        this.db
          .prepare(
            `INSERT INTO agents (id, name, config, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, config = excluded.config, updated_at = excluded.updated_at
             RETURNING *`,
          )
          .bind(id, name, stored, now),
        this.db.prepare("DELETE FROM agent_platform_ids WHERE agent_id = ?").bind(id),
        ...platformIds.map(([platform, platformId]) =>
          this.db.prepare("INSERT INTO agent_platform_ids (platform, platform_agent_id, agent_id) VALUES (?, ?, ?)").bind(platform, platformId, id),
        ),
      ]);
    } catch (err) {
      if (!/UNIQUE constraint/i.test(String(err))) throw err;
      throw await this.platformIdConflict(id, platformIds);
    }
    await this.forget(id);
    const created = (results[0]!.results[0] as { n: number }).n === 0;
    return { agent: fromRow(results[1]!.results[0] as AgentRow), created };
  }

  /** The agent a platform's own agent or assistant id belongs to, if any agent names it. */
  async idForPlatform(platform: PlatformName, platformAgentId: string): Promise<string | null> {
    const row = await this.db
      .prepare("SELECT agent_id FROM agent_platform_ids WHERE platform = ? AND platform_agent_id = ?")
      .bind(platform, platformAgentId)
      .first<{ agent_id: string }>();
    return row?.agent_id ?? null;
  }

  private async platformIdConflict(id: string, platformIds: [string, string][]): Promise<AppError> {
    for (const [platform, platformId] of platformIds) {
      const owner = await this.idForPlatform(platform as PlatformName, platformId);
      if (owner && owner !== id) {
        return new AppError("conflict", `platform_ids.${platform} "${platformId}" already belongs to agent "${owner}"`);
      }
    }
    return new AppError("conflict", "a platform id of this agent belongs to another agent");
  }

  async delete(id: string): Promise<boolean> {
    const [result] = await this.db.batch([
      this.db.prepare("DELETE FROM agents WHERE id = ?").bind(id),
      this.db.prepare("DELETE FROM agent_platform_ids WHERE agent_id = ?").bind(id),
    ]);
    await this.forget(id);
    return result!.meta.changes > 0;
  }

  /**
   * Adds an ingest key's reference to the agent, at most MAX_INGEST_KEYS of them. The key
   * lives on the agent's row so ingest reads it with the cached agent, at no extra query.
   */
  async addIngestKey(id: string, ref: IngestKeyRef): Promise<"added" | "not_found" | "full"> {
    const result = await this.db
      .prepare(
        `UPDATE agents SET ingest_keys = json_insert(ingest_keys, '$[#]', json(?2))
         WHERE id = ?1 AND json_array_length(ingest_keys) < ?3`,
      )
      .bind(id, JSON.stringify(ref), MAX_INGEST_KEYS)
      .run();
    if (result.meta.changes > 0) {
      await this.forget(id);
      return "added";
    }
    const exists = await this.db.prepare("SELECT 1 AS n FROM agents WHERE id = ?").bind(id).first();
    return exists ? "full" : "not_found";
  }

  /**
   * Revokes one ingest key by id, or every key of the agent when `keyId` is absent. False
   * when there is no such agent, or no such key.
   */
  async revokeIngestKeys(id: string, keyId?: string): Promise<boolean> {
    const statement =
      keyId === undefined
        ? this.db.prepare("UPDATE agents SET ingest_keys = '[]' WHERE id = ?1").bind(id)
        : this.db
            .prepare(
              `UPDATE agents SET ingest_keys = (
                 SELECT json_group_array(json(value)) FROM json_each(agents.ingest_keys) WHERE json_extract(value, '$.id') <> ?2)
               WHERE id = ?1 AND EXISTS (SELECT 1 FROM json_each(agents.ingest_keys) WHERE json_extract(value, '$.id') = ?2)`,
            )
            .bind(id, keyId);
    const result = await statement.run();
    await this.forget(id);
    return result.meta.changes > 0;
  }

  /** Keyset pagination by id: stable under concurrent writes, unlike OFFSET. */
  async list(limit: number, after?: string): Promise<{ agents: Agent[]; next_cursor: string | null }> {
    const { results } = await this.db
      .prepare("SELECT * FROM agents WHERE id > ?1 ORDER BY id LIMIT ?2")
      .bind(after ?? "", limit + 1)
      .all<AgentRow>();
    const page = results.slice(0, limit).map(fromRow);
    return { agents: page, next_cursor: results.length > limit ? page[page.length - 1]!.id : null };
  }
}

export { Agent, AgentConfig };
