import { Outbox } from "../store/outbox";
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
    dedupes: false,
    requires: [],
    describe: (message) => ({ outbox: message }),
    async send(message: Outgoing[K], ctx: SendContext): Promise<SendResult> {
      const id = await new Outbox(ctx.env.DB).add({
        delivery_id: ctx.delivery_id,
        call_id: ctx.call_id,
        agent_id: ctx.agent_id,
        kind,
        recipient: "to" in message ? message.to : null,
        subject: "subject" in message ? message.subject : "title" in message ? message.title : null,
        message: { ...message },
      });
      return { outcome: "delivered", provider_id: id };
    },
  };
}
