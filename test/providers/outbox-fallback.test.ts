import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { outboxProvider } from "../../src/providers/outbox";
import { Outbox } from "../../src/store/outbox";
import { request, uniqueId } from "../helpers";
import { runAction } from "./harness";

describe("provider choice without credentials", () => {
  it("sends email, SMS and tasks to the outbox when no provider is configured and OUTBOX=true", async () => {
    for (const action of [
      { type: "email", to: "{{caller_email}}", subject: "Hi", body: "Thanks" },
      { type: "sms", template: "Thanks {{caller_name}}" },
      { type: "task", title: "Call back {{caller_name}}" },
    ]) {
      const run = await runAction(action, {}, () => new Response("unexpected", { status: 500 }));
      expect(run.requests, action.type).toHaveLength(0);
      expect(run.delivery, action.type).toMatchObject({ status: "delivered", provider: "outbox" });
      expect(run.delivery.attempt_log[0].provider_id).toMatch(/^obx_/);
    }
  });

  it("records the SMS segment count in the log", async () => {
    const run = await runAction({ type: "sms", template: "Ça va? ✓ {{call_id}}" }, {}, () => new Response(null));
    expect(run.delivery.attempt_log[0].detail).toMatch(/^1 segment \(UCS-2/);
  });

  it("strips line breaks from subjects so a caller's data cannot add headers", async () => {
    const run = await runAction(
      { type: "email", to: "{{caller_email}}", subject: "Summary for {{caller_name}}", body: "x" },
      {},
      () => new Response(null),
      { metadata: { caller_email: "john@example.com", caller_name: "John\r\nBcc: evil@example.com" } },
    );
    expect(run.delivery.status).toBe("delivered");
    const outbox = (await (await request("GET", `/outbox?call_id=${run.call_id}`)).json()) as any;
    expect(outbox.messages[0].message.subject).toBe("Summary for John Bcc: evil@example.com");
  });
});

describe("provider choice in production (no OUTBOX)", () => {
  it("fails the delivery, naming the settings to set, instead of parking it in the outbox", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ type: "email", to: "{{caller_email}}", subject: "Hi", body: "Thanks" }, /^no email provider configured: set RESEND_API_KEY, SENDGRID_API_KEY/],
      [{ type: "sms", template: "Thanks {{caller_name}}" }, /^no sms provider configured: set TWILIO_AUTH_TOKEN/],
      [{ type: "task", title: "Call back {{caller_name}}" }, /^no task provider configured: set TODOIST_API_TOKEN/],
    ];
    for (const [action, error] of cases) {
      const run = await runAction(action, { OUTBOX: "false" }, () => new Response("unexpected", { status: 500 }));
      expect(run.requests, String(action.type)).toHaveLength(0);
      expect(run.delivery.status, String(action.type)).toBe("failed");
      expect(run.delivery.last_error, String(action.type)).toMatch(error);
      expect(run.delivery.last_error).toContain("or OUTBOX=true for local development");
      expect(run.queue).toMatchObject({ acked: true, retried: false });
      const outbox = (await (await request("GET", `/outbox?call_id=${run.call_id}`)).json()) as any;
      expect(outbox.messages).toHaveLength(0);
    }
  });

  it("refuses an action that names the outbox", async () => {
    const run = await runAction({ type: "sms", template: "Hi", provider: "outbox" }, { OUTBOX: "false" }, () => new Response(null));
    expect(run.delivery.status).toBe("failed");
    expect(run.delivery.last_error).toContain("set OUTBOX=true");
  });
});

describe("the outbox deduplicates", () => {
  const entry = (delivery_id: string, idempotency_key: string) => ({
    delivery_id,
    idempotency_key,
    call_id: "call_dedupe",
    agent_id: "agent_dedupe",
    kind: "sms" as const,
    recipient: "+14155551234",
    subject: null,
    message: { to: "+14155551234", body: "Hi" },
  });

  it("records one row per delivery and idempotency key, and returns that row's id on a re-send", async () => {
    const delivery = uniqueId("dlv");
    const outbox = new Outbox(env.DB);
    const first = await outbox.add(entry(delivery, delivery));
    expect(first).toMatch(/^obx_/);
    expect(await outbox.add(entry(delivery, delivery))).toBe(first);
    // A replay carries a new key, so it is recorded again.
    const replayed = await outbox.add(entry(delivery, `${delivery}-r1`));
    expect(replayed).not.toBe(first);
    const { results } = await env.DB.prepare("SELECT id FROM outbox WHERE delivery_id = ? ORDER BY created_at, id").bind(delivery).all<{ id: string }>();
    expect(results.map((r) => r.id).sort()).toEqual([first, replayed].sort());
  });

  it("makes a re-sent attempt of the outbox provider return the first attempt's row", async () => {
    const delivery = uniqueId("dlv");
    const provider = outboxProvider("sms");
    const ctx = {
      delivery_id: delivery,
      idempotency_key: delivery,
      call_id: "call_dedupe",
      agent_id: "agent_dedupe",
      env: env as CloudflareBindings,
      settings: { OUTBOX: "true" },
      fetch,
    };
    const first = await provider.send({ to: "+14155551234", body: "Hi" }, ctx);
    const again = await provider.send({ to: "+14155551234", body: "Hi" }, ctx);
    expect(first).toMatchObject({ outcome: "delivered", provider_id: expect.stringMatching(/^obx_/) });
    expect(again).toEqual(first);
    const { results } = await env.DB.prepare("SELECT id FROM outbox WHERE delivery_id = ?").bind(delivery).all();
    expect(results).toHaveLength(1);
  });
});
