import { describe, expect, it } from "vitest";
import { jsonResponse, runAction } from "./harness";

const ACTION = {
  type: "task",
  title: "Call back {{caller_name}}",
  notes: "{{summary}}\n\n{{details_list}}\nOrder {{metadata.order_id}}",
  due_in_days: 2,
  provider: "jira",
};
const SETTINGS = {
  JIRA_BASE_URL: "https://acme.atlassian.net/",
  JIRA_EMAIL: "ops@acme.example",
  JIRA_API_TOKEN: "jira-token",
  JIRA_PROJECT_KEY: "SUP",
};
const CREATED = { id: "10042", key: "SUP-42", self: "https://acme.atlassian.net/rest/api/3/issue/10042" };

describe("jira", () => {
  it("creates an issue with an ADF description and keeps its key", async () => {
    const run = await runAction(ACTION, SETTINGS, () => jsonResponse(201, CREATED));
    const req = run.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://acme.atlassian.net/rest/api/3/issue");
    expect(req.headers.get("authorization")).toBe(`Basic ${btoa("ops@acme.example:jira-token")}`);
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(req.body)).toEqual({
      fields: {
        project: { key: "SUP" },
        summary: "Call back John Smith",
        issuetype: { name: "Task" },
        description: {
          type: "doc",
          version: 1,
          content: [
            { type: "paragraph", content: [{ type: "text", text: "Caller inquired about order #12345. Agent confirmed delivery date of March 15." }] },
            { type: "paragraph", content: [{ type: "text", text: "Delivery date: March 15" }] },
            { type: "paragraph", content: [{ type: "text", text: "Order 12345" }] },
          ],
        },
        duedate: "2026-03-12",
      },
    });
    expect(run.delivery).toMatchObject({ status: "delivered", provider: "jira" });
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider: "jira", provider_id: "SUP-42" });
  });

  it("uses JIRA_ISSUE_TYPE, leaves out an empty description and clips the summary to 255 characters", async () => {
    const run = await runAction(
      { type: "task", title: "Call back {{caller_name}}", provider: "jira" },
      { ...SETTINGS, JIRA_ISSUE_TYPE: "Bug" },
      () => jsonResponse(201, CREATED),
      { metadata: { caller_name: "x".repeat(300) } },
    );
    const fields = JSON.parse(run.requests[0]!.body).fields;
    expect(fields.issuetype).toEqual({ name: "Bug" });
    expect(fields).not.toHaveProperty("description");
    expect(fields).not.toHaveProperty("duedate");
    expect(fields.summary).toHaveLength(255);
  });

  it("fails at once on a 400 with both kinds of message, and on a 401", async () => {
    const invalid = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(400, {
        errorMessages: ["Issue type is required."],
        errors: { duedate: "Field 'duedate' cannot be set. It is not on the appropriate screen, or unknown." },
      }),
    );
    expect(invalid.delivery.status).toBe("failed");
    expect(invalid.delivery.last_error).toBe(
      "jira 400: Issue type is required.; duedate: Field 'duedate' cannot be set. It is not on the appropriate screen, or unknown.",
    );
    expect(invalid.queue).toMatchObject({ acked: true, retried: false });

    const unauthorized = await runAction(ACTION, SETTINGS, () =>
      new Response("Client must be authenticated to access this resource.", { status: 401, headers: { "content-type": "text/html" } }),
    );
    expect(unauthorized.delivery).toMatchObject({
      status: "failed",
      last_error: "jira 401: Client must be authenticated to access this resource.",
    });
  });

  it("retries a 429 after its Retry-After (or its ISO X-RateLimit-Reset) and a 503", async () => {
    const limited = await runAction(ACTION, SETTINGS, () => new Response("", { status: 429, headers: { "retry-after": "25" } }));
    expect(limited.delivery.status).toBe("retrying");
    expect(limited.queue).toMatchObject({ retried: true, retryDelay: 25 });

    const reset = new Date(Date.now() + 90_000).toISOString();
    const byReset = await runAction(ACTION, SETTINGS, () => new Response("", { status: 429, headers: { "x-ratelimit-reset": reset } }));
    expect(byReset.queue.retryDelay).toBeGreaterThanOrEqual(88);
    expect(byReset.queue.retryDelay).toBeLessThanOrEqual(91);

    const down = await runAction(ACTION, SETTINGS, () => new Response("", { status: 503 }));
    expect(down.delivery.status).toBe("retrying");
    expect(down.queue.retried).toBe(true);
  });

  it("fails clearly when JIRA_BASE_URL is not a URL", async () => {
    const run = await runAction(ACTION, { ...SETTINGS, JIRA_BASE_URL: "acme" }, () => jsonResponse(201, CREATED));
    expect(run.requests).toHaveLength(0);
    expect(run.delivery.status).toBe("failed");
    expect(run.delivery.last_error).toContain("JIRA_BASE_URL");
  });
});
