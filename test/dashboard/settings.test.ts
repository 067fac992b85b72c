import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { page, signIn } from "./session";

describe("dashboard settings", () => {
  it("names what is configured and never shows a value", async () => {
    const session = await signIn();
    const res = await page(session, "/dashboard/settings");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("VAPI_API_KEY");
    expect(html).toContain("ALLOW_SIMULATOR=true");
    expect(html).toContain("outbox");
    const e = env as unknown as Record<string, string>;
    for (const name of ["WEBHOOK_SIGNING_SECRET", "INGEST_SIGNING_SECRET", "VAPI_API_KEY", "ADMIN_API_KEY", "INGEST_API_KEY"]) {
      expect(html, name).not.toContain(e[name]!);
      expect(html, name).not.toContain(e[name]!.replace(/^whsec_/, ""));
    }
    // The webhook signing secret appears by its id only.
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(e.WEBHOOK_SIGNING_SECRET)));
    expect(html).toContain([...digest.slice(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(""));
  });
});
