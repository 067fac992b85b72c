import { SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { putAgent, request, uniqueId } from "../helpers";
import { page, signIn, submit } from "./session";

beforeEach(() => {
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response(JSON.stringify({ id: crypto.randomUUID() }), { status: 201 }));
});
afterEach(() => vi.restoreAllMocks());

async function trigger() {
  const agentId = uniqueId("agent");
  await putAgent(agentId, { name: "Edit Dental", voice_tools: { outbound_calls: { platform: { type: "simulator" } } } });
  const res = await request("POST", "/triggers", { name: "Before", agent_id: agentId, call: { phone_number: "{{phone}}" }, dedupe_key: "{{id}}" });
  return { agentId, ...((await res.json()) as { id: string; secret: string }) };
}

const hook = (id: string, secret: string, body: unknown) =>
  SELF.fetch(`https://relay.test/hooks/${id}`, { method: "POST", headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" }, body: JSON.stringify(body) });

/** The edit form's fields as the browser would send them back. */
function fieldsOf(html: string): [string, string][] {
  const fields: [string, string][] = [];
  for (const m of html.matchAll(/<input[^>]*name="([^"]+)"[^>]*>/g)) {
    const tag = m[0];
    const name = m[1]!;
    if (name === "_csrf") continue;
    if (/type="checkbox"/.test(tag)) {
      if (/checked/.test(tag)) fields.push([name, "on"]);
      continue;
    }
    fields.push([name, tag.match(/value="([^"]*)"/)?.[1]?.replaceAll("&quot;", '"').replaceAll("&amp;", "&") ?? ""]);
  }
  for (const m of html.matchAll(/<textarea[^>]*name="([^"]+)"[^>]*>([\s\S]*?)<\/textarea>/g)) fields.push([m[1]!, m[2]!.replaceAll("&quot;", '"').replaceAll("&amp;", "&")]);
  for (const m of html.matchAll(/<select[^>]*name="([^"]+)"[^>]*>([\s\S]*?)<\/select>/g)) {
    fields.push([m[1]!, m[2]!.match(/<option value="([^"]*)" selected/)?.[1] ?? ""]);
  }
  return fields;
}

describe("editing a trigger in the dashboard", () => {
  it("renders pre-filled, saves through the same checks, and keeps the URL and the secret", async () => {
    const t = await trigger();
    const session = await signIn();
    const form = await page(session, `/dashboard/triggers/${t.id}/edit`);
    expect(form.status).toBe(200);
    const html = await form.text();
    expect(html).toContain('value="Before"');
    expect(html).toContain("{{phone}}");
    const fields = fieldsOf(html).map(([k, v]) => [k, k === "name" ? "After" : k === "call.phone_number" ? "{{contact.phone}}" : v] as [string, string]);
    const saved = await submit(session, `/dashboard/triggers/${t.id}/edit`, fields);
    expect(saved.status, await saved.clone().text()).toBe(303);
    const stored = (await (await request("GET", `/triggers/${t.id}`)).json()) as any;
    expect(stored).toMatchObject({ name: "After", call: { phone_number: "{{contact.phone}}" }, dedupe_key: "{{id}}" });
    const placed = await hook(t.id, t.secret, { contact: { phone: "+14155551234" }, id: uniqueId("evt") });
    expect(placed.status).toBe(202);
  });

  it("shows an invalid template next to its field and saves nothing", async () => {
    const t = await trigger();
    const session = await signIn();
    const fields = fieldsOf(await (await page(session, `/dashboard/triggers/${t.id}/edit`)).text()).map(
      ([k, v]) => [k, k === "call.task" ? "{{#open}}" : v] as [string, string],
    );
    const res = await submit(session, `/dashboard/triggers/${t.id}/edit`, fields);
    expect(res.status).toBe(422);
    expect(await res.text()).toMatch(/id="t-call-task"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="t-call-task"/);
    expect(((await (await request("GET", `/triggers/${t.id}`)).json()) as any).call.task).toBeUndefined();
  });

  it("disables a trigger (its URL then answers filtered) and deletes it", async () => {
    const t = await trigger();
    const session = await signIn();
    const fields = fieldsOf(await (await page(session, `/dashboard/triggers/${t.id}/edit`)).text()).filter(([k]) => k !== "enabled");
    expect((await submit(session, `/dashboard/triggers/${t.id}/edit`, fields)).status).toBe(303);
    expect(await (await hook(t.id, t.secret, { phone: "+14155551234", id: "e1" })).json()).toMatchObject({ status: "filtered" });
    const deleted = await submit(session, `/dashboard/triggers/${t.id}/delete`, {});
    expect(deleted.status).toBe(303);
    expect((await request("GET", `/triggers/${t.id}`)).status).toBe(404);
  });

  it("refuses edits and deletes without the CSRF token and changes nothing", async () => {
    const t = await trigger();
    const session = await signIn();
    expect((await submit(session, `/dashboard/triggers/${t.id}/edit`, { _csrf: "forged", name: "Hacked", agent_id: t.agentId })).status).toBe(403);
    expect((await submit(session, `/dashboard/triggers/${t.id}/delete`, { _csrf: "forged" })).status).toBe(403);
    expect(((await (await request("GET", `/triggers/${t.id}`)).json()) as any).name).toBe("Before");
  });
});
