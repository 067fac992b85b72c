import { env } from "cloudflare:test";
import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { problemForStatus } from "../src/errors";

describe("problemForStatus", () => {
  it("keeps the app's own type and title where it has a code for the status", () => {
    expect(problemForStatus(415, "Unsupported Media Type")).toMatchObject({
      type: "https://callrelay.dev/problems/unsupported-media-type",
      title: "Unsupported Media Type",
      status: 415,
    });
    expect(problemForStatus(400, "Malformed JSON in request body").type).toBe("https://callrelay.dev/problems/invalid-json");
    expect(problemForStatus(429, "slow down").title).toBe("Too Many Requests");
  });

  it("falls back to about:blank with the reason phrase", () => {
    expect(problemForStatus(400, "Malformed FormData request.")).toEqual({
      type: "about:blank",
      title: "Bad Request",
      status: 400,
      detail: "Malformed FormData request.",
    });
    expect(problemForStatus(405, "")).toEqual({ type: "about:blank", title: "Method Not Allowed", status: 405, detail: "Method Not Allowed" });
    expect(problemForStatus(499, "x").title).toBe("Client Error");
  });
});

describe("framework errors", () => {
  it.each([400, 401, 403, 405, 408, 413, 415, 422, 429, 431, 451, 504])("an HTTPException(%i) answers that status as problem+json", async (status) => {
    const app = createApp();
    app.get("/boom", () => {
      throw new HTTPException(status as 400, { message: "raised by a framework" });
    });
    const res = await app.request("/boom", {}, env);
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ status, detail: "raised by a framework" });
  });

  it("keeps a challenge header from the exception's own response", async () => {
    const app = createApp();
    app.get("/boom", () => {
      throw new HTTPException(401, { res: new Response(null, { status: 401, headers: { "www-authenticate": 'Bearer realm="x"' } }) });
    });
    const res = await app.request("/boom", {}, env);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="x"');
  });
});
