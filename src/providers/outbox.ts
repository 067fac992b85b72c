import type { DirectProvider, MessageKind, Outgoing, SendContext, SendResult } from "./types";

/**
 * The development sink: records what would have been sent, so the whole flow can be
 * watched locally without any provider account. The default wherever a kind of action
 * has no configured provider.
 */
export function outboxProvider<K extends MessageKind>(kind: K): DirectProvider<K> {
  return {
    name: "outbox",
    kind,
    requires: [],
    describe: (message) => ({ outbox: message }),
    async send(message: Outgoing[K], ctx: SendContext): Promise<SendResult> {
      const id = `obx_${crypto.randomUUID().replaceAll("-", "")}`;
      const recipient = "to" in message ? message.to : null;
      const subject = "subject" in message ? message.subject : "title" in message ? message.title : null;
      await ctx.env.DB.prepare(
        `INSERT INTO outbox (id, delivery_id, call_id, agent_id, kind, recipient, subject, body, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
        .bind(id, ctx.delivery_id, ctx.call_id, ctx.agent_id, kind, recipient, subject, JSON.stringify(message), new Date().toISOString())
        .run();
      return { outcome: "delivered", provider_id: id };
    },
  };
}
