import { z } from "zod";
import { Outbox } from "../store/outbox";
import { switchedOn } from "./settings";
import type { DirectProvider, MessageKind, Outgoing, SendContext, SendResult } from "./types";

/**
 * The outbox is for local development only: without OUTBOX=true a deployment that lacks a
 * provider fails the delivery, rather than parking a production message where no one looks.
 */
export const OUTBOX_SETTINGS = z.object({ OUTBOX: switchedOn() });

/**
 * The development sink: records what would have been sent, so the whole flow can be
 * watched locally without any provider account. Used where a kind of action has no
 * configured provider, when the deployment sets OUTBOX=true.
 */
export function outboxProvider<K extends MessageKind>(kind: K): DirectProvider<K> {
  return {
    name: "outbox",
    kind,
    // One row per (delivery, idempotency key): a re-sent attempt finds the row already there.
    dedupes: true,
    settings: OUTBOX_SETTINGS,
    describe: (message) => ({ outbox: message }),
    async send(message: Outgoing[K], ctx: SendContext): Promise<SendResult> {
      const id = await new Outbox(ctx.env.DB).add({
        delivery_id: ctx.delivery_id,
        idempotency_key: ctx.idempotency_key,
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
