import { generateSigningSecret, overlapEnd } from "../security/signing-secrets";
import type { Trigger, TriggerConfig } from "../schemas/trigger";

interface TriggerRow {
  id: string;
  agent_id: string;
  config: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
}

/** A trigger without its URL (which depends on the request's origin) and its secrets. */
export type StoredTrigger = Omit<Trigger, "url">;

/** A secret, shown once: when the trigger is created and when it is rotated. */
export interface IssuedTriggerSecret {
  secret: string;
  /** When the secret it replaced stops being accepted; null when there was none. */
  previous_secret_expires_at: string | null;
}

function fromRow(row: TriggerRow): StoredTrigger {
  const config = JSON.parse(row.config) as TriggerConfig;
  return { ...config, id: row.id, agent_id: row.agent_id, created_at: row.created_at, updated_at: row.updated_at };
}

const newTriggerId = () => `trg_${[...crypto.getRandomValues(new Uint8Array(8))].map((b) => b.toString(16).padStart(2, "0")).join("")}`;

/**
 * Triggers in D1. A trigger's secret is both a bearer token and a Standard Webhooks signing
 * secret (`whsec_…`), so it is kept as is; it leaves this module only when issued.
 */
export class TriggerStore {
  constructor(private readonly db: D1Database) {}

  async create(config: TriggerConfig, now: Date): Promise<{ trigger: StoredTrigger; secret: string }> {
    const id = newTriggerId();
    const secret = generateSigningSecret();
    const at = now.toISOString();
    await this.db
      .prepare("INSERT INTO triggers (id, agent_id, config, secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)")
      .bind(id, config.agent_id, JSON.stringify(config), secret, at, at)
      .run();
    return { trigger: { ...config, id, created_at: at, updated_at: at }, secret };
  }

  async get(id: string): Promise<StoredTrigger | null> {
    const row = await this.db.prepare("SELECT * FROM triggers WHERE id = ?").bind(id).first<TriggerRow>();
    return row ? fromRow(row) : null;
  }

  /** The trigger and the secrets it accepts now: the current one, and the previous one until it expires. */
  async withSecrets(id: string, now: Date): Promise<{ trigger: StoredTrigger; secrets: string[] } | null> {
    const row = await this.db.prepare("SELECT * FROM triggers WHERE id = ?").bind(id).first<TriggerRow>();
    if (!row) return null;
    const previousValid = row.previous_secret && row.previous_secret_expires_at && row.previous_secret_expires_at > now.toISOString();
    return { trigger: fromRow(row), secrets: previousValid ? [row.secret, row.previous_secret!] : [row.secret] };
  }

  async list(agentId?: string): Promise<StoredTrigger[]> {
    const query = agentId
      ? this.db.prepare("SELECT * FROM triggers WHERE agent_id = ? ORDER BY created_at DESC, id").bind(agentId)
      : this.db.prepare("SELECT * FROM triggers ORDER BY created_at DESC, id");
    const { results } = await query.all<TriggerRow>();
    return results.map(fromRow);
  }

  /** Replaces the config; null when there is no such trigger. */
  async update(id: string, config: TriggerConfig, now: Date): Promise<StoredTrigger | null> {
    const at = now.toISOString();
    const row = await this.db
      .prepare("UPDATE triggers SET agent_id = ?, config = ?, updated_at = ? WHERE id = ? RETURNING *")
      .bind(config.agent_id, JSON.stringify(config), at, id)
      .first<TriggerRow>();
    return row ? fromRow(row) : null;
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.prepare("DELETE FROM triggers WHERE id = ?").bind(id).run();
    return result.meta.changes > 0;
  }

  /**
   * Issues a new secret. The current one stays accepted for a day, so the tools already
   * using it keep working while the new one is pasted in; a secret replaced earlier than
   * that stops at once. Null when there is no such trigger.
   */
  async rotate(id: string, now: Date): Promise<IssuedTriggerSecret | null> {
    const secret = generateSigningSecret();
    const expires = overlapEnd(now);
    const row = await this.db
      .prepare(
        `UPDATE triggers SET previous_secret = secret, previous_secret_expires_at = ?, secret = ?, updated_at = ?
         WHERE id = ? RETURNING id`,
      )
      .bind(expires, secret, now.toISOString(), id)
      .first<{ id: string }>();
    return row ? { secret, previous_secret_expires_at: expires } : null;
  }
}
