import { SELF } from "cloudflare:test";

/** A signed-in dashboard: its cookie header, and the CSRF token of its forms. */
export interface Session {
  cookie: string;
  csrf: string;
}

const cookiesOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(";")[0]!);

/** Signs in with the admin key, as a browser would: form, cookie, redirect. */
export async function signIn(key = "test-admin-key"): Promise<Session> {
  const form = await SELF.fetch("https://relay.test/dashboard/sign-in", { redirect: "manual" });
  const formCookie = cookiesOf(form).join("; ");
  const token = (await form.text()).match(/name="_csrf" value="([^"]+)"/)![1]!;
  const res = await SELF.fetch("https://relay.test/dashboard/sign-in", {
    method: "POST",
    redirect: "manual",
    headers: { cookie: formCookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ _csrf: token, key }).toString(),
  });
  const cookie = cookiesOf(res).find((c) => c.startsWith("callrelay_session="));
  if (!cookie) throw new Error(`sign-in failed: ${res.status} ${res.headers.get("location")}`);
  const page = await SELF.fetch("https://relay.test/dashboard", { headers: { cookie } });
  const csrf = (await page.text()).match(/name="_csrf" value="([^"]+)"/)![1]!;
  return { cookie, csrf };
}

/** GET a dashboard page as the session. */
export const page = (session: Session, path: string) => SELF.fetch(`https://relay.test${path}`, { headers: { cookie: session.cookie }, redirect: "manual" });

/** POST a dashboard form as the session, with its CSRF token unless `fields` sets one. */
export const submit = (session: Session, path: string, fields: Record<string, string> | [string, string][]) => {
  const body = new URLSearchParams(Array.isArray(fields) ? [["_csrf", session.csrf], ...fields] : { _csrf: session.csrf, ...fields });
  return SELF.fetch(`https://relay.test${path}`, {
    method: "POST",
    redirect: "manual",
    headers: { cookie: session.cookie, "content-type": "application/x-www-form-urlencoded" },
    body: body.toString(),
  });
};
