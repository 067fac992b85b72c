import { describe, expect, it } from "vitest";
import { jsonResponse, runAction } from "./harness";

const ACTION = { type: "task", title: "Call back {{caller_name}}", notes: "{{summary}}", due_in_days: 2, provider: "clickup" };
const SETTINGS = { CLICKUP_API_TOKEN: "pk_1234_ABCD", CLICKUP_LIST_ID: "901234567" };
const CREATED = { id: "86a1b2c3d", name: "Call back John Smith", url: "https://app.clickup.com/t/86a1b2c3d" };

describe("clickup", () => {
  it("creates a task in the list with a date-only due date and keeps its id", async () => {
    const run = await runAction(ACTION, SETTINGS, () => jsonResponse(200, CREATED));
    const req = run.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://api.clickup.com/api/v2/list/901234567/task");
    expect(req.headers.get("authorization")).toBe("pk_1234_ABCD");
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(req.body)).toEqual({
      name: "Call back John Smith",
      description: "Caller inquired about order #12345. Agent confirmed delivery date of March 15.",
      // 2026-03-12 at 12:00 UTC, in epoch milliseconds.
      due_date: Date.UTC(2026, 2, 12, 12),
      due_date_time: false,
    });
    expect(JSON.parse(req.body).due_date).toBe(1773316800000);
    expect(run.delivery).toMatchObject({ status: "delivered", provider: "clickup" });
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider: "clickup", provider_id: "86a1b2c3d" });
  });

  it("fails at once on a 401 and a 400, with ClickUp's err and ECODE", async () => {
    const unauthorized = await runAction(ACTION, SETTINGS, () => jsonResponse(401, { err: "Token invalid", ECODE: "OAUTH_025" }));
    expect(unauthorized.delivery).toMatchObject({ status: "failed", last_error: "clickup 401: Token invalid [OAUTH_025]" });
    expect(unauthorized.queue).toMatchObject({ acked: true, retried: false });

    const invalid = await runAction(ACTION, SETTINGS, () => jsonResponse(400, { err: "Task name invalid", ECODE: "INPUT_005" }));
    expect(invalid.delivery).toMatchObject({ status: "failed", last_error: "clickup 400: Task name invalid [INPUT_005]" });
  });

  it("retries a 429 until X-RateLimit-Reset and a 500", async () => {
    const reset = Math.floor(Date.now() / 1000) + 45;
    const limited = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(429, { err: "Rate limit reached", ECODE: "APP_002" }, { "x-ratelimit-limit": "100", "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) }),
    );
    expect(limited.delivery.status).toBe("retrying");
    expect(limited.queue.retried).toBe(true);
    expect(limited.queue.retryDelay).toBeGreaterThanOrEqual(44);
    expect(limited.queue.retryDelay).toBeLessThanOrEqual(46);

    const broken = await runAction(ACTION, SETTINGS, () => jsonResponse(500, { err: "Internal error", ECODE: "ITEM_015" }));
    expect(broken.delivery.status).toBe("retrying");
    expect(broken.queue.retried).toBe(true);
  });

  it("honours CLICKUP_BASE_URL", async () => {
    const run = await runAction(ACTION, { ...SETTINGS, CLICKUP_BASE_URL: "https://clickup.test" }, () => jsonResponse(200, CREATED));
    expect(run.requests[0]!.url).toBe("https://clickup.test/api/v2/list/901234567/task");
  });
});
