import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { SCRIPT, STYLESHEET } from "./assets";
import type { DashboardEnv } from "./env";
import { formFields } from "./form";
import { Page } from "./layout";
import { registerActivityPages } from "./pages/activity";
import { registerAgentPages } from "./pages/agents";
import { registerOverviewPage } from "./pages/overview";
import { registerSettingsPage } from "./pages/settings";
import { SESSION_COOKIE, SESSION_SECONDS, SIGN_IN_COOKIE, csrfToken, issueSession, randomToken, sameSecret, verifySession } from "./session";

/**
 * The headers of every dashboard page: scripts run only with this response's nonce, nothing
 * loads from elsewhere, no page may be framed (the outbox preview sets its own), and forms
 * post only here.
 */
function securityHeaders(nonce: string): Record<string, string> {
  return {
    "content-security-policy": [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "frame-src 'self'",
      "form-action 'self'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
  };
}

const cookieOptions = (maxAge: number) => ({ httpOnly: true, secure: true, sameSite: "Strict" as const, path: "/dashboard", maxAge });

/**
 * The web UI at /dashboard: server-rendered pages over the same services the API uses,
 * behind a session that the admin key is exchanged for.
 */
export function registerDashboard(app: Hono<AppEnv>) {
  const dashboard = new Hono<DashboardEnv>();

  dashboard.use(async (c, next) => {
    const nonce = randomToken();
    c.set("nonce", nonce);
    await next();
    const own = c.res.headers.get("content-security-policy");
    for (const [name, value] of Object.entries(securityHeaders(nonce))) {
      // A response that set its own policy (the outbox's email preview) keeps it.
      if (own && (name === "content-security-policy" || name === "x-frame-options")) continue;
      c.res.headers.set(name, value);
    }
  });

  // Forms are small: a body past this is refused before anything reads it.
  dashboard.use(
    bodyLimit({
      maxSize: 256 * 1024,
      onError: () => {
        throw new HTTPException(413, { message: "the form is larger than 256 KiB" });
      },
    }),
  );

  dashboard.get("/assets/app.css", (c) => c.body(STYLESHEET, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=300" }));
  dashboard.get("/assets/app.js", (c) => c.body(SCRIPT, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=300" }));

  dashboard.get("/sign-in", (c) => {
    const token = randomToken();
    setCookie(c, SIGN_IN_COOKIE, token, cookieOptions(600));
    const failed = c.req.query("failed") !== undefined;
    return c.html(
      <Page title="Sign in" section={null} nonce={c.var.nonce} notice={failed ? { text: "That is not the admin key.", bad: true } : undefined}>
        <div class="panel sign-in">
          <h1>Sign in to callrelay</h1>
          <form method="post" action="/dashboard/sign-in">
            <input type="hidden" name="_csrf" value={token} />
            <label for="key">Admin key</label>
            <input id="key" name="key" type="password" autocomplete="current-password" required />
            <p class="hint">The deployment's ADMIN_API_KEY. It is exchanged for a session that lasts {SESSION_SECONDS / 3600} hours.</p>
            <div class="actions">
              <button type="submit">Sign in</button>
            </div>
          </form>
        </div>
      </Page>,
    );
  });

  dashboard.post("/sign-in", async (c) => {
    const adminKey = c.var.config.adminApiKey;
    if (!adminKey) throw new AppError("misconfigured", "the dashboard is disabled: set the ADMIN_API_KEY secret");
    const fields = await formFields(c.req.raw);
    const expected = getCookie(c, SIGN_IN_COOKIE);
    if (!expected || !(await sameSecret(fields._csrf ?? "", expected))) throw new HTTPException(403, { message: "the sign-in form expired: load it again" });
    deleteCookie(c, SIGN_IN_COOKIE, { path: "/dashboard" });
    if (!(await sameSecret(fields.key ?? "", adminKey))) return c.redirect("/dashboard/sign-in?failed", 303);
    setCookie(c, SESSION_COOKIE, await issueSession(adminKey, Date.now()), cookieOptions(SESSION_SECONDS));
    return c.redirect("/dashboard", 303);
  });

  // Everything below needs a session; every POST also its CSRF token.
  dashboard.use(async (c, next) => {
    const adminKey = c.var.config.adminApiKey;
    if (!adminKey) throw new AppError("misconfigured", "the dashboard is disabled: set the ADMIN_API_KEY secret");
    const session = await verifySession(adminKey, getCookie(c, SESSION_COOKIE), Date.now());
    if (!session) {
      if (c.req.method === "GET") return c.redirect("/dashboard/sign-in", 303);
      throw new HTTPException(401, { message: "sign in first" });
    }
    const csrf = await csrfToken(adminKey, session);
    c.set("csrf", csrf);
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      const fields = await formFields(c.req.raw.clone());
      if (!(await sameSecret(fields._csrf ?? "", csrf))) throw new HTTPException(403, { message: "the form's CSRF token is missing or stale: reload the page" });
    }
    await next();
  });

  dashboard.post("/sign-out", (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: "/dashboard" });
    return c.redirect("/dashboard/sign-in", 303);
  });

  registerOverviewPage(dashboard);
  registerAgentPages(dashboard);
  registerActivityPages(dashboard);
  registerSettingsPage(dashboard);

  dashboard.onError((err, c) => {
    const status = err instanceof AppError ? err.status : err instanceof HTTPException ? err.status : 500;
    if (status >= 500) console.error("dashboard error", err instanceof Error ? { name: err.name, message: err.message } : err);
    const text = status >= 500 ? "Something went wrong; the error was logged." : err.message;
    return c.html(
      <Page title="Error" section={null} nonce={c.var.nonce ?? randomToken()} csrf={c.var.csrf}>
        <div class="panel">
          <h1>{status === 404 ? "Not found" : status === 403 ? "Refused" : "Error"}</h1>
          <p>{text}</p>
          <p>
            <a href="/dashboard">Back to the overview</a>
          </p>
        </div>
      </Page>,
      status as 400,
    );
  });

  app.route("/dashboard", dashboard);
}
