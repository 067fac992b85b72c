import { env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ledgerStub } from "../src/ledger/client";
import { callEvent, postEvent, putAgent, request, uniqueId } from "./helpers";

async function waitForLog(path: string, ready: (body: any) => boolean) {
  // The ledger mirrors itself into D1 right after answering; give that write a moment.
  for (let i = 0; i < 50; i++) {
    const body = await (await request("GET", path)).json();
    if (ready(body)) return body as any;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`log never showed ${path}`);
}

describe("delivery log API", () => {
  it("shows a call's ledger: the event, each action and its state", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    const event = callEvent({ agent_id: agentId });
    await postEvent(event);
    // With its agent named, the call is read from its ledger at once.
    const direct = (await (await request("GET", `/calls/${event.call_id}?agent_id=${agentId}`)).json()) as any;
    expect(direct.actions.map((a: any) => a.status)).toEqual(["pending", "pending", "pending"]);
    // Without, it is found through the log: nothing consumes the jobs here, so the ledger's alarm
    // logs it (due 30 s after acceptance; run now).
    await runDurableObjectAlarm(ledgerStub(env, agentId, event.call_id));
    const call = await waitForLog(`/calls/${event.call_id}`, (b) => b.call_id === event.call_id);
    expect(call).toMatchObject({ agent_id: agentId, status: "accepted", action_count: 3, reason: null });
    expect(call.event).toEqual(event);
    expect(call.actions.map((a: any) => [a.action_type, a.status, a.attempts])).toEqual([
      ["sms", "pending", 0],
      ["webhook", "pending", 0],
      ["email", "pending", 0],
    ]);
    expect(call.actions[1].action.url).toBe("https://your-crm.com/api/call-completed");
    expect((await request("GET", "/calls/call_missing")).status).toBe(404);
  });

  it("filters deliveries by agent, type, status and time, a page at a time", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    const start = new Date().toISOString();
    const events = [callEvent({ agent_id: agentId }), callEvent({ agent_id: agentId })];
    for (const e of events) await postEvent(e);
    // Nothing consumes their jobs here: the log gets the pending deliveries from each ledger's
    // alarm, which is due 30 s after acceptance (run now).
    for (const e of events) await runDurableObjectAlarm(ledgerStub(env, agentId, e.call_id));

    const all = await waitForLog(`/deliveries?agent_id=${agentId}`, (b) => b.deliveries.length === 6);
    expect(new Set(all.deliveries.map((d: any) => d.status))).toEqual(new Set(["pending"]));

    const webhooks = (await (await request("GET", `/deliveries?agent_id=${agentId}&type=webhook`)).json()) as any;
    expect(webhooks.deliveries).toHaveLength(2);
    expect(webhooks.deliveries.every((d: any) => d.action_type === "webhook")).toBe(true);

    const none = (await (await request("GET", `/deliveries?agent_id=${agentId}&status=delivered`)).json()) as any;
    expect(none.deliveries).toHaveLength(0);
    const later = (await (await request("GET", `/deliveries?agent_id=${agentId}&since=2999-01-01T00:00:00Z`)).json()) as any;
    expect(later.deliveries).toHaveLength(0);
    const recent = (await (await request("GET", `/deliveries?agent_id=${agentId}&since=${start}`)).json()) as any;
    expect(recent.deliveries).toHaveLength(6);

    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const page = (await (
        await request("GET", `/deliveries?agent_id=${agentId}&limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)
      ).json()) as any;
      for (const d of page.deliveries) seen.add(d.id);
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen.size).toBe(6);

    const one = (await (await request("GET", `/deliveries/${all.deliveries[0].id}`)).json()) as any;
    expect(one).toMatchObject({ id: all.deliveries[0].id, attempt_log: [] });
  });

  it("answers bad filters with 422 naming the parameter", async () => {
    for (const [query, field] of [
      ["status=bogus", "status"],
      ["type=fax", "type"],
      ["since=yesterday", "since"],
      ["limit=1000", "limit"],
      ["cursor=%%%", "cursor"],
    ]) {
      const res = await request("GET", `/deliveries?${query}`);
      expect(res.status, query).toBe(422);
      const problem = (await res.json()) as any;
      expect(problem.errors[0].path, query).toContain(field);
    }
  });
});

describe("API description and liveness", () => {
  it("serves an OpenAPI 3.1 document generated from the schemas", async () => {
    const res = await request("GET", "/openapi.json", undefined, {});
    expect(res.status).toBe(200);
    const doc = (await res.json()) as any;
    expect(doc.openapi).toBe("3.1.0");
    for (const path of ["/agents/{agent_id}", "/agents", "/calls/ended", "/calls/{call_id}", "/deliveries", "/deliveries/{delivery_id}/retry", "/outbox", "/healthz"]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    expect(doc.components.schemas.CallEndedEvent.required).toEqual(["call_id", "agent_id"]);
    expect(doc.components.schemas.Problem).toBeDefined();
    expect(Object.keys(doc.components.schemas.CallLedger.properties)).toEqual(
      expect.arrayContaining(["call_id", "agent_name", "event", "actions", "status", "reason"]),
    );
  });

  it("renders the reference at /docs and answers /healthz", async () => {
    const docs = await request("GET", "/docs", undefined, {});
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain("/openapi.json");
    expect(await (await request("GET", "/healthz", undefined, {})).json()).toEqual({ status: "ok" });
    const missing = await request("GET", "/nope", undefined, {});
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
  });
});
