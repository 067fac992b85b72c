import { describe, expect, it } from "vitest";
import { jsonResponse, runAction } from "./harness";

const TASK = { type: "task", title: "Call back {{caller_name}}" };

describe("task provider choice", () => {
  it("picks the provider whose credentials are set when the action names none", async () => {
    const cases: [string, Record<string, string>, Response, string][] = [
      ["todoist", { TODOIST_API_TOKEN: "t" }, jsonResponse(200, { id: "td1" }), "https://api.todoist.com/api/v1/tasks"],
      ["linear", { LINEAR_API_KEY: "k", LINEAR_TEAM_ID: "team" }, jsonResponse(200, { data: { issueCreate: { success: true, issue: { id: "u1", identifier: "ENG-1" } } } }), "https://api.linear.app/graphql"],
      ["hubspot", { HUBSPOT_ACCESS_TOKEN: "pat" }, jsonResponse(201, { id: "hs1" }), "https://api.hubapi.com/crm/v3/objects/tasks"],
    ];
    for (const [name, settings, response, url] of cases) {
      const run = await runAction(TASK, settings, () => response);
      expect(run.requests.map((r) => r.url), name).toEqual([url]);
      expect(run.delivery, name).toMatchObject({ status: "delivered", provider: name });
    }
  });

  it("follows TASK_PROVIDER over the catalogue order", async () => {
    const settings = {
      TODOIST_API_TOKEN: "t",
      TRELLO_API_KEY: "k",
      TRELLO_TOKEN: "t",
      TRELLO_LIST_ID: "l",
      TASK_PROVIDER: "trello",
    };
    const run = await runAction(TASK, settings, () => jsonResponse(200, { id: "card1" }));
    expect(run.requests[0]!.url).toBe("https://api.trello.com/1/cards");
    expect(run.delivery).toMatchObject({ status: "delivered", provider: "trello" });
    expect(run.delivery.attempt_log[0].provider_id).toBe("card1");
  });

  it("refuses a named provider that is not configured rather than falling back", async () => {
    const run = await runAction({ ...TASK, provider: "jira" }, { TODOIST_API_TOKEN: "t" }, () => jsonResponse(200, {}));
    expect(run.requests).toHaveLength(0);
    expect(run.delivery.status).toBe("failed");
    expect(run.delivery.last_error).toContain("JIRA_BASE_URL");
  });
});
