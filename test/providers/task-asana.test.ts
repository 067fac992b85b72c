import { describe, expect, it } from "vitest";
import { jsonResponse, runAction } from "./harness";

const ACTION = { type: "task", title: "Call back {{caller_name}}", notes: "{{summary}}", due_in_days: 2, provider: "asana" };
const SETTINGS = { ASANA_ACCESS_TOKEN: "asana-pat", ASANA_PROJECT_ID: "1204567890123456" };
const CREATED = { data: { gid: "1209876543210987", resource_type: "task", name: "Call back John Smith" } };

describe("asana", () => {
  it("creates a task in the project and keeps its gid", async () => {
    const run = await runAction(ACTION, { ...SETTINGS, ASANA_ASSIGNEE: "me" }, () => jsonResponse(201, CREATED));
    const req = run.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://app.asana.com/api/1.0/tasks");
    expect(req.headers.get("authorization")).toBe("Bearer asana-pat");
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(req.body)).toEqual({
      data: {
        name: "Call back John Smith",
        notes: "Caller inquired about order #12345. Agent confirmed delivery date of March 15.",
        due_on: "2026-03-12",
        projects: ["1204567890123456"],
        assignee: "me",
      },
    });
    expect(run.delivery).toMatchObject({ status: "delivered", provider: "asana" });
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider: "asana", provider_id: "1209876543210987" });
  });

  it("uses the workspace when no project is set, and fails clearly when neither is", async () => {
    const run = await runAction(ACTION, { ASANA_ACCESS_TOKEN: "asana-pat", ASANA_WORKSPACE_ID: "1100000000000001" }, () =>
      jsonResponse(201, CREATED),
    );
    const data = JSON.parse(run.requests[0]!.body).data;
    expect(data.workspace).toBe("1100000000000001");
    expect(data).not.toHaveProperty("projects");

    const unset = await runAction(ACTION, { ASANA_ACCESS_TOKEN: "asana-pat" }, () => jsonResponse(201, CREATED));
    expect(unset.requests).toHaveLength(0);
    expect(unset.delivery.status).toBe("failed");
    expect(unset.delivery.last_error).toContain("ASANA_PROJECT_ID");
    expect(unset.queue).toMatchObject({ acked: true, retried: false });
  });

  it("fails at once on a 400 and a 401, with Asana's messages", async () => {
    const invalid = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(400, {
        errors: [{ message: "projects: Not a recognized ID: 1204567890123456", help: "For more information on API status codes and how to handle them, read the docs on errors: https://developers.asana.com/docs/errors" }],
      }),
    );
    expect(invalid.delivery.status).toBe("failed");
    expect(invalid.delivery.last_error).toMatch(/^asana 400: projects: Not a recognized ID: 1204567890123456 — For more information/);
    expect(invalid.queue).toMatchObject({ acked: true, retried: false });

    const unauthorized = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(401, { errors: [{ message: "Not Authorized" }] }),
    );
    expect(unauthorized.delivery).toMatchObject({ status: "failed", last_error: "asana 401: Not Authorized" });
  });

  it("retries a 429 after its Retry-After and a 500", async () => {
    const limited = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(429, { errors: [{ message: "You've made too many requests and hit a rate limit. Please retry after the given amount of time." }] }, { "retry-after": "42" }),
    );
    expect(limited.delivery.status).toBe("retrying");
    expect(limited.queue).toMatchObject({ retried: true, retryDelay: 42 });

    const broken = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(500, { errors: [{ message: "Server Error", phrase: "6 sad squid snuggle softly" }] }),
    );
    expect(broken.delivery.status).toBe("retrying");
    expect(broken.queue.retried).toBe(true);
    expect(broken.delivery.last_error).toBe("asana 500: Server Error");
  });

  it("honours ASANA_BASE_URL", async () => {
    const run = await runAction(ACTION, { ...SETTINGS, ASANA_BASE_URL: "https://asana.test" }, () => jsonResponse(201, CREATED));
    expect(run.requests[0]!.url).toBe("https://asana.test/api/1.0/tasks");
  });
});
