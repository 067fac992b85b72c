import { describe, expect, it } from "vitest";
import { jsonResponse, runAction } from "./harness";

const ACTION = { type: "task", title: "Call back {{caller_name}}", notes: "{{summary}}", due_in_days: 2, provider: "todoist" };
const SETTINGS = { TODOIST_API_TOKEN: "todoist-token", TODOIST_PROJECT_ID: "6Jf8VQXxpwv56VQ7" };
const TASK = { id: "6X7rM8997g3RQmvh", content: "Call back John Smith", project_id: "6Jf8VQXxpwv56VQ7" };

describe("todoist", () => {
  it("creates a task through API v1 and keeps its id", async () => {
    const run = await runAction(ACTION, SETTINGS, () => jsonResponse(200, TASK));
    expect(run.requests).toHaveLength(1);
    const req = run.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://api.todoist.com/api/v1/tasks");
    expect(req.headers.get("authorization")).toBe("Bearer todoist-token");
    expect(req.headers.get("content-type")).toBe("application/json");
    // A request identifier for Todoist's support, not an idempotency key: API v1 does not
    // deduplicate on it, so Todoist is not counted among the providers that drop repeats.
    expect(req.headers.get("x-request-id")).toBe(run.delivery.id);
    expect(JSON.parse(req.body)).toEqual({
      content: "Call back John Smith",
      description: "Caller inquired about order #12345. Agent confirmed delivery date of March 15.",
      due_date: "2026-03-12",
      project_id: "6Jf8VQXxpwv56VQ7",
    });
    expect(run.delivery).toMatchObject({ status: "delivered", provider: "todoist" });
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider: "todoist", provider_id: "6X7rM8997g3RQmvh" });
    expect(run.queue).toMatchObject({ acked: true, retried: false });
  });

  it("leaves out what the action does not give", async () => {
    const run = await runAction({ type: "task", title: "Call back", provider: "todoist" }, { TODOIST_API_TOKEN: "t" }, () =>
      jsonResponse(200, TASK),
    );
    expect(JSON.parse(run.requests[0]!.body)).toEqual({ content: "Call back" });
  });

  it("fails at once on a JSON 400 and on a plain-text 401, with Todoist's message", async () => {
    const invalid = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(400, {
        error: "Invalid argument value",
        error_code: 20,
        error_extra: { argument: "project_id", event_id: "abc" },
        error_tag: "INVALID_ARGUMENT_VALUE",
        http_code: 400,
      }),
    );
    expect(invalid.delivery.status).toBe("failed");
    expect(invalid.delivery.last_error).toBe("todoist 400: Invalid argument value (project_id) [INVALID_ARGUMENT_VALUE]");
    expect(invalid.queue).toMatchObject({ acked: true, retried: false });

    const forbidden = await runAction(ACTION, SETTINGS, () => new Response("Forbidden", { status: 401 }));
    expect(forbidden.delivery).toMatchObject({ status: "failed", last_error: "todoist 401: Forbidden" });
    expect(forbidden.queue).toMatchObject({ acked: true, retried: false });
  });

  it("retries a 429 after its Retry-After and a 5xx on the schedule", async () => {
    const limited = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(429, { error: "Too many requests", error_tag: "TOO_MANY_REQUESTS", http_code: 429 }, { "retry-after": "37" }),
    );
    expect(limited.delivery.status).toBe("retrying");
    expect(limited.queue).toMatchObject({ retried: true, retryDelay: 37 });
    expect(limited.delivery.last_error).toContain("Too many requests");

    const down = await runAction(ACTION, SETTINGS, () => new Response("Service Unavailable", { status: 503 }));
    expect(down.delivery.status).toBe("retrying");
    expect(down.queue.retried).toBe(true);
  });

  it("honours TODOIST_BASE_URL", async () => {
    const run = await runAction(ACTION, { ...SETTINGS, TODOIST_BASE_URL: "https://todoist.test/" }, () => jsonResponse(200, TASK));
    expect(run.requests[0]!.url).toBe("https://todoist.test/api/v1/tasks");
  });
});
