import { describe, expect, it } from "vitest";
import { jsonResponse, runAction } from "./harness";

const ACTION = { type: "task", title: "Call back {{caller_name}}", notes: "{{summary}}", due_in_days: 2, provider: "hubspot" };
const SETTINGS = { HUBSPOT_ACCESS_TOKEN: "pat-na1-00000000-0000-0000-0000-000000000000" };
const CREATED = { id: "81234567890", properties: { hs_task_subject: "Call back John Smith" }, createdAt: "2026-03-10T15:05:00.000Z" };

describe("hubspot", () => {
  it("creates a CRM task and keeps its id", async () => {
    const run = await runAction(ACTION, { ...SETTINGS, HUBSPOT_OWNER_ID: "12345678", HUBSPOT_TASK_PRIORITY: "high" }, () =>
      jsonResponse(201, CREATED),
    );
    const req = run.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://api.hubapi.com/crm/v3/objects/tasks");
    expect(req.headers.get("authorization")).toBe("Bearer pat-na1-00000000-0000-0000-0000-000000000000");
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(req.body)).toEqual({
      properties: {
        hs_task_subject: "Call back John Smith",
        hs_task_body: "Caller inquired about order #12345. Agent confirmed delivery date of March 15.",
        hs_timestamp: "2026-03-12T12:00:00.000Z",
        hs_task_status: "NOT_STARTED",
        hs_task_priority: "HIGH",
        hubspot_owner_id: "12345678",
      },
    });
    expect(run.delivery).toMatchObject({ status: "delivered", provider: "hubspot" });
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider: "hubspot", provider_id: "81234567890" });
  });

  it("sets hs_timestamp to now when the action has no due date", async () => {
    const before = Date.now();
    const run = await runAction({ type: "task", title: "Call back", provider: "hubspot" }, SETTINGS, () => jsonResponse(201, CREATED));
    const properties = JSON.parse(run.requests[0]!.body).properties;
    expect(Date.parse(properties.hs_timestamp)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(properties.hs_timestamp)).toBeLessThanOrEqual(Date.now() + 1000);
    expect(properties).not.toHaveProperty("hs_task_body");
    expect(properties).not.toHaveProperty("hs_task_priority");
    expect(properties).not.toHaveProperty("hubspot_owner_id");
  });

  it("fails at once on a 400 VALIDATION_ERROR and a 401, with HubSpot's message", async () => {
    const invalid = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(400, {
        status: "error",
        message: 'Property values were not valid: [{"isValid":false,"message":"HIGHEST was not one of the allowed options","name":"hs_task_priority"}]',
        correlationId: "aeb5f871-7f07-4993-9211-075dc63e7cbf",
        category: "VALIDATION_ERROR",
      }),
    );
    expect(invalid.delivery.status).toBe("failed");
    expect(invalid.delivery.last_error).toMatch(/^hubspot 400: Property values were not valid: .*HIGHEST was not one of the allowed options.* \[VALIDATION_ERROR\]$/);
    expect(invalid.queue).toMatchObject({ acked: true, retried: false });

    const unauthorized = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(401, {
        status: "error",
        message: "Authentication credentials not found.",
        correlationId: "4b1f7f3a-0000-4000-8000-000000000000",
        category: "INVALID_AUTHENTICATION",
      }),
    );
    expect(unauthorized.delivery).toMatchObject({
      status: "failed",
      last_error: "hubspot 401: Authentication credentials not found. [INVALID_AUTHENTICATION]",
    });
  });

  it("retries a 429 (after Retry-After, else one rolling window) and a 502", async () => {
    const rateLimit = {
      status: "error",
      message: "You have reached your ten_secondly_rolling limit.",
      errorType: "RATE_LIMIT",
      correlationId: "c033cdaa-2c40-4a64-ae48-b4cec88dad24",
      policyName: "TEN_SECONDLY_ROLLING",
      category: "RATE_LIMITS",
    };
    const limited = await runAction(ACTION, SETTINGS, () => jsonResponse(429, rateLimit, { "retry-after": "3" }));
    expect(limited.delivery.status).toBe("retrying");
    expect(limited.queue).toMatchObject({ retried: true, retryDelay: 3 });

    const rolling = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(429, rateLimit, { "x-hubspot-ratelimit-interval-milliseconds": "10000", "x-hubspot-ratelimit-remaining": "0" }),
    );
    expect(rolling.queue).toMatchObject({ retried: true, retryDelay: 10 });

    const down = await runAction(ACTION, SETTINGS, () => new Response("Bad Gateway", { status: 502 }));
    expect(down.delivery.status).toBe("retrying");
    expect(down.queue.retried).toBe(true);
  });

  it("honours HUBSPOT_BASE_URL", async () => {
    const run = await runAction(ACTION, { ...SETTINGS, HUBSPOT_BASE_URL: "https://hubspot.test" }, () => jsonResponse(201, CREATED));
    expect(run.requests[0]!.url).toBe("https://hubspot.test/crm/v3/objects/tasks");
  });
});
