import { describe, expect, it } from "vitest";
import { ADMIN, SEED_CONFIG, request, uniqueId } from "./helpers";

describe("agent config API", () => {
  it("creates an agent from the seed's PATCH body verbatim", async () => {
    const id = uniqueId("agent");
    const res = await request("PATCH", `/agents/${id}`, SEED_CONFIG);
    expect(res.status).toBe(201);
    const agent = (await res.json()) as any;
    expect(agent.id).toBe(id);
    expect(agent.name).toBe(id);
    expect(agent.voice_tools.post_call_follow_up.enabled).toBe(true);
    expect(agent.voice_tools.post_call_follow_up.actions.map((a: any) => a.type)).toEqual(["sms", "webhook", "email"]);

    const again = await request("GET", `/agents/${id}`);
    expect(again.status).toBe(200);
    expect(((await again.json()) as any).voice_tools).toEqual(agent.voice_tools);
  });

  it("merges a patch (RFC 7396): objects merge, null removes, arrays replace", async () => {
    const id = uniqueId("agent");
    await request("PATCH", `/agents/${id}`, { name: "Acme Support", ...SEED_CONFIG });
    const res = await request("PATCH", `/agents/${id}`, { voice_tools: { post_call_follow_up: { enabled: false } } });
    expect(res.status).toBe(200);
    const agent = (await res.json()) as any;
    expect(agent.name).toBe("Acme Support");
    expect(agent.voice_tools.post_call_follow_up.enabled).toBe(false);
    expect(agent.voice_tools.post_call_follow_up.actions).toHaveLength(3);

    const replaced = (await (
      await request("PATCH", `/agents/${id}`, {
        voice_tools: { post_call_follow_up: { actions: [{ type: "sms", template: "Bye {{caller_name}}" }] } },
      })
    ).json()) as any;
    expect(replaced.voice_tools.post_call_follow_up.actions).toEqual([{ type: "sms", template: "Bye {{caller_name}}" }]);

    const renamed = (await (await request("PATCH", `/agents/${id}`, { name: null })).json()) as any;
    expect(renamed.name).toBe(id);
  });

  it("answers 422 problem+json naming every offending path, and stores nothing", async () => {
    const id = uniqueId("agent");
    const res = await request("PATCH", `/agents/${id}`, {
      voice_tools: {
        post_call_follow_up: {
          enabled: true,
          actions: [
            { type: "fax", number: "+1" },
            { type: "webhook", url: "not a url" },
            { type: "email", subject: "Hi {{caller_name}}", body: "x" },
            { type: "sms", template: "Hello {{favourite_colour}}" },
            { type: "webhook", url: "https://crm.example.com/hook", include_transcrpt: true },
          ],
        },
      },
    });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await res.json()) as any;
    expect(problem.status).toBe(422);
    const paths = problem.errors.map((e: any) => e.path);
    expect(paths).toContain("$.voice_tools.post_call_follow_up.actions[0].type");
    expect(paths).toContain("$.voice_tools.post_call_follow_up.actions[1].url");
    expect(paths).toContain("$.voice_tools.post_call_follow_up.actions[2].to");
    expect(paths).toContain("$.voice_tools.post_call_follow_up.actions[3].template");
    expect(paths).toContain("$.voice_tools.post_call_follow_up.actions[4].include_transcrpt");
    expect(problem.errors.find((e: any) => e.pointer === "/voice_tools/post_call_follow_up/actions/1/url")).toBeTruthy();
    expect((await request("GET", `/agents/${id}`)).status).toBe(404);
  });

  it("refuses templates with unknown variables, listing the allowed ones", async () => {
    const id = uniqueId("agent");
    const res = await request("PUT", `/agents/${id}`, {
      voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "sms", template: "Hi {favourite_colour}" }] } },
    });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as any;
    expect(problem.errors).toHaveLength(1);
    expect(problem.errors[0].path).toBe("$.voice_tools.post_call_follow_up.actions[0].template");
    expect(problem.errors[0].message).toContain("favourite_colour");
    expect(problem.errors[0].message).toContain("agent_name");
  });

  it("refuses webhook URLs on private, loopback and link-local addresses", async () => {
    for (const url of ["http://127.0.0.1:8080/hook", "http://10.0.0.7/hook", "http://169.254.169.254/latest", "http://[::1]/", "http://localhost/x"]) {
      const res = await request("PUT", `/agents/${uniqueId("agent")}`, {
        voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "webhook", url }] } },
      });
      expect(res.status, url).toBe(422);
      expect(((await res.json()) as any).errors[0].path).toBe("$.voice_tools.post_call_follow_up.actions[0].url");
    }
  });

  it("refuses an unknown built-in email body", async () => {
    const res = await request("PUT", `/agents/${uniqueId("agent")}`, {
      voice_tools: {
        post_call_follow_up: { enabled: true, actions: [{ type: "email", to: "{{caller_email}}", subject: "Hi", body_template: "nope" }] },
      },
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as any).errors[0].message).toContain("call_summary");
  });

  it("lists agents a page at a time and deletes them", async () => {
    const prefix = uniqueId("list");
    for (const n of [1, 2, 3]) await request("PUT", `/agents/${prefix}_${n}`, { name: `Agent ${n}` });
    const first = (await (await request("GET", `/agents?limit=2&cursor=${prefix}`)).json()) as any;
    expect(first.agents.map((a: any) => a.id)).toEqual([`${prefix}_1`, `${prefix}_2`]);
    const second = (await (await request("GET", `/agents?limit=2&cursor=${first.next_cursor}`)).json()) as any;
    expect(second.agents[0].id).toBe(`${prefix}_3`);

    expect((await request("DELETE", `/agents/${prefix}_1`)).status).toBe(204);
    expect((await request("GET", `/agents/${prefix}_1`)).status).toBe(404);
    expect((await request("DELETE", `/agents/${prefix}_1`)).status).toBe(404);
  });

  it("requires the admin key, with WWW-Authenticate, compared exactly", async () => {
    const none = await request("GET", "/agents", undefined, {});
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(none.headers.get("content-type")).toBe("application/problem+json");
    for (const token of ["test-admin-ke", "test-admin-key2", "TEST-ADMIN-KEY", "test-ingest-key"]) {
      expect((await request("GET", "/agents", undefined, { authorization: `Bearer ${token}` })).status).toBe(401);
    }
    expect((await request("GET", "/agents", undefined, ADMIN)).status).toBe(200);
  });

  it("refuses a patch that grows the templates past their bound, checked on the merged agent", async () => {
    const id = uniqueId("agent");
    const templates = (names: string[]) => Object.fromEntries(names.map((n) => [n, { html: "h".repeat(30_000), text: "t".repeat(30_000) }]));
    expect((await request("PATCH", `/agents/${id}`, { templates: templates(["a", "b", "c"]) })).status).toBe(201);
    const grown = await request("PATCH", `/agents/${id}`, { templates: templates(["d", "e"]) });
    expect(grown.status).toBe(422);
    const problem = (await grown.json()) as any;
    expect(problem.errors).toEqual([expect.objectContaining({ path: "$.templates", message: "the templates take more than 262144 characters as JSON" })]);
    expect(Object.keys(((await (await request("GET", `/agents/${id}`)).json()) as any).templates)).toEqual(["a", "b", "c"]);
  });

  it("refuses an agent whose JSON would outgrow its D1 row, naming its largest field", async () => {
    const id = uniqueId("agent");
    // Three-byte characters: each part within its own bound, the whole over 2,000,000 bytes.
    const wide = (n: number) => "€".repeat(n);
    const templates = (names: string[]) => Object.fromEntries(names.map((n) => [n, { html: wide(65_000), text: wide(65_000) }]));
    expect((await request("PATCH", `/agents/${id}`, { templates: templates(["a", "b"]) })).status).toBe(201);
    const sms = (n: number) => Array.from({ length: n }, () => ({ type: "sms", to: "+14155551234", template: wide(16_000) }));
    // Each body under MAX_BODY_BYTES, each part within its own bound; the agent they make is not.
    expect((await request("PATCH", `/agents/${id}`, { voice_tools: { post_call_follow_up: { enabled: true, actions: sms(16) } } })).status).toBe(200);
    const res = await request("PATCH", `/agents/${id}`, { voice_tools: { outbound_calls: { platform: { type: "simulator" }, fallback_actions: sms(10) } } });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as any;
    expect(problem.errors).toEqual([expect.objectContaining({ path: "$.voice_tools", message: expect.stringContaining("more than 1900000") })]);
  });

  it("answers bad bodies with 4xx problems, never 5xx", async () => {
    const id = uniqueId("agent");
    expect((await request("PATCH", `/agents/${id}`, "{not json")).status).toBe(400);
    expect((await request("PATCH", `/agents/${id}`, [1, 2])).status).toBe(422);
    const textBody = await request("PATCH", `/agents/${id}`, "x", { ...ADMIN, "content-type": "text/plain" });
    expect(textBody.status).toBe(415);
    expect((await request("GET", "/agents?limit=0")).status).toBe(422);
  });
});

