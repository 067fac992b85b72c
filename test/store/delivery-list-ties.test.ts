import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Delivery } from "../../src/schemas/delivery";
import { DeliveryLog, type LoggedCall } from "../../src/store/delivery-log";
import { callListing, iso, loggedCall, loggedDelivery } from "../fixtures/log-rows";
import { uniqueId } from "../helpers";

const AT = Date.UTC(2036, 4, 1, 12);

/** Logs a call with its deliveries, as the ledger does: the call's row listing them. */
const logCall = (log: DeliveryLog, c: LoggedCall, actions: Delivery[]) => log.write({ call: callListing(c, actions), actions, attempts: [] });

describe("GET /deliveries through the calls key, calls received at the same instant", () => {
  it("never repeats a delivery across pages when a later-listed call's delivery ids sort below the cursor's", async () => {
    const log = new DeliveryLog(env.DB);
    const agent = uniqueId("agent");
    // Same agent, same received_at: listed call_b first (call ids descending), then call_a.
    // Delivery ids are hashes (src/ledger/plan.ts deliveryId), so their order is unrelated to the calls'.
    const callB = loggedCall(AT, { agent_id: agent, call_id: `${agent}_call_b` });
    const callA = loggedCall(AT, { agent_id: agent, call_id: `${agent}_call_a` });
    const b0 = loggedDelivery(AT, { agent_id: agent, call_id: callB.call_id, id: `dlv_${agent}_a0` });
    const a0 = loggedDelivery(AT, { agent_id: agent, call_id: callA.call_id, action_index: 0, id: `dlv_${agent}_z0` });
    const a1 = loggedDelivery(AT, { agent_id: agent, call_id: callA.call_id, action_index: 1, id: `dlv_${agent}_z1` });
    await logCall(log, callB, [b0]);
    await logCall(log, callA, [a0, a1]);

    for (const filter of [{ agent_id: agent }, { since: iso(AT), until: iso(AT + 1) }]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 5; page++) {
        const got = (await log.list({ ...filter, limit: 2, ...(cursor ? { cursor } : {}) }))!;
        seen.push(...got.deliveries.map((d) => d.id));
        cursor = got.next_cursor ?? undefined;
        if (!cursor) break;
      }
      // Newest first: call_b's delivery, then call_a's, each exactly once.
      expect(seen, JSON.stringify(filter)).toEqual([b0.id, a1.id, a0.id]);
    }
  });
});
