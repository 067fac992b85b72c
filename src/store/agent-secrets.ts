import { IsolateMemo } from "../lib/isolate-memo";
import {
  type SigningSecrets,
  type StoredSigningSecret,
  activeSecrets,
  chooseSigningSecrets,
  generateSigningSecret,
  overlapEnd,
} from "../security/signing-secrets";

/**
 * Each isolate keeps an agent's stored secrets for a few seconds, so a busy agent's webhooks
 * cost no D1 read each. A rotation or removal here applies at once; in other isolates within
 * 10 s (a rotated secret keeps signing for a day anyway).
 */
const memory = new IsolateMemo<StoredSigningSecret[]>(10_000);

/** What creating or rotating an agent's secret answers, once. */
export interface IssuedSecret {
  secret: string;
  created_at: string;
  /** When the secret it replaced stops signing; null when there was none. */
  previous_expires_at: string | null;
}

/**
 * An agent's own webhook signing secrets in D1. Secrets never leave this module except as
 * the answer to a rotation or as signing keys for the sender; nothing here logs them.
 */
export class AgentSecretStore {
  constructor(private readonly db: D1Database) {}

  /**
   * Makes a new secret the agent's current one. The one it replaces keeps signing for
   * ROTATION_OVERLAP_SECONDS; one replaced earlier than that stops at once, so at most two
   * sign at a time. Null when there is no such agent.
   */
  async rotate(agentId: string, now: Date): Promise<IssuedSecret | null> {
    const secret = generateSigningSecret();
    const createdAt = now.toISOString();
    const expiresAt = overlapEnd(now);
    // One batch is one transaction: a concurrent rotation cannot leave two current secrets.
    const [, replaced, inserted] = await this.db.batch([
      this.db.prepare("DELETE FROM agent_webhook_secrets WHERE agent_id = ?1 AND expires_at IS NOT NULL").bind(agentId),
      this.db.prepare("UPDATE agent_webhook_secrets SET expires_at = ?2 WHERE agent_id = ?1 AND expires_at IS NULL").bind(agentId, expiresAt),
      this.db
        .prepare(
          `INSERT INTO agent_webhook_secrets (agent_id, secret, created_at, expires_at)
           SELECT ?1, ?2, ?3, NULL WHERE EXISTS (SELECT 1 FROM agents WHERE id = ?1)`,
        )
        .bind(agentId, secret, createdAt),
    ]);
    forgetAgentSecrets(agentId);
    if (inserted!.meta.changes === 0) return null;
    return { secret, created_at: createdAt, previous_expires_at: replaced!.meta.changes > 0 ? expiresAt : null };
  }

  /** Removes every secret of the agent; returns how many there were. */
  async remove(agentId: string): Promise<number> {
    const result = await this.db.prepare("DELETE FROM agent_webhook_secrets WHERE agent_id = ?").bind(agentId).run();
    forgetAgentSecrets(agentId);
    return result.meta.changes;
  }

  async stored(agentId: string): Promise<StoredSigningSecret[]> {
    const held = memory.get(agentId);
    if (held) return held;
    const readSince = memory.mark();
    const { results } = await this.db
      .prepare("SELECT secret, created_at, expires_at FROM agent_webhook_secrets WHERE agent_id = ?")
      .bind(agentId)
      .all<StoredSigningSecret>();
    memory.set(agentId, results, readSince);
    return results;
  }

  /**
   * The secrets that sign this agent's webhooks now: its own while it has any, else the
   * deployment's. Read at send time, so a rotation applies to retries too.
   */
  async signingSecrets(agentId: string, deploymentSecrets: readonly string[], now: Date): Promise<SigningSecrets> {
    return chooseSigningSecrets(activeSecrets(await this.stored(agentId), now), deploymentSecrets);
  }
}

/** After any write of an agent's secrets: this isolate reads them again. */
export function forgetAgentSecrets(agentId: string): void {
  memory.forget(agentId);
}