describe("body limits on every body-taking route", () => {
  it("preview: JSON only (415), at most MAX_BODY_BYTES (413), and no body at all is fine", async () => {
    const id = uniqueId("agent");
    await request("PUT", `/agents/${id}`, {
      voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "webhook", url: "https://crm.example.com/hook" }] } },
    });
    const text = await request("POST", `/agents/${id}/preview`, '{"call":{}}', { ...ADMIN, "content-type": "text/plain" });
    expect(text.status).toBe(415);
    expect(text.headers.get("content-type")).toBe("application/problem+json");
    const huge = await request("POST", `/agents/${id}/preview`, { call: { transcript: "x".repeat(3_000_000) } });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as any).detail).toContain("MAX_BODY_BYTES");
    expect((await request("POST", `/agents/${id}/preview`)).status).toBe(200);
    expect((await request("POST", `/agents/${id}/preview`, { call: { summary: "hi" } })).status).toBe(200);
  });

  it("a JSON media type the framework's own gate refuses is 415, not a 500", async () => {
    const id = uniqueId("agent");
    for (const [method, type] of [["PATCH", "application/json; charset"], ["PUT", "application/vnd_acme+json"]] as const) {
      const res = await request(method, `/agents/${id}`, "{}", { ...ADMIN, "content-type": type });
      expect(res.status, `${method} ${type}`).toBe(415);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(((await res.json()) as any).type).toBe("https://callrelay.dev/problems/unsupported-media-type");
    }
    // Refused by the relay itself, with a detail saying what to send, not the framework's bare one.
    for (const type of ["application/json ; charset=utf-8", "application/vnd.api.v2+json"]) {
      const res = await request("PATCH", `/agents/${id}`, "{}", { ...ADMIN, "content-type": type });
      expect(res.status, type).toBe(415);
      expect(((await res.json()) as any).detail).toMatch(/^send Content-Type: application\/json/);
    }
    expect((await request("PATCH", `/agents/${id}`, "{}", { ...ADMIN, "content-type": "application/json; charset=utf-8" })).status).toBe(201);
  });
});
