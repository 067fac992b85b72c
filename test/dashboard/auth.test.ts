import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { page, signIn, submit } from "./session";

describe("dashboard sign-in", () => {
  it("renders nothing without a session: pages redirect to the sign-in form", async () => {
    for (const path of ["/dashboard", "/dashboard/agents", "/dashboard/calls"]) {
      const res = await SELF.fetch(`https://relay.test${path}`, { redirect: "manual" });
      expect(res.status, path).toBe(303);
      expect(res.headers.get("location")).toBe("/dashboard/sign-in");
    }
  });

  it("exchanges the admin key for an HttpOnly, Secure, SameSite=Strict session cookie", async () => {
    const form = await SELF.fetch("https://relay.test/dashboard/sign-in");
    const token = (await form.text()).match(/name="_csrf" value="([^"]+)"/)![1]!;
    const formCookie = form.headers.getSetCookie()[0]!.split(";")[0]!;
    const res = await SELF.fetch("https://relay.test/dashboard/sign-in", {
      method: "POST",
      redirect: "manual",
      headers: { cookie: formCookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: token, key: "test-admin-key" }).toString(),
    });
    expect(res.status).toBe(303);
    const session = res.headers.getSetCookie().find((c) => c.startsWith("callrelay_session="))!;
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/Secure/i);
    expect(session).toMatch(/SameSite=Strict/i);
    expect(session).toMatch(/Max-Age=28800/);
    expect(session).not.toContain("test-admin-key");
  });

  it("refuses a wrong key, and a sign-in form without its token", async () => {
    await expect(signIn("not-the-key")).rejects.toThrow(/failed\?|303/);
    const res = await SELF.fetch("https://relay.test/dashboard/sign-in", {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "key=test-admin-key",
    });
    expect(res.status).toBe(403);
  });

  it("serves pages with a nonce-only script policy and no framing", async () => {
    const session = await signIn();
    const res = await page(session, "/dashboard");
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy")!;
    const nonce = csp.match(/script-src 'nonce-([^']+)'/)![1]!;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    const html = await res.text();
    for (const tag of html.match(/<script[^>]*>/g) ?? []) expect(tag).toContain(`nonce="${nonce}"`);
  });

  it("refuses a form without the session's CSRF token, and a forged session cookie", async () => {
    const session = await signIn();
    expect((await submit(session, "/dashboard/sign-out", { _csrf: "forged" })).status).toBe(403);
    const other = await signIn();
    expect((await submit(session, "/dashboard/sign-out", { _csrf: other.csrf })).status).toBe(403);
    const [name, value] = session.cookie.split("=") as [string, string];
    const forged = `${name}=${value.replace(/^\d+/, "9999999999")}`;
    const res = await SELF.fetch("https://relay.test/dashboard", { headers: { cookie: forged }, redirect: "manual" });
    expect(res.status).toBe(303);
  });

  it("signs out", async () => {
    const session = await signIn();
    const res = await submit(session, "/dashboard/sign-out", {});
    expect(res.status).toBe(303);
    expect(res.headers.getSetCookie().join()).toMatch(/callrelay_session=;/);
  });
});
