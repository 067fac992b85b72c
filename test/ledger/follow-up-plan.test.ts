import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ledgerFor } from "../../src/ledger/client";
import { skipReason } from "../../src/ledger/plan";
import type { Action } from "../../src/schemas/agent";
import { AgentStore } from "../../src/store/agents";
import { callEvent, makeDue, pendingJobs, putAgent, request, uniqueId, watchLedgerSends } from "../helpers";

const THANKS: Action = { type: "sms", template: "Thanks for calling" };
const MISSED: Action = { type: "sms", template: "Sorry we missed you", when: ["no_answer", "busy"] };

describe("which actions run for an outcome", () => {
  it("an action without `when` runs for connected calls only", () => {
    expect(skipReason(THANKS, "completed")).toBeUndefined();
    expect(skipReason(THANKS, undefined)).toBeUndefined();
    expect(skipReason(THANKS, "voicemail")).toBeUndefined();
    for (const outcome of ["no_answer", "busy", "failed"]) expect(skipReason(THANKS, outcome)).toMatch(/did not connect/);
  });

  it("an action with `when` runs for those outcomes only", () => {
    expect(skipReason(MISSED, "busy")).toBeUndefined();
    expect(skipReason(MISSED, "completed")).toBe('outcome "completed" is not one of when: no_answer, busy');
    expect(skipReason(MISSED, null)).toMatch(/outcome unknown/);
  });
});

async function agentWith(actions: Action[]) {
  const agentId = uniqueId("agent");
  await putAgent(agentId, { voice_tools: { post_call_follow_up: { enabled: true, actions } } });
  return { agentId, agent: await new AgentStore(env.DB, env.CONFIG_CACHE).get(agentId) };
}

const delivery = async (agentId: string, callId: string) =>
  ((await (await request("GET", `/calls/${callId}?agent_id=${agentId}`)).json()) as any).actions as any[];

describe("the ledger and outcomes", () => {
  it("records actions that do not run for the outcome as skipped, with the reason", async () => {
    const { agentId, agent } = await agentWith([THANKS, MISSED]);
    const event = callEvent({ agent_id: agentId, outcome: "no_answer" });
    await ledgerFor(env, agentId, event.call_id).accept(event, agent, new Date().toISOString());
    const actions = await delivery(agentId, event.call_id);
    expect(actions.map((a) => [a.status, a.last_error])).toEqual([
      ["skipped", 'the call did not connect (outcome "no_answer"); list the outcome in "when" to run for it'],
      ["pending", null],
    ]);
    expect((await pendingJobs(agentId, event.call_id)).map((j) => j.action_index)).toEqual([1]);
  });

  it("holds actions until a fuller event releases them, planned for its outcome", async () => {
    const { agentId, agent } = await agentWith([THANKS, MISSED]);
    const first = callEvent({ agent_id: agentId, outcome: null, summary: null });
    const ledger = ledgerFor(env, agentId, first.call_id);
    const holdUntil = Date.now() + 600_000;
    const accepted = await ledger.accept(first, agent, new Date().toISOString(), { raw: '{"event":"call_ended"}', holdUntil });
    expect(accepted.status).toBe("accepted");
    const held = await delivery(agentId, first.call_id);
    expect(held.map((a) => a.status)).toEqual(["pending", "skipped"]);
    expect(Date.parse(held[0].next_attempt_at)).toBe(holdUntil);
    // A claim now is deferred until the hold ends.
    expect(await ledger.claim(0, 1)).toMatchObject({ ok: false, reason: "not due" });

    // A retry of the first event changes nothing.
    expect((await ledger.accept(first, agent, new Date().toISOString(), { holdUntil })).status).toBe("duplicate");

    const sends = await watchLedgerSends(agentId, first.call_id);
    const final = { ...first, outcome: "completed", summary: "Booked for Tuesday." };
    const released = await ledger.accept(final, agent, new Date().toISOString(), { raw: '{"event":"call_analyzed"}', onDuplicate: "release" });
    expect(released.status).toBe("duplicate");
    expect(sends).toHaveBeenCalledTimes(1);
    const snapshot = await ledger.snapshot();
    expect(snapshot!.event.summary).toBe("Booked for Tuesday.");
    expect(snapshot!.raw).toEqual({ event: "call_analyzed" });
    const now = await delivery(agentId, first.call_id);
    expect(now.map((a) => a.status)).toEqual(["pending", "skipped"]);
    expect(Date.parse(now[0].next_attempt_at)).toBeLessThanOrEqual(Date.now());
    expect((await ledger.claim(0, 2)).ok).toBe(true);
  });

  it("a hold that runs out sends the actions with the event it has", async () => {
    const { agentId, agent } = await agentWith([THANKS]);
    const event = callEvent({ agent_id: agentId });
    const ledger = ledgerFor(env, agentId, event.call_id);
    await ledger.accept(event, agent, new Date().toISOString(), { holdUntil: Date.now() + 600_000 });
    await makeDue(agentId, event.call_id);
    expect((await ledger.claim(0, 1)).ok).toBe(true);
  });

  it("an amending repeat replaces the event for actions not yet delivered", async () => {
    const { agentId, agent } = await agentWith([THANKS]);
    const event = callEvent({ agent_id: agentId, transcript: "raw transcript" });
    const ledger = ledgerFor(env, agentId, event.call_id);
    await ledger.accept(event, agent, new Date().toISOString());
    await ledger.accept({ ...event, transcript: "corrected transcript" }, agent, new Date().toISOString(), { onDuplicate: "amend" });
    const claim = await ledger.claim(0, 1);
    expect(claim.ok && claim.event.transcript).toBe("corrected transcript");
  });
});
