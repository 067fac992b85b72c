import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { TEMPLATE_VARIABLES } from "../src/schemas/agent";
import { DETAILS_LIST_FIELDS, OBJECT_VARIABLES } from "../src/templates/context";

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {});
const METHODS = ["get", "put", "post", "patch", "delete", "head", "options"];

async function openapi(): Promise<Json> {
  const res = await SELF.fetch("https://relay.test/openapi.json");
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

/** Every operation of a paths-like object (paths or webhooks), as "METHOD name". */
function operations(items: unknown): [string, Json][] {
  return Object.entries(obj(items)).flatMap(([path, item]) =>
    METHODS.filter((m) => m in obj(item)).map((m) => [`${m.toUpperCase()} ${path}`, obj(obj(item)[m])] as [string, Json]),
  );
}

/** Whether a media type has an example, on itself or on its schema (following $ref into components). */
function hasExample(media: Json, doc: Json): boolean {
  if (media.example !== undefined || Object.keys(obj(media.examples)).length > 0) return true;
  let schema = obj(media.schema);
  for (let hops = 0; typeof schema.$ref === "string" && hops < 10; hops++) {
    const ref = schema.$ref;
    if (!ref.startsWith("#/")) return false;
    schema = obj(ref.slice(2).split("/").reduce<unknown>((at, key) => obj(at)[key], doc));
  }
  return schema.example !== undefined || (Array.isArray(schema.examples) && schema.examples.length > 0);
}

const jsonMedia = (content: unknown) => Object.entries(obj(content)).filter(([type]) => /json/i.test(type));

describe("the OpenAPI document describes itself", () => {
  it("gives every operation a summary and a description", async () => {
    const doc = await openapi();
    const ops = [...operations(doc.paths), ...operations(doc.webhooks)];
    expect(ops.length).toBeGreaterThan(10);
    const lacking = ops.filter(([, op]) => !op.summary || !op.description).map(([name]) => name);
    expect(lacking).toEqual([]);
  });

  it("gives every JSON request body and every 2xx JSON response an example", async () => {
    const doc = await openapi();
    const missing: string[] = [];
    for (const [name, op] of [...operations(doc.paths), ...operations(doc.webhooks)]) {
      for (const [type, media] of jsonMedia(obj(op.requestBody).content)) {
        if (!hasExample(obj(media), doc)) missing.push(`${name} request ${type}`);
      }
      for (const [status, response] of Object.entries(obj(op.responses))) {
        if (!/^2/.test(status)) continue;
        for (const [type, media] of jsonMedia(obj(response).content)) {
          if (!hasExample(obj(media), doc)) missing.push(`${name} ${status} ${type}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it("lists the body's refusals on every operation that takes one, and a trigger's deleted agent", async () => {
    const doc = await openapi();
    const lacking: string[] = [];
    for (const [name, op] of operations(doc.paths)) {
      if (jsonMedia(obj(op.requestBody).content).length === 0) continue;
      for (const status of ["400", "413", "415", "422"]) if (!(status in obj(op.responses))) lacking.push(`${name} ${status}`);
    }
    expect(lacking).toEqual([]);
    expect(Object.keys(obj(obj(obj(obj(doc.paths)["/hooks/{trigger_id}"]).post).responses))).toContain("409");
  });

  it("describes the outbound post_call_follow_up webhook with its signature headers", async () => {
    const doc = await openapi();
    const webhook = obj(obj(obj(doc.webhooks).post_call_follow_up).post);
    expect(webhook.summary).toBeTruthy();
    const headers = (Array.isArray(webhook.parameters) ? webhook.parameters : []).map((p) => obj(p)).filter((p) => p.in === "header");
    expect(headers.map((p) => p.name).sort()).toEqual(["webhook-id", "webhook-signature", "webhook-timestamp"]);
    const body = obj(obj(obj(obj(webhook.requestBody).content)["application/json"]).schema);
    expect(body.$ref).toBe("#/components/schemas/PostCallFollowUpWebhook");
    const schema = obj(obj(obj(doc.components).schemas).PostCallFollowUpWebhook);
    expect(Object.keys(obj(schema.properties))).toEqual(
      expect.arrayContaining(["event", "call_id", "agent_id", "caller_number", "summary", "metadata"]),
    );
  });

  it("lists every template variable in the agent schema", async () => {
    const doc = await openapi();
    const schemas = obj(obj(doc.components).schemas);
    const config = obj(schemas.AgentConfig);
    expect(config["x-template-variables"]).toEqual([...TEMPLATE_VARIABLES]);
    const sms = obj(obj(obj(schemas.SmsAction).properties).template);
    for (const name of TEMPLATE_VARIABLES) expect(String(sms.description)).toContain(name);
    for (const name of [...OBJECT_VARIABLES, ...DETAILS_LIST_FIELDS]) expect(String(sms.description)).toContain(`{{${name}`);
  });
});

describe("/docs", () => {
  it("serves a reference page that needs nothing from the internet", async () => {
    const res = await SELF.fetch("https://relay.test/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link[^>]+href=/i);
    expect(html).not.toMatch(/\s(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(/i);
    // It is the reference: every operation, the webhook and the schemas are on it.
    const doc = await openapi();
    for (const [name] of operations(doc.paths)) expect(html).toContain(name.split(" ")[1]!.replace(/&/g, "&amp;"));
    expect(html).toContain("post_call_follow_up");
    expect(html).toContain('id="schema-AgentConfig"');
  });
});
