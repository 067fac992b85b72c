import { env, runInDurableObject } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { ledgerStub } from "../src/ledger/client";
import type { CallLedger } from "../src/ledger/call-ledger";
import { INGEST, callEvent, pendingJobs, postEvent, putAgent, request, uniqueId } from "./helpers";

describe("POST /calls/ended", () => {
  it("accepts an event once: 202 with its actions, then 200 duplicate", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    const event = callEvent({ agent_id: agentId });
    const first = await postEvent(event);
    expect(first.status).toBe(202);
    const body = (await first.json()) as any;
    expect(body).toMatchObject({ call_id: event.call_id, status: "accepted", reason: null });
    expect(body.actions.map((a: any) => a.type)).toEqual(["sms", "webhook", "email"]);
    expect(await pendingJobs(agentId, event.call_id)).toHaveLength(3);

    const second = await postEvent(event);
    expect(second.status).toBe(200);
    expect(((await second.json()) as any).status).toBe("duplicate");
  });

  it("turns a hundred concurrent identical posts into exactly one set of jobs", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    const event = callEvent({ agent_id: agentId });
    const responses = await Promise.all(Array.from({ length: 100 }, () => postEvent(event)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(99);
    const jobs = await pendingJobs(agentId, event.call_id);
    expect(jobs).toHaveLength(3);
    expect(new Set(jobs.map((j) => j.delivery_id)).size).toBe(3);
  });

  it("records an unknown agent's call with no actions and the reason", async () => {
    const event = callEvent({ agent_id: uniqueId("ghost") });
    const res = await postEvent(event);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: "accepted", actions: [], reason: "unknown agent" });
    const ledger = (await (await request("GET", `/calls/${event.call_id}?agent_id=${event.agent_id}`)).json()) as any;
    expect(ledger).toMatchObject({ status: "unrouted", reason: "unknown agent", action_count: 0 });
    expect(Object.keys(ledger).sort()).toEqual(
      ["action_count", "actions", "agent_id", "agent_name", "call_id", "ended_at", "event", "raw", "reason", "received_at", "status"],
    );
  });

  it("records a disabled agent's call with no actions and the reason", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, { voice_tools: { post_call_follow_up: { enabled: false, actions: [] } } });
    const res = await postEvent(callEvent({ agent_id: agentId }));
    expect(await res.json()).toMatchObject({ status: "accepted", actions: [], reason: "post-call follow-up is disabled" });
  });

  it("sees a config change on the very next event", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId, { voice_tools: { post_call_follow_up: { enabled: false } } });
    expect(((await (await postEvent(callEvent({ agent_id: agentId }))).json()) as any).actions).toHaveLength(0);
    await request("PATCH", `/agents/${agentId}`, {
      voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "sms", template: "Hi" }] } },
    });
    expect(((await (await postEvent(callEvent({ agent_id: agentId }))).json()) as any).actions).toHaveLength(1);
  });

  it("keeps a transcript close to 1 MiB whole, and queue messages carry only references", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    const transcript = `${"Agent: hello. Caller: hi. ".repeat(40_000).slice(0, 1_000_000)} Danke schön ✓`;
    const event = callEvent({ agent_id: agentId, transcript });
    expect((await postEvent(event)).status).toBe(202);
    const stored = await runInDurableObject(ledgerStub(env, agentId, event.call_id), (instance) => (instance as CallLedger).snapshot());
    expect(stored!.event.transcript).toBe(transcript);
    for (const job of await pendingJobs(agentId, event.call_id)) {
      expect(JSON.stringify(job).length).toBeLessThan(1024);
    }
  });

  it("accepts a Standard Webhooks signature made with INGEST_SIGNING_SECRET", async () => {
    const secret = "whsec_dGVzdC1pbmdlc3Qtc2lnbmluZy1zZWNyZXQ=";
    const body = JSON.stringify(callEvent({ agent_id: uniqueId("agent") }));
    const id = "msg_1";
    const now = new Date();
    const signature = new Webhook(secret).sign(id, now, body);
    const headers = { "webhook-id": id, "webhook-timestamp": String(Math.floor(now.getTime() / 1000)), "webhook-signature": signature };
    expect((await postEvent(body, headers)).status).toBe(202);

    const tampered = body.replace("Caller", "Callee");
    expect((await postEvent(tampered, headers)).status).toBe(401);
    const old = new Date(now.getTime() - 10 * 60_000);
    const stale = {
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(old.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign(id, old, body),
    };
    const staleRes = await postEvent(body, stale);
    expect(staleRes.status).toBe(401);
    expect(((await staleRes.json()) as any).detail).toMatch(/timestamp/i);
  });

  const bad: [string, () => Promise<Response>, number][] = [
    ["no credentials", () => postEvent(callEvent(), {}), 401],
    ["wrong ingest key", () => postEvent(callEvent(), { authorization: "Bearer nope" }), 401],
    ["the admin key instead of the ingest key", () => postEvent(callEvent(), { authorization: "Bearer test-admin-key" }), 401],
    ["invalid JSON", () => postEvent("{\"call_id\": ", INGEST), 400],
    ["empty body", () => postEvent("", INGEST), 400],
    ["a JSON array", () => postEvent([callEvent()], INGEST), 422],
    ["a JSON string", () => postEvent('"hello"', INGEST), 422],
    ["missing call_id", () => postEvent({ ...callEvent(), call_id: undefined }), 422],
    ["missing agent_id", () => postEvent({ ...callEvent(), agent_id: undefined }), 422],
    ["numeric call_id", () => postEvent({ ...callEvent(), call_id: 42 }), 422],
    ["duration as words", () => postEvent({ ...callEvent(), duration_seconds: "four minutes" }), 422],
    ["negative duration", () => postEvent({ ...callEvent(), duration_seconds: -1 }), 422],
    ["metadata as a list", () => postEvent({ ...callEvent(), metadata: ["a"] }), 422],
    ["a bad recording URL", () => postEvent({ ...callEvent(), recording_url: "ftp://x" }), 422],
    ["a bad ended_at", () => postEvent({ ...callEvent(), ended_at: "yesterday" }), 422],
    ["a call_id with spaces", () => postEvent({ ...callEvent(), call_id: "call 1" }), 422],
    ["text/plain", () => request("POST", "/calls/ended", JSON.stringify(callEvent()), { ...INGEST, "content-type": "text/plain" }), 415],
    ["a form without agent_id", () => request("POST", "/calls/ended", "call_id=1", { ...INGEST, "content-type": "application/x-www-form-urlencoded" }), 422],
    ["a body over 1 MiB", () => postEvent({ ...callEvent(), transcript: "x".repeat(1_048_577) }), 413],
  ];
  it.each(bad)("answers %s with a 4xx problem", async (_name, send, status) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await res.json()) as any;
    expect(problem.status).toBe(status);
    expect(problem.title).toBeTruthy();
  });

  it("names the offending field of an invalid event", async () => {
    const res = await postEvent({ ...callEvent(), call_id: undefined, duration_seconds: "x" });
    const problem = (await res.json()) as any;
    expect(problem.errors.map((e: any) => e.path).sort()).toEqual(["$.call_id", "$.duration_seconds"]);
  });

  it("accepts null for optional fields, as platforms send them", async () => {
    const event = callEvent({ caller_number: null, transcript: null, recording_url: null, metadata: null, ended_at: null });
    expect((await postEvent(event)).status).toBe(202);
  });
});

