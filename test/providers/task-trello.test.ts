import { describe, expect, it } from "vitest";
import { jsonResponse, runAction } from "./harness";

const ACTION = { type: "task", title: "Call back {{caller_name}}", notes: "{{summary}}", due_in_days: 2, provider: "trello" };
const SETTINGS = { TRELLO_API_KEY: "trello-key", TRELLO_TOKEN: "trello-token", TRELLO_LIST_ID: "5abbe4b7ddc1b351ef961414" };
const CREATED = { id: "5f1a2b3c4d5e6f7a8b9c0d1e", shortUrl: "https://trello.com/c/AbCdEfGh", name: "Call back John Smith" };

describe("trello", () => {
  it("creates a card with the key and token in the Authorization header and keeps its id", async () => {
    const run = await runAction(ACTION, SETTINGS, () => jsonResponse(200, CREATED));
    const req = run.requests[0]!;
    expect(req.method).toBe("POST");
    // No credentials in the URL.
    expect(req.url).toBe("https://api.trello.com/1/cards");
    expect(req.headers.get("authorization")).toBe('OAuth oauth_consumer_key="trello-key", oauth_token="trello-token"');
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(req.body)).toEqual({
      idList: "5abbe4b7ddc1b351ef961414",
      name: "Call back John Smith",
      desc: "Caller inquired about order #12345. Agent confirmed delivery date of March 15.",
      due: "2026-03-12T12:00:00.000Z",
    });
    expect(run.delivery).toMatchObject({ status: "delivered", provider: "trello" });
    expect(run.delivery.attempt_log[0]).toMatchObject({ provider: "trello", provider_id: "5f1a2b3c4d5e6f7a8b9c0d1e" });
  });

  it("fails at once on plain-text 401 and 400 answers", async () => {
    const badKey = await runAction(ACTION, SETTINGS, () => new Response("invalid key", { status: 401, headers: { "content-type": "text/plain" } }));
    expect(badKey.delivery).toMatchObject({ status: "failed", last_error: "trello 401: invalid key" });
    expect(badKey.queue).toMatchObject({ acked: true, retried: false });

    const badList = await runAction(ACTION, SETTINGS, () => new Response("invalid value for idList", { status: 400 }));
    expect(badList.delivery).toMatchObject({ status: "failed", last_error: "trello 400: invalid value for idList" });
  });

  it("retries a 429 (after Retry-After, else one rate-limit window) and a 500", async () => {
    const limited = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(429, { error: "API_TOKEN_LIMIT_EXCEEDED", message: "Rate limit exceeded" }, { "retry-after": "12" }),
    );
    expect(limited.delivery.status).toBe("retrying");
    expect(limited.queue).toMatchObject({ retried: true, retryDelay: 12 });
    expect(limited.delivery.last_error).toBe("trello 429: Rate limit exceeded");

    const windowed = await runAction(ACTION, SETTINGS, () =>
      jsonResponse(429, { error: "API_TOKEN_LIMIT_EXCEEDED", message: "Rate limit exceeded" }, {
        "x-rate-limit-api-token-interval-ms": "10000",
        "x-rate-limit-api-token-remaining": "0",
      }),
    );
    expect(windowed.queue).toMatchObject({ retried: true, retryDelay: 10 });

    const broken = await runAction(ACTION, SETTINGS, () => new Response("Internal Server Error", { status: 500 }));
    expect(broken.delivery.status).toBe("retrying");
    expect(broken.queue.retried).toBe(true);
  });

  it("honours TRELLO_BASE_URL", async () => {
    const run = await runAction(ACTION, { ...SETTINGS, TRELLO_BASE_URL: "https://trello.test/" }, () => jsonResponse(200, CREATED));
    expect(run.requests[0]!.url).toBe("https://trello.test/1/cards");
  });
});
