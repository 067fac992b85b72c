import type { MessageKind } from "../schemas/agent";

interface OutboxRow {
  id: string;
  delivery_id: string;
  /** The delivery's idempotency key when this was recorded; one row per delivery and key. */
  idempotency_key: string | null;
  call_id: string;
  agent_id: string;
  kind: MessageKind;
  recipient: string | null;
  subject: string | null;
  body: string;
  created_at: string;
}

export interface OutboxEntry extends Omit<OutboxRow, "body" | "idempotency_key"> {
  /** Exactly what the provider would have been sent. */
  message: Record<string, unknown>;
}

/** What is recorded: the entry and the key a provider would deduplicate on. */
export type NewOutboxEntry = Omit<OutboxEntry, "id" | "created_at"> & { idempotency_key: string };

// The columns GET /outbox shows; the idempotency key stays internal.
const LISTED = "id, delivery_id, call_id, agent_id, kind, recipient, subject, body, created_at";

/** The development sink's table: what email, SMS and task providers would have been sent. */
export class Outbox {
  constructor(private readonly db: D1Database) {}

  /**
   * Records an entry once per (delivery_id, idempotency_key) and returns the id of the row
   * that holds it: the new one, or the one an earlier attempt with the same key wrote.
   * Insert and read run as one batch (one transaction), so the id read is the stored row's.
   */
  async add(entry: NewOutboxEntry): Promise<string> {
    const insert = this.db
      .prepare(
        `INSERT INTO outbox (id, delivery_id, idempotency_key, call_id, agent_id, kind, recipient, subject, body, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (delivery_id, idempotency_key) DO NOTHING`,
      )
      .bind(
        `obx_${crypto.randomUUID().replaceAll("-", "")}`,
        entry.delivery_id,
        entry.idempotency_key,
        entry.call_id,
        entry.agent_id,
        entry.kind,
        entry.recipient,
        entry.subject,
        JSON.stringify(entry.message),
        new Date().toISOString(),
      );
    const stored = this.db
      .prepare("SELECT id FROM outbox WHERE delivery_id = ? AND idempotency_key = ?")
      .bind(entry.delivery_id, entry.idempotency_key);
    const [, found] = await this.db.batch<{ id: string }>([insert, stored]);
    const id = found?.results[0]?.id;
    if (!id) throw new Error(`outbox row for ${entry.delivery_id} was not stored`);
    return id;
  }

  /**
   * Deletes everything recorded for these deliveries (a call's: erasure, the end of its
   * retention), found through outbox_by_delivery; returns how many messages there were.
   */
  async deleteForDeliveries(deliveryIds: string[]): Promise<number> {
    const result = await this.db
      .prepare("DELETE FROM outbox WHERE delivery_id IN (SELECT value FROM json_each(?))")
      .bind(JSON.stringify(deliveryIds))
      .run();
    return result.meta.changes;
  }

  /** Deletes what was recorded before `cutoff` (ISO 8601). */
  async deleteOlderThan(cutoff: string): Promise<void> {
    await this.db.prepare("DELETE FROM outbox WHERE created_at < ?").bind(cutoff).run();
  }

  /** One message, or null. */
  async get(id: string): Promise<OutboxEntry | null> {
    const row = await this.db.prepare(`SELECT ${LISTED} FROM outbox WHERE id = ?`).bind(id).first<Omit<OutboxRow, "idempotency_key">>();
    if (!row) return null;
    const { body, ...rest } = row;
    return { ...rest, message: JSON.parse(body) as Record<string, unknown> };
  }

  /** Newest first. */
  async list(filter: { call_id?: string; kind?: MessageKind; limit: number }): Promise<OutboxEntry[]> {
    const { results } = await this.db
      .prepare(
        `SELECT ${LISTED} FROM outbox WHERE (?1 IS NULL OR call_id = ?1) AND (?2 IS NULL OR kind = ?2)
         ORDER BY created_at DESC, id DESC LIMIT ?3`,
      )
      .bind(filter.call_id ?? null, filter.kind ?? null, filter.limit)
      .all<Omit<OutboxRow, "idempotency_key">>();
    return results.map(({ body, ...row }) => ({ ...row, message: JSON.parse(body) as Record<string, unknown> }));
  }
}