describe("POST /calls/ended from no-code tools", () => {
  it("accepts a form with flat nested keys, numbers and times as text", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    const callId = uniqueId("call");
    const form = new URLSearchParams({
      call_id: callId,
      agent_id: agentId,
      duration_seconds: "230",
      ended_at: "2026-03-10 15:04:05",
      caller_number: "+14155551234",
      metadata__caller_name: "John Smith",
      "metadata[caller_email]": "john@example.com",
      "details.delivery_date": "March 15",
      summary: "",
    });
    const res = await SELF_FETCH("/calls/ended", form.toString(), "application/x-www-form-urlencoded");
    expect(res.status).toBe(202);
    const call = (await (await request("GET", `/calls/${callId}?agent_id=${agentId}`)).json()) as any;
    expect(call.event).toMatchObject({
      duration_seconds: 230,
      ended_at: "2026-03-10T15:04:05.000Z",
      metadata: { caller_name: "John Smith", caller_email: "john@example.com" },
      details: { delivery_date: "March 15" },
    });
    expect(call.event).not.toHaveProperty("summary");
  });

  it("stores a form's `[]` keys as one flat list", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    const callId = uniqueId("call");
    const res = await SELF_FETCH("/calls/ended", `call_id=${callId}&agent_id=${agentId}&metadata[x][]=a&metadata[x][]=b`, "application/x-www-form-urlencoded");
    expect(res.status).toBe(202);
    const call = (await (await request("GET", `/calls/${callId}?agent_id=${agentId}`)).json()) as any;
    expect(call.event.metadata).toEqual({ x: ["a", "b"] });
  });

  it("accepts numbers and epoch times as text in JSON too, and still names what stays wrong", async () => {
    const agentId = uniqueId("agent");
    await putAgent(agentId);
    const ok = await postEvent(callEvent({ agent_id: agentId, duration_seconds: "230", ended_at: 1773155045 }));
    expect(ok.status).toBe(202);
    const bad = await postEvent(callEvent({ agent_id: agentId, duration_seconds: "about four minutes", ended_at: "yesterday" }));
    expect(bad.status).toBe(422);
    const problem = (await bad.json()) as { errors: { path: string }[] };
    expect(problem.errors.map((e) => e.path).sort()).toEqual(["$.duration_seconds", "$.ended_at"]);
  });

  it("names a form's offending fields from the body's root", async () => {
    const res = await SELF_FETCH("/calls/ended", "call_id=c1&duration_seconds=soon", "application/x-www-form-urlencoded");
    expect(res.status).toBe(422);
    const problem = (await res.json()) as { errors: { path: string }[] };
    expect(problem.errors.map((e) => e.path).sort()).toEqual(["$.agent_id", "$.duration_seconds"]);
  });

  it("refuses other content types with 415", async () => {
    expect((await SELF_FETCH("/calls/ended", "call_id=x", "text/plain")).status).toBe(415);
  });
});

function SELF_FETCH(path: string, body: string, type: string) {
  return request("POST", path, body, { ...INGEST, "content-type": type });
}
