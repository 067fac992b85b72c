import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { INGEST } from "../helpers";

/**
 * Deny by default: every operation in the OpenAPI document answers 401 without the admin
 * key, except the few that are public or carry their own auth. A route added without
 * `adminRoute()` fails here.
 */
const PUBLIC = new Set([
  "GET /healthz",
  "GET /openapi.json",
  "GET /docs",
  // Ingest authenticates with the ingest key or a signature (test/ingest.test.ts).
  "POST /calls/ended",
  "POST /calls/ended/vapi",
  "POST /calls/ended/retell",
  "POST /calls/ended/bland",
  "POST /calls/ended/elevenlabs",
  // A trigger's URL authenticates with the trigger's own secret (test/outbound/triggers.test.ts).
  "POST /hooks/{trigger_id}",
]);

const METHODS = ["get", "put", "post", "delete", "patch"] as const;

interface Operation {
  key: string;
  method: string;
  path: string;
  security?: Record<string, string[]>[];
  hasBody: boolean;
}

async function operations(): Promise<Operation[]> {
  const doc = (await (await SELF.fetch("https://relay.test/openapi.json")).json()) as {
    paths: Record<string, Record<string, { security?: Record<string, string[]>[]; requestBody?: unknown }>>;
  };
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({
      key: `${m.toUpperCase()} ${path}`,
      method: m.toUpperCase(),
      path,
      security: item[m]!.security,
      hasBody: item[m]!.requestBody !== undefined,
    })),
  );
}

function send(op: Operation, headers: Record<string, string>) {
  const path = op.path.replace(/\{[^}]+\}/g, "dummy_id");
  return SELF.fetch(`https://relay.test${path}`, {
    method: op.method,
    headers: op.hasBody ? { ...headers, "content-type": "application/json" } : headers,
    body: op.hasBody ? "{}" : undefined,
  });
}

describe("admin routes deny by default", async () => {
  const ops = (await operations()).filter((op) => !PUBLIC.has(op.key));

  it("walks the whole API", () => {
    const keys = ops.map((op) => op.key);
    for (const expected of [
      "GET /agents",
      "PATCH /agents/{agent_id}",
      "POST /agents/{agent_id}/preview",
      "POST /agents/{agent_id}/webhook-secret",
      "DELETE /agents/{agent_id}/ingest-key",
      "GET /deliveries",
      "GET /outbox",
    ]) {
      expect(keys).toContain(expected);
    }
  });

  it.each(ops.map((op) => [op.key, op] as const))("%s declares the admin key", (_key, op) => {
    expect(op.security).toEqual([{ adminKey: [] }]);
  });

  it.each(ops.map((op) => [op.key, op] as const))("%s answers 401 without a key", async (_key, op) => {
    const res = await send(op, {});
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="callrelay admin"/);
  });

  it.each(ops.map((op) => [op.key, op] as const))("%s answers 401 to the ingest key", async (_key, op) => {
    expect((await send(op, INGEST)).status).toBe(401);
  });
});
