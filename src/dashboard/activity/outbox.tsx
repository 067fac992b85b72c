import { z } from "@hono/zod-openapi";
import type { Hono } from "hono";
import { AppError } from "../../errors";
import { OUTBOX_SETTINGS } from "../../providers/outbox";
import { describeSegments, smsSegments } from "../../providers/sms/segments";
import { Identifier } from "../../schemas/call-event";
import { Outbox, type OutboxEntry } from "../../store/outbox";
import type { DashboardEnv } from "../env";
import { Page } from "../layout";
import { Filters, SelectFilter, When, callPath, listNotice, readFilters } from "./shared";

const KINDS = ["email", "sms", "task"] as const;
const PAGE_SIZE = 50;

/**
 * The email preview's own headers: nothing in it runs or loads but images and inline styles,
 * no form in it submits and no base re-points its links, it is sandboxed even when opened on
 * its own, and only the dashboard may frame it (the page's iframe is sandboxed as well).
 */
const PREVIEW_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy":
    "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'; sandbox; frame-ancestors 'self'",
  "x-frame-options": "SAMEORIGIN",
};

const str = (value: unknown) => (typeof value === "string" ? value : undefined);

/** The preview URL of a message; the call id lets the store find it however old it is. */
const previewPath = (m: OutboxEntry) => `/dashboard/outbox/${encodeURIComponent(m.id)}/html`;

function Message(props: { m: OutboxEntry }) {
  const { m } = props;
  const body = m.message;
  return (
    <article class="panel" aria-label={`${m.kind} to ${m.recipient ?? "nobody"}`}>
      <p class="muted">
        <strong>{m.kind}</strong>
        {m.recipient ? ` to ${m.recipient}` : ""} · <When at={m.created_at} /> · <a href={`${callPath(m.call_id, m.agent_id)}#${m.delivery_id}`}>call {m.call_id}</a>
      </p>
      {m.kind === "sms" ? (
        <>
          <div class="bubble">{str(body.body) ?? ""}</div>
          <p class="hint">{describeSegments(smsSegments(str(body.body) ?? ""))}</p>
        </>
      ) : m.kind === "email" ? (
        <>
          <p>
            From {str(body.from) ?? <span class="muted">the default sender</span>}
            <br />
            Subject: <strong>{str(body.subject) ?? m.subject ?? ""}</strong>
          </p>
          {str(body.html) !== undefined ? (
            <iframe class="preview" sandbox="" src={previewPath(m)} title={`Email: ${str(body.subject) ?? ""}`} loading="lazy" />
          ) : (
            <pre>{str(body.text) ?? ""}</pre>
          )}
          {str(body.html) !== undefined && str(body.text) ? (
            <details>
              <summary>Plain-text part</summary>
              <pre>{str(body.text)}</pre>
            </details>
          ) : null}
        </>
      ) : (
        <>
          <h3>{str(body.title) ?? m.subject ?? ""}</h3>
          {str(body.notes) ? <p class="bubble">{str(body.notes)}</p> : <p class="muted">No notes.</p>}
          {str(body.due_date) ? <p class="hint">Due {str(body.due_date)}</p> : null}
        </>
      )}
    </article>
  );
}

/** The outbox: messages as their recipients would see them, and each email's HTML on its own. */
export function registerOutboxPages(dashboard: Hono<DashboardEnv>) {
  dashboard.get("/outbox", async (c) => {
    const { values, raw, problems } = readFilters(c, { kind: z.enum(KINDS), call_id: Identifier.max(256) });
    const messages = await new Outbox(c.env.DB).list({ ...values, limit: PAGE_SIZE });
    const on = OUTBOX_SETTINGS.safeParse(c.env).success;
    return c.html(
      <Page title="Outbox" section="outbox" nonce={c.var.nonce} csrf={c.var.csrf} notice={listNotice(c, problems)}>
        <h1>Outbox</h1>
        <p class="muted">
          {on
            ? "OUTBOX=true: emails, texts and tasks with no provider configured are kept here instead of being sent."
            : "The outbox is off (OUTBOX is not true): nothing new is kept here. What it kept before is shown until retention removes it."}
        </p>
        <Filters action="/dashboard/outbox">
          <SelectFilter name="kind" label="Kind" options={KINDS} value={raw.kind} />
          <div>
            <label for="f-call_id">Call id</label>
            <input id="f-call_id" name="call_id" type="text" value={raw.call_id} />
          </div>
        </Filters>
        {messages.length === 0 ? <p class="muted">Nothing in the outbox.</p> : messages.map((m) => <Message m={m} />)}
        {messages.length === PAGE_SIZE ? <p class="hint">The newest {PAGE_SIZE}; filter by call to see older ones.</p> : null}
      </Page>,
    );
  });

  dashboard.get("/outbox/:id/html", async (c) => {
    const id = c.req.param("id");
    const message = await new Outbox(c.env.DB).get(id);
    if (message?.kind !== "email") throw new AppError("not_found", `no email "${id}" in the outbox`);
    const html = str(message.message.html);
    // The email's own HTML, as its template rendered it (variables escaped); without one, its text, escaped.
    if (html === undefined) return c.html(<pre>{str(message.message.text) ?? ""}</pre>, 200, PREVIEW_HEADERS);
    return c.body(html, 200, PREVIEW_HEADERS);
  });
}
