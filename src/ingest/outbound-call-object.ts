import { OutboundCallObject } from "../outbound/outbound-call";
import type { CallEndedEvent } from "../schemas/call-event";
import { acceptCall } from "./accept-call";

/**
 * The outbound call object as deployed. Its simulated calls end through `acceptCall`, the path
 * every platform's webhook takes, so the agent's follow-up and the correlation back to the
 * outbound call run exactly as for a real call. (Defined here because ingest depends on the
 * outbound folder, not the other way round.)
 */
export class OutboundCall extends OutboundCallObject {
  protected override async acceptEnd(event: CallEndedEvent): Promise<void> {
    await acceptCall(this.env, event);
  }
}
