import type { MessageKind } from "../providers/types";

interface OutboxRow {
  id: string;
  delivery_id: string;
  call_id: string;
  agent_id: string;
  kind: MessageKind;
  recipient: string | null;
  subject: string | null;
  body: string;
  created_at: string;
}

export interface OutboxEntry extends Omit<OutboxRow, "body"> {
  /** Exactly what the provider would have been sent. */
  message: Record<string, unknown>;
}

/** The development sink's table: what email, SMS and task providers would have been sent. */
export class Outbox {
  constructor(private readonly db: D1Database) {}

  async add(entry: Omit<OutboxEntry, "id" | "created_at">): Promise<string> {
    const id = `obx_${crypto.randomUUID().replaceAll("-", "")}`;
    await this.db
      .prepare(
        `INSERT INTO outbox (id, delivery_id, call_id, agent_id, kind, recipient, subject, body, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        id,
        entry.delivery_id,
        entry.call_id,
        entry.agent_id,
        entry.kind,
        entry.recipient,
        entry.subject,
        JSON.stringify(entry.message),
        new Date().toISOString(),
      )
      .run();
    return id;
  }

  /** Newest first. */
  async list(filter: { call_id?: string; kind?: MessageKind; limit: number }): Promise<OutboxEntry[]> {
    const { results } = await this.db
      .prepare(
        `SELECT * FROM outbox WHERE (?1 IS NULL OR call_id = ?1) AND (?2 IS NULL OR kind = ?2)
         ORDER BY created_at DESC, id DESC LIMIT ?3`,
      )
      .bind(filter.call_id ?? null, filter.kind ?? null, filter.limit)
      .all<OutboxRow>();
    return results.map(({ body, ...row }) => ({ ...row, message: JSON.parse(body) as Record<string, unknown> }));
  }
}
