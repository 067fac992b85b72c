import { describe, expect, it } from "vitest";
import { backTo, withNotice } from "../../src/dashboard/activity/shared";
import { signIn, submit } from "./session";

/**
 * The URL parser drops tabs and line breaks and resolves ".." (and "%2e%2e"), so a `back` that
 * looks like a dashboard path as written could come out as "//evil.example", a
 * protocol-relative Location.
 */
const CRAFTED = ["/dashboard/../\t/evil.example/x", "/dashboard/%2e%2e/\n/evil.example/x"];

describe("the replay form's `back` cannot leave the dashboard", () => {
  it.each(CRAFTED)("backTo + withNotice keep %j on the dashboard", (back) => {
    const location = withNotice(backTo(back, "/dashboard/deliveries"), "hi");
    expect(location.startsWith("/dashboard/"), location).toBe(true);
    expect(new URL(location, "https://relay.test").origin).toBe("https://relay.test");
  });

  it("POST /dashboard/deliveries/:id/retry never redirects off-site", async () => {
    const session = await signIn();
    for (const back of CRAFTED) {
      const res = await submit(session, "/dashboard/deliveries/dlv_nobody/retry", { back });
      expect(res.status).toBe(303);
      const location = res.headers.get("location")!;
      expect(new URL(location, "https://relay.test").origin, `Location: ${location}`).toBe("https://relay.test");
    }
  });
});
