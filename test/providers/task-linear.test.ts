import { describe, expect, it } from "vitest";
import { issueIdFor, linear } from "../../src/providers/task/linear";
import { jsonResponse, runAction } from "./harness";

const ACTION = { type: "task", title: "Call back {{caller_name}}", notes: "{{summary}}", due_in_days: 2, provider: "linear" };
const TEAM = "9cfb482a-81e3-4154-b5b9-2c805e70a02d";
const SETTINGS = { LINEAR_API_KEY: "lin_api_personal", LINEAR_TEAM_ID: TEAM };
const CREATED = {
  data: {
    issueCreate: {
      success: true,
      issue: { id: "a3b1c2d4-0000-4000-8000-000000000001", identifier: "ENG-123", url: "https://linear.app/acme/issue/ENG-123" },
    },
  },
};

describe("linear", () => {
  it("runs the issueCreate mutation with a bare personal key and keeps the identifier", async () => {
    const run = await runAction(ACTION, SETTINGS, () => jsonResponse(200, CREATED));
    const req = run.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://api.linear.app/graphql");
    expect(req.headers.get("authorization")).toBe("lin_api_personal");
    expect(req.headers.get("content-type")).toBe("application/json");
    const body = JSON.parse(req.body);
    expect(body.query).toMatch(/^mutation IssueCreate\(\$input: IssueCreateInput!\) \{ issueCreate\(input: \$input\) \{ success issue \{ id identifier url \} \} \}$/);
    expect(body.variables).toEqual({
      input: {
        // Derived from the idempotency key (the delivery id in the first round), so every retry names the same issue.
        id: await issueIdFor(run.delivery.id),
        teamId: TEAM,
        title: "Call back John Smith",
        description: "Caller inquired about order #12345. Agent confirmed delivery date of March 15.",
        dueDate: "2026-03-12",
      },
    });
    expect(run.delivery).toMatchObject({ status: "delivered", provider: "linear" });
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider: "linear", provider_id: "ENG-123" });
  });

  it("derives the issue id from the idempotency key: a v4-format UUID, the same for the same key", async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const first = await issueIdFor("dlv_0123456789abcdef01234567");
    expect(first).toMatch(uuid);
    expect(await issueIdFor("dlv_0123456789abcdef01234567")).toBe(first);
    expect(await issueIdFor("dlv_0123456789abcdef01234567-r1")).not.toBe(first);
    expect(linear.dedupes).toBe(true);
    const request = await linear.buildRequest({ title: "t" }, { delivery_id: "d", idempotency_key: "dlv_0123456789abcdef01234567", settings: SETTINGS });
    expect(JSON.parse(request.body).variables.input.id).toBe(first);
  });

  it("counts an answer that the issue id already exists as delivered: an earlier attempt created it", async () => {
    const run = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(200, {
        errors: [
          {
            message: "Entity already exists",
            extensions: { code: "INVALID_INPUT", type: "invalid input", userError: true, userPresentableMessage: "An issue with this id already exists." },
          },
        ],
        data: null,
      }),
    );
    expect(run.delivery.status).toBe("delivered");
    expect(run.delivery.attempt_log[0].detail).toMatch(/^issue already created by an earlier attempt/);
    expect(run.queue).toMatchObject({ acked: true, retried: false });

    // Another error alongside it is not explained by an earlier attempt.
    const mixed = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(200, { errors: [{ message: "duplicate id" }, { message: "teamId must be a UUID." }], data: null }),
    );
    expect(mixed.delivery.status).toBe("failed");
  });

  it("sends OAuth tokens as Bearer", async () => {
    const run = await runAction(ACTION, { ...SETTINGS, LINEAR_API_KEY: "lin_oauth_abc" }, () => jsonResponse(200, CREATED));
    expect(run.requests[0]!.headers.get("authorization")).toBe("Bearer lin_oauth_abc");
  });

  it("fails on a GraphQL error inside a 200, on success: false and on a 400", async () => {
    const invalid = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(200, {
        errors: [
          {
            message: "Argument Validation Error",
            extensions: { code: "INVALID_INPUT", type: "invalid input", userError: true, userPresentableMessage: "teamId must be a UUID." },
          },
        ],
        data: null,
      }),
    );
    expect(invalid.delivery.status).toBe("failed");
    expect(invalid.delivery.last_error).toBe("linear 200: teamId must be a UUID. [INVALID_INPUT]");
    expect(invalid.queue).toMatchObject({ acked: true, retried: false });

    const refused = await runAction(ACTION, SETTINGS, () => jsonResponse(200, { data: { issueCreate: { success: false, issue: null } } }));
    expect(refused.delivery.status).toBe("failed");
    expect(refused.delivery.last_error).toContain("success: false");

    const unauthenticated = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(400, {
        errors: [{ message: "Authentication required, not authenticated", extensions: { code: "AUTHENTICATION_ERROR", type: "authentication error" } }],
      }),
    );
    expect(unauthenticated.delivery).toMatchObject({
      status: "failed",
      last_error: "linear 400: Authentication required, not authenticated [AUTHENTICATION_ERROR]",
    });
    expect(unauthenticated.queue).toMatchObject({ acked: true, retried: false });
  });

  it("retries RATELIMITED until the limit resets, and a 5xx", async () => {
    const reset = Date.now() + 120_000;
    const limited = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(
        400,
        { errors: [{ message: "Rate limit exceeded", extensions: { code: "RATELIMITED", type: "ratelimited" } }] },
        { "x-ratelimit-requests-remaining": "0", "x-ratelimit-requests-reset": String(reset) },
      ),
    );
    expect(limited.delivery.status).toBe("retrying");
    expect(limited.queue.retried).toBe(true);
    expect(limited.queue.retryDelay).toBeGreaterThanOrEqual(118);
    expect(limited.queue.retryDelay).toBeLessThanOrEqual(121);

    const tooMany = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(429, { errors: [{ message: "Too many requests" }] }, { "retry-after": "15" }),
    );
    expect(tooMany.delivery.status).toBe("retrying");
    expect(tooMany.queue).toMatchObject({ retried: true, retryDelay: 15 });

    const down = await runAction(ACTION, SETTINGS, () => new Response("upstream connect error", { status: 502 }));
    expect(down.delivery.status).toBe("retrying");
    expect(down.queue.retried).toBe(true);
  });

  it("honours LINEAR_BASE_URL", async () => {
    const run = await runAction(ACTION, { ...SETTINGS, LINEAR_BASE_URL: "https://linear.test/" }, () => jsonResponse(200, CREATED));
    expect(run.requests[0]!.url).toBe("https://linear.test/graphql");
  });
});
