import { describe, expect, it } from "vitest";
import { request } from "../helpers";
import { runAction } from "./harness";

describe("provider choice without credentials", () => {
  it("sends email, SMS and tasks to the outbox when no provider is configured", async () => {
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
