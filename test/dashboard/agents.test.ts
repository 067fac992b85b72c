import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { configOf } from "../../src/dashboard/agents/draft";
import worker from "../../src/index";
import type { Job } from "../../src/ledger/plan";
import { SEED_CONFIG, callEvent, pendingJobs, postEvent, putAgent, request, uniqueId } from "../helpers";
import { type Session, page, signIn, submit } from "./session";

type Fields = [string, string][];

const decode = (s: string) => s.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&amp;", "&");
const attributes = (tag: string) => Object.fromEntries([...tag.matchAll(/([a-z][\w-]*)(?:="([^"]*)")?/g)].slice(1).map((m) => [m[1]!, decode(m[2] ?? "")]));

/**
 * The fields the agent page's form would send as they stand, as a browser collects them: inputs
 * (checked checkboxes only), textareas (less the one leading newline the parser drops), selected
 * options. Buttons and the CSRF token are left out: `submit` adds the token, a test the button.
 */
function formFields(html: string): Fields {
  const form = html.slice(html.indexOf('<form method="post" action="/dashboard/agents/'));
  const body = form.slice(0, form.indexOf("</form>"));
  const fields: Fields = [];
  for (const m of body.matchAll(/<input\b[^>]*>|<textarea\b([^>]*)>([\s\S]*?)<\/textarea>|<select\b([^>]*)>([\s\S]*?)<\/select>/g)) {
    if (m[0].startsWith("<input")) {
      const a = attributes(m[0]);
      if (!a.name || a.name === "_csrf" || (a.type === "checkbox" && !("checked" in a))) continue;
      fields.push([a.name, a.type === "checkbox" ? (a.value ?? "on") : (a.value ?? "")]);
    } else if (m[0].startsWith("<textarea")) {
      fields.push([attributes(`<textarea${m[1]}>`).name!, decode(m[2]!).replace(/^\n/, "")]);
    } else {
      const options = [...m[4]!.matchAll(/<option\b[^>]*>/g)].map((o) => attributes(o[0]));
      const chosen = options.find((o) => "selected" in o) ?? options[0];
      fields.push([attributes(`<select${m[3]}>`).name!, chosen?.value ?? ""]);
    }
  }
  return fields;
}

/** The fields with `name` set to `value` (added when absent), or removed when `value` is null. */
function withField(fields: Fields, name: string, value: string | null): Fields {
  const rest = fields.filter(([n]) => n !== name);
  return value === null ? rest : [...rest, [name, value]];
}

const agentPath = (id: string) => `/dashboard/agents/${id}`;

async function openAgent(session: Session, id: string) {
  const res = await page(session, agentPath(id));
  expect(res.status).toBe(200);
  return res.text();
}

/** The markup of the paragraph with this id (a hint or a field's problems), tags kept. */
const elementText = (html: string, id: string) => {
  const at = html.indexOf(`<p class="${id.endsWith("-hint") ? "hint" : "error"}" id="${id}"`);
  return at === -1 ? null : html.slice(at, html.indexOf("</p>", at));
};

const actionTypes = (html: string) => [...html.matchAll(/name="actions\[\d+\]\[type\]" value="([^"]*)"/g)].map((m) => m[1]);

async function apiAgent(id: string) {
  const res = await request("GET", `/agents/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as any;
}

describe("dashboard: agents", () => {
  it("lists agents with follow-up, actions, outbound platform and a 24 h success rate column", async () => {
    const session = await signIn();
    const id = uniqueId("agent_list");
    await putAgent(id, { name: "Listed Support", ...SEED_CONFIG });
    const outbound = uniqueId("agent_list");
    await putAgent(outbound, { voice_tools: { outbound_calls: { platform: { type: "simulator" } } } });

    // The list is ordered by id: the page after "agent_list" starts with this test's agents.
    const res = await page(session, "/dashboard/agents?cursor=agent_list");
    expect(res.status).toBe(200);
    const html = await res.text();
    const row = html.slice(html.indexOf(`href="/dashboard/agents/${id}"`));
    const cells = row.slice(0, row.indexOf("</tr>"));
    expect(cells).toContain("Listed Support");
    expect(cells).toContain('<span class="badge ok">On</span>');
    expect(cells).toMatch(/<td>3<\/td>/);
    expect(cells).toMatch(/<td>—<\/td>/);
    expect(cells).toContain("no settled deliveries in the last 24 hours");
    const other = html.slice(html.indexOf(`href="/dashboard/agents/${outbound}"`));
    expect(other.slice(0, other.indexOf("</tr>"))).toMatch(/<td>simulator<\/td>/);
    expect(html).toContain("Success rate (24 h)");
  });

  it("shows an agent's 24 h success rate once its deliveries settle", async () => {
    const session = await signIn();
    const id = uniqueId("agent_rate");
    await putAgent(id, { voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "sms", template: "Thanks {{caller_name}}" }] } } });
    const event = callEvent({ agent_id: id });
    expect((await postEvent(event)).status).toBe(202);
    const jobs = await pendingJobs(id, event.call_id);
    const batch = createMessageBatch<Job>("actions", jobs.map((body, i) => ({ id: `msg-${i}`, timestamp: new Date(), attempts: 1, body })));
    const ctx = createExecutionContext();
    await worker.queue!(batch as MessageBatch, env, ctx);
    await getQueueResult(batch, ctx);
    // The log (and its rollup) is written just after the result: read until it shows.
    let cells = "";
    for (let i = 0; i < 50 && !cells.includes("100%"); i++) {
      const html = await (await page(session, "/dashboard/agents?cursor=agent_rate")).text();
      const row = html.slice(html.indexOf(`href="/dashboard/agents/${id}"`));
      cells = row.slice(0, row.indexOf("</tr>"));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(cells).toContain('<span title="1 settled">100%</span>');
  });

  it("pages through the list with the store's cursor", async () => {
    const session = await signIn();
    for (let i = 0; i < 51; i++) await putAgent(`agent_zz_page_${String(i).padStart(3, "0")}`, { voice_tools: {} });
    const first = await (await page(session, "/dashboard/agents?cursor=agent_zz_page_")).text();
    const next = first.match(/href="\/dashboard\/agents\?cursor=([^"]+)">\s*Next page/)?.[1];
    expect(next).toBe("agent_zz_page_049");
    const second = await (await page(session, `/dashboard/agents?cursor=${next}`)).text();
    expect(second).toContain("agent_zz_page_050");
    expect(second).not.toContain("agent_zz_page_049<");
    expect((await page(session, "/dashboard/agents?cursor=%3Cx%3E")).status).toBe(400);
  });

  it("shows the seed agent's three actions with their fields, and the template variables beside each template", async () => {
    const session = await signIn();
    const id = uniqueId("agent");
    await putAgent(id, { name: "Acme Support", ...SEED_CONFIG });
    const html = await openAgent(session, id);
    expect(html).toContain("Voice Settings");
    expect(html).toContain("Post-Call Follow-Up");
    expect(actionTypes(html)).toEqual(["sms", "webhook", "email"]);
    const fields = new Map(formFields(html));
    expect(fields.get("enabled")).toBe("on");
    expect(fields.get("actions[0][template]")).toBe("Thanks for calling {agent_name}! Your reference number is {call_id}.");
    expect(fields.get("actions[1][url]")).toBe("https://your-crm.com/api/call-completed");
    expect(fields.get("actions[1][include_transcript]")).toBe("on");
    expect(fields.get("actions[2][to]")).toBe("{caller_email}");
    expect(fields.get("actions[2][subject]")).toBe("Your call summary — {date}");
    expect(fields.get("actions[2][body_template]")).toBe("call_summary");
    // Every input has a label.
    for (const m of html.matchAll(/<(?:input|textarea|select)\b[^>]*\bid="([^"]+)"/g)) {
      if (m[0].includes('type="checkbox"')) continue;
      expect(html, m[1]).toContain(`for="${m[1]}"`);
    }
    // The variables are listed beside each template field, which names them.
    const hint = elementText(html, "f-actions-0-template-hint")!;
    for (const variable of ["agent_name", "call_id", "caller_name", "summary", "details_list"]) expect(hint).toContain(`{{${variable}}}`);
    expect(html).toMatch(/id="f-actions-2-subject"[^>]*aria-describedby="f-actions-2-subject-hint"/);
  });

  it("enables follow-up and adds an SMS action through the form; Save stores it like PATCH", async () => {
    const session = await signIn();
    const id = uniqueId("agent");
    await putAgent(id, { name: "Quiet", voice_tools: { post_call_follow_up: { enabled: false, actions: [] } } });
    let html = await openAgent(session, id);
    expect(actionTypes(html)).toEqual([]);

    const added = await submit(session, agentPath(id), [...formFields(html), ["new_type", "sms"], ["op", "add"]]);
    expect(added.status).toBe(200);
    html = await added.text();
    expect(actionTypes(html)).toEqual(["sms"]);
    expect((await apiAgent(id)).voice_tools.post_call_follow_up.actions).toEqual([]);

    let fields = withField(formFields(html), "enabled", "on");
    fields = withField(fields, "actions[0][template]", "Thanks {{caller_name}}, we got it.");
    fields = withField(fields, "actions[0][when]", "confirmed, reschedule_requested");
    const saved = await submit(session, agentPath(id), [...fields, ["op", "save"]]);
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe(`${agentPath(id)}?notice=Saved`);

    const agent = await apiAgent(id);
    expect(agent.name).toBe("Quiet");
    expect(agent.voice_tools.post_call_follow_up).toEqual({
      enabled: true,
      actions: [{ type: "sms", template: "Thanks {{caller_name}}, we got it.", when: ["confirmed", "reschedule_requested"] }],
    });
    const after = await (await page(session, `${agentPath(id)}?notice=Saved`)).text();
    expect(after).toMatch(/<p class="notice" role="status">Saved<\/p>/);
    // Only known notices: the query string cannot write on the page.
    expect(await (await page(session, `${agentPath(id)}?notice=Pay+here`)).text()).not.toContain("Pay here");
  });

  it("shows an invalid template's problem next to its field, keeps what was typed, and saves nothing", async () => {
    const session = await signIn();
    const id = uniqueId("agent");
    await putAgent(id, { name: "Acme Support", ...SEED_CONFIG });
    const before = await apiAgent(id);
    let fields = withField(formFields(await openAgent(session, id)), "actions[2][subject]", "Hello {{favourite_colour}}");
    fields = withField(fields, "actions[1][url]", "");
    const res = await submit(session, agentPath(id), [...fields, ["op", "save"]]);
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(elementText(html, "f-actions-2-subject-error")).toMatch(/favourite_colour/);
    expect(elementText(html, "f-actions-1-url-error")).toMatch(/required/);
    expect(html).toMatch(/id="f-actions-2-subject"[^>]*aria-describedby="f-actions-2-subject-hint f-actions-2-subject-error"[^>]*aria-invalid="true"/);
    expect(new Map(formFields(html)).get("actions[2][subject]")).toBe("Hello {{favourite_colour}}");
    expect(html).toContain("Not saved: 2 problems");
    expect(html).toContain('href="#f-actions-2-subject"');
    expect(await apiAgent(id)).toEqual(before);
  });

  it("moves an action up and removes one without saving, then saves the new order", async () => {
    const session = await signIn();
    const id = uniqueId("agent");
    await putAgent(id, { name: "Acme Support", ...SEED_CONFIG });
    const moved = await submit(session, agentPath(id), [...formFields(await openAgent(session, id)), ["op", "up:1"]]);
    let html = await moved.text();
    expect(actionTypes(html)).toEqual(["webhook", "sms", "email"]);
    expect(new Map(formFields(html)).get("actions[0][url]")).toBe("https://your-crm.com/api/call-completed");
    html = await (await submit(session, agentPath(id), [...formFields(html), ["op", "down:0"]])).text();
    expect(actionTypes(html)).toEqual(["sms", "webhook", "email"]);
    html = await (await submit(session, agentPath(id), [...formFields(html), ["op", "up:1"]])).text();
    html = await (await submit(session, agentPath(id), [...formFields(html), ["op", "remove:1"]])).text();
    expect(actionTypes(html)).toEqual(["webhook", "email"]);
    expect((await apiAgent(id)).voice_tools.post_call_follow_up.actions.map((a: any) => a.type)).toEqual(["sms", "webhook", "email"]);

    expect((await submit(session, agentPath(id), [...formFields(html), ["op", "save"]])).status).toBe(303);
    const saved = await apiAgent(id);
    expect(saved.voice_tools.post_call_follow_up.actions).toEqual([SEED_CONFIG.voice_tools.post_call_follow_up.actions[1], SEED_CONFIG.voice_tools.post_call_follow_up.actions[2]]);
    expect((await submit(session, agentPath(id), [...formFields(html), ["op", "explode:1"]])).status).toBe(400);
  });

  it("previews the form against the sample call: the SMS text, the email's subject and body, the webhook's JSON", async () => {
    const session = await signIn();
    const id = uniqueId("agent");
    await putAgent(id, { name: "Acme Support", ...SEED_CONFIG });
    const res = await submit(session, agentPath(id), [...formFields(await openAgent(session, id)), ["op", "preview"]]);
    expect(res.status).toBe(200);
    const html = await res.text();
    const preview = html.slice(html.indexOf('id="preview"'));
    expect(preview).toContain('<div class="bubble">Thanks for calling Acme Support! Your reference number is call_sample_0001.</div>');
    expect(preview).toContain("1 segment");
    expect(preview).toContain("Your call summary — 2026-03-10");
    expect(preview).toContain("&quot;call_id&quot;: &quot;call_sample_0001&quot;");
    expect(preview).toContain("https://your-crm.com/api/call-completed");

    // What is previewed is the form as it stands, not yet saved.
    const edited = withField(formFields(html), "actions[0][template]", "Draft for {{caller_name}}");
    const draft = await (await submit(session, agentPath(id), [...edited, ["op", "preview"]])).text();
    expect(draft).toContain('<div class="bubble">Draft for John Smith</div>');
    expect((await apiAgent(id)).voice_tools.post_call_follow_up.actions[0].template).toMatch(/^Thanks for calling/);
  });

  it("saves outbound call settings through the same service, keeping the fallback actions, and places their problems", async () => {
    const session = await signIn();
    const id = uniqueId("agent");
    const fallback = [{ type: "sms", template: "Sorry we missed you, {{caller_name}}." }];
    await putAgent(id, { ...SEED_CONFIG, voice_tools: { ...SEED_CONFIG.voice_tools, outbound_calls: { platform: { type: "simulator" }, fallback_actions: fallback } } });
    let html = await openAgent(session, id);
    expect(html).toContain('name="fallback[0][template]"');
    expect(html).toContain("Sorry we missed you, {{caller_name}}.");

    html = await (await submit(session, agentPath(id), [...withField(formFields(html), "outbound[platform][type]", "vapi"), ["op", "refresh"]])).text();
    expect(html).toContain('name="outbound[platform][assistant_id]"');
    let fields = withField(formFields(html), "outbound[platform][assistant_id]", "asst_1");
    fields = withField(fields, "outbound[platform][phone_number_id]", "pn_1");
    fields = withField(fields, "outbound[calling_hours][timezone]", "Mars/Olympus");
    fields = withField(fields, "outbound[calling_hours][start]", "09:00");
    fields = withField(fields, "outbound[calling_hours][end]", "17:30");
    fields = [...fields, ["outbound[calling_hours][days]", "mon"], ["outbound[calling_hours][days]", "fri"]];
    fields = withField(fields, "outbound[redial][max_attempts]", "3");
    fields = withField(fields, "outbound[redial][on]", "no_answer");
    const refused = await submit(session, agentPath(id), [...fields, ["op", "save"]]);
    expect(refused.status).toBe(422);
    const page422 = await refused.text();
    expect(elementText(page422, "f-outbound-calling_hours-timezone-error")).toMatch(/IANA time zone/);
    expect(page422).toMatch(/name="outbound\[calling_hours\]\[days\]" value="fri" checked/);

    fields = withField(fields, "outbound[calling_hours][timezone]", "Europe/Paris");
    expect((await submit(session, agentPath(id), [...fields, ["op", "save"]])).status).toBe(303);
    const saved = (await apiAgent(id)).voice_tools.outbound_calls;
    expect(saved).toEqual({
      platform: { type: "vapi", assistant_id: "asst_1", phone_number_id: "pn_1" },
      calling_hours: { timezone: "Europe/Paris", days: ["mon", "fri"], start: "09:00", end: "17:30" },
      redial: { on: ["no_answer"], max_attempts: 3, interval_seconds: 3600 },
      fallback_actions: fallback,
      result_timeout_seconds: 3600,
    });
  });

  it("edits the fallback actions with the same editor: add, reorder, remove, errors in place, follow-up untouched", async () => {
    const session = await signIn();
    const id = uniqueId("agent");
    await putAgent(id, { ...SEED_CONFIG, voice_tools: { ...SEED_CONFIG.voice_tools, outbound_calls: { platform: { type: "simulator" } } } });
    let html = await openAgent(session, id);
    html = await (await submit(session, agentPath(id), [...formFields(html), ["op", "fallback-add:sms"]])).text();
    expect(html).toContain('name="fallback[0][template]"');
    html = await (await submit(session, agentPath(id), [...withField(formFields(html), "fallback[0][template]", "{{nope}}"), ["op", "save"]])).text();
    expect(elementText(html, "f-fallback-0-template-error")).toMatch(/unknown variable/);
    expect((await apiAgent(id)).voice_tools.outbound_calls.fallback_actions).toEqual([]);

    let fields = withField(formFields(html), "fallback[0][template]", "Sorry we missed you, {{caller_name}}.");
    html = await (await submit(session, agentPath(id), [...fields, ["op", "fallback-add:webhook"]])).text();
    fields = withField(formFields(html), "fallback[1][url]", "https://crm.example.com/missed");
    html = await (await submit(session, agentPath(id), [...fields, ["op", "fallback-up:1"]])).text();
    expect([...html.matchAll(/name="fallback\[\d+\]\[type\]" value="([^"]*)"/g)].map((m) => m[1])).toEqual(["webhook", "sms"]);
    expect((await submit(session, agentPath(id), [...formFields(html), ["op", "save"]])).status).toBe(303);
    let saved = (await apiAgent(id)).voice_tools;
    expect(saved.outbound_calls.fallback_actions.map((a: any) => a.type)).toEqual(["webhook", "sms"]);
    expect(saved.post_call_follow_up.actions.map((a: any) => a.type)).toEqual(["sms", "webhook", "email"]);

    html = await openAgent(session, id);
    html = await (await submit(session, agentPath(id), [...formFields(html), ["op", "fallback-remove:0"]])).text();
    expect((await submit(session, agentPath(id), [...formFields(html), ["op", "save"]])).status).toBe(303);
    saved = (await apiAgent(id)).voice_tools;
    expect(saved.outbound_calls.fallback_actions).toEqual([{ type: "sms", template: "Sorry we missed you, {{caller_name}}." }]);
    expect(saved.post_call_follow_up.actions).toHaveLength(3);
  });

  it("refuses a POST without the session's CSRF token, and answers 404 for an unknown agent", async () => {
    const session = await signIn();
    const id = uniqueId("agent");
    await putAgent(id, { name: "Acme Support", ...SEED_CONFIG });
    const fields = formFields(await openAgent(session, id));
    expect((await submit(session, agentPath(id), [...fields, ["op", "save"], ["_csrf", "forged"]])).status).toBe(403);
    const none = await submit(session, agentPath(id), { op: "save", _csrf: "" });
    expect(none.status).toBe(403);
    expect((await page(session, agentPath("agent_nobody"))).status).toBe(404);
  });

  it("shows a name and a template with markup as text, on the list, the form and the preview", async () => {
    const session = await signIn();
    const id = uniqueId("agent_esc");
    await putAgent(id, {
      name: "<script>alert(1)</script>",
      voice_tools: { post_call_follow_up: { enabled: true, actions: [{ type: "sms", template: "<b>Hi</b> {{agent_name}}" }] } },
    });
    const list = await (await page(session, "/dashboard/agents?cursor=agent_esc")).text();
    expect(list).toContain(id);
    const html = await openAgent(session, id);
    for (const text of [list, html]) {
      expect(text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
      expect(text).not.toContain("<script>alert(1)");
    }
    expect(html).toContain("&lt;b&gt;Hi&lt;/b&gt; {{agent_name}}</textarea>");
    expect(html).not.toContain("<b>Hi</b>");
    const preview = await (await submit(session, agentPath(id), [...formFields(html), ["op", "preview"]])).text();
    expect(preview).toContain('<div class="bubble">&lt;b&gt;Hi&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt;</div>');
    expect(preview).not.toContain("<b>Hi</b>");
    expect(preview).not.toContain("<script>alert(1)");
  });
});

describe("configOf", () => {
  it("refuses an HTTP dialer's JSON nested deeper than a body may be, naming where", () => {
    const deep = `${'{"a":'.repeat(3_000)}{}${"}".repeat(3_000)}`;
    const outbound = { "platform.type": "http", "platform.url": "https://dialer.example.com/calls", "platform.body": deep, "platform.call_id_path": "id" };
    const { candidate, problems } = configOf({ enabled: true, actions: [], fallback: [], outbound, days: [] }, SEED_CONFIG as any);
    expect(problems).toEqual([expect.objectContaining({ path: `$.voice_tools.outbound_calls.platform.body${".a".repeat(28)}`, message: "nested more than 32 levels deep" })]);
    expect((candidate as any).voice_tools.outbound_calls.platform.body).toEqual({});
  });
});
