import type { Hono } from "hono";
import { AppError } from "../../errors";
import { OUTBOUND_CALL_ID, outboundCall } from "../../outbound/client";
import { withDeliveries } from "../../outbound/request-call";
import { publicView } from "../../outbound/state";
import { unreadableCursor } from "../../routes/listing";
import { Identifier } from "../../schemas/call-event";
import { type OutboundCall, OutboundStatus } from "../../schemas/outbound";
import { OutboundCallIndex } from "../../store/outbound-calls";
import type { DashboardEnv } from "../env";
import { Csrf, Page, StatusBadge } from "../layout";
import { registerPlaceCallPages } from "./place-call";
import {
  AgentLink,
  AgentFilter,
  Filters,
  Pager,
  REPLAYABLE,
  ReplayButton,
  SelectFilter,
  When,
  agentsToOffer,
  callPath,
  here,
  listNotice,
  noticeOf,
  pretty,
  readFilters,
  withNotice,
} from "./shared";

const PAGE_SIZE = 50;
/** The statuses a cancel can stop (the call's object decides; this only offers the button). */
const CANCELLABLE = new Set<string>(["queued", "scheduled"]);

const detailPath = (id: string) => `/dashboard/outbound-calls/${id}`;

/** As GET /outbound-calls/{id}: the call's object, with its callback's delivery from the ledger that runs it. */
async function outboundDetail(env: CloudflareBindings, id: string): Promise<OutboundCall> {
  const state = OUTBOUND_CALL_ID.test(id) ? await outboundCall(env, id).inspect() : null;
  if (!state) throw new AppError("not_found", `no outbound call "${id}"`);
  return withDeliveries(env, publicView(state), state.handed_actions);
}

function AttemptTable(props: { call: OutboundCall }) {
  if (props.call.attempts.length === 0) return <p class="muted">Not dialled yet.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Placed</th>
            <th scope="col">Platform's answer</th>
            <th scope="col">Platform call</th>
            <th scope="col">Ended</th>
            <th scope="col">Outcome</th>
            <th scope="col">Duration</th>
          </tr>
        </thead>
        <tbody>
          {props.call.attempts.map((a) => (
            <tr>
              <td>{a.number}</td>
              <td>
                <When at={a.placed_at} />
              </td>
              <td>
                {a.http_status ?? "—"} {a.error ? <span class="error">{a.error}</span> : null}
                {a.retries > 0 ? <div class="hint">after {a.retries} retried answers</div> : null}
              </td>
              <td class="mono">
                {a.platform_call_id ? <a href={callPath(a.platform_call_id, props.call.agent_id)}>{a.platform_call_id}</a> : "—"}
              </td>
              <td>
                <When at={a.ended_at} />
                {a.ended_reason ? <div class="hint">{a.ended_reason}</div> : null}
              </td>
              <td>{a.outcome ?? "—"}</td>
              <td>{a.duration_seconds === null ? "—" : `${Math.round(a.duration_seconds)} s`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Outbound calls: the list, one call's detail, Cancel, and (./place-call) the Place a call form. */
export function registerOutboundPages(dashboard: Hono<DashboardEnv>) {
  registerPlaceCallPages(dashboard);

  dashboard.get("/outbound-calls", async (c) => {
    const { values, raw, problems } = readFilters(c, { status: OutboundStatus, agent_id: Identifier, trigger_id: Identifier });
    const cursor = c.req.query("cursor") || undefined;
    const [page, agents] = await Promise.all([new OutboundCallIndex(c.env.DB).list({ ...values, limit: PAGE_SIZE, cursor }), agentsToOffer(c.env)]);
    if (!page) throw unreadableCursor();
    return c.html(
      <Page title="Outbound calls" section="outbound" nonce={c.var.nonce} csrf={c.var.csrf} notice={listNotice(c, problems)}>
        <h1>Outbound calls</h1>
        <div class="actions">
          <a class="button" href="/dashboard/outbound-calls/new">
            Place a call
          </a>
        </div>
        <Filters action="/dashboard/outbound-calls">
          <SelectFilter name="status" label="Status" options={OutboundStatus.options} value={raw.status} />
          <AgentFilter agents={agents} value={raw.agent_id} />
          <div>
            <label for="f-trigger_id">Trigger id</label>
            <input id="f-trigger_id" name="trigger_id" type="text" value={raw.trigger_id} />
          </div>
        </Filters>
        <div class="panel table-wrap">
          {page.calls.length === 0 ? (
            <p class="muted">No outbound call matches.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Requested</th>
                  <th scope="col">Call</th>
                  <th scope="col">Status</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">To</th>
                  <th scope="col">Agent</th>
                  <th scope="col">Next attempt</th>
                  <th scope="col">Attempts</th>
                </tr>
              </thead>
              <tbody>
                {page.calls.map((call) => (
                  <tr>
                    <td>
                      <When at={call.requested_at} />
                    </td>
                    <td>
                      <a class="mono" href={detailPath(call.id)}>
                        {call.id}
                      </a>
                      {call.trigger_id ? <div class="hint">trigger {call.trigger_id}</div> : null}
                    </td>
                    <td>
                      <StatusBadge status={call.status} />
                    </td>
                    <td>{call.outcome ?? "—"}</td>
                    <td>
                      {call.caller_name ?? ""} <span class="mono">{call.phone_number}</span>
                    </td>
                    <td>
                      <AgentLink id={call.agent_id} />
                    </td>
                    <td>
                      <When at={call.scheduled_for} />
                    </td>
                    <td>
                      {call.attempts.length} / {call.max_attempts}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        <Pager path="/dashboard/outbound-calls" filters={raw} nextCursor={page.next_cursor} paged={cursor !== undefined} />
      </Page>,
    );
  });

  dashboard.get("/outbound-calls/:id", async (c) => {
    const call = await outboundDetail(c.env, c.req.param("id"));
    const back = here(c);
    return c.html(
      <Page title={`Outbound call ${call.id}`} section="outbound" nonce={c.var.nonce} csrf={c.var.csrf} notice={noticeOf(c)}>
        <p>
          <a href="/dashboard/outbound-calls">← Outbound calls</a>
        </p>
        <h1>
          Outbound call <span class="mono">{call.id}</span>
        </h1>
        <div class="grid">
          <div class="panel">
            <h2>Status</h2>
            <p>
              <StatusBadge status={call.status} /> {call.outcome ? `outcome ${call.outcome}` : ""}
            </p>
            {call.error ? <p class="error">{call.error}</p> : null}
            <p>
              Requested <When at={call.requested_at} />
            </p>
            {call.scheduled_for ? (
              <p>
                Next attempt <When at={call.scheduled_for} />
              </p>
            ) : null}
            {call.ended_at ? (
              <p>
                Ended <When at={call.ended_at} />
              </p>
            ) : null}
            <p>
              {call.attempts.length} of at most {call.max_attempts} attempts
            </p>
            {CANCELLABLE.has(call.status) ? (
              <form method="post" action={`${detailPath(call.id)}/cancel`} data-confirm="Cancel this call? It will not be placed.">
                <Csrf token={c.var.csrf} />
                <button type="submit" class="danger">
                  Cancel
                </button>
              </form>
            ) : null}
          </div>
          <div class="panel">
            <h2>Request</h2>
            <p>
              To {call.caller_name ?? <span class="muted">no name</span>} · <span class="mono">{call.phone_number}</span>
            </p>
            <p>
              Agent <AgentLink id={call.agent_id} /> on {call.platform}
              {call.trigger_id ? (
                <>
                  {" "}
                  · from trigger <a href={`/dashboard/triggers/${encodeURIComponent(call.trigger_id)}`}>{call.trigger_id}</a>
                </>
              ) : null}
            </p>
            {call.timezone ? <p>Callee's time zone {call.timezone}</p> : null}
            <h3>Task</h3>
            <p>{call.task ?? <span class="muted">none</span>}</p>
            <details>
              <summary>Metadata</summary>
              <pre>{pretty(call.metadata)}</pre>
            </details>
          </div>
        </div>
        <h2>Attempts</h2>
        <div class="panel">
          <AttemptTable call={call} />
        </div>
        <h2>Callback</h2>
        <div class="panel">
          {call.callback ? (
            <>
              <p>
                To <span class="mono">{call.webhook_url}</span>: <StatusBadge status={call.callback.status} /> after {call.callback.attempts} attempts
                {call.callback.last_status ? `, last answer ${call.callback.last_status}` : ""}
              </p>
              {call.callback.last_error ? <p class="error">{call.callback.last_error}</p> : null}
              <div class="actions">
                <a class="button secondary" href={`${callPath(call.id, call.agent_id)}#${call.callback.delivery_id}`}>
                  Its attempts
                </a>
                {REPLAYABLE.has(call.callback.status) ? <ReplayButton deliveryId={call.callback.delivery_id} csrf={c.var.csrf} back={back} /> : null}
              </div>
            </>
          ) : call.webhook_url ? (
            <p class="muted">
              Sent to <span class="mono">{call.webhook_url}</span> once the call is final.
            </p>
          ) : (
            <p class="muted">No callback URL: nothing is sent when the call ends.</p>
          )}
          {call.fallback_delivery_ids.length > 0 ? (
            <p>
              Fallback actions: <a href={callPath(call.id, call.agent_id)}>{call.fallback_delivery_ids.length} deliveries</a>
            </p>
          ) : null}
        </div>
      </Page>,
    );
  });

  // As DELETE /outbound-calls/{id}: the call's object cancels it, or says why not.
  dashboard.post("/outbound-calls/:id/cancel", async (c) => {
    const id = c.req.param("id");
    const result = OUTBOUND_CALL_ID.test(id) ? await outboundCall(c.env, id).cancel() : null;
    if (!result) throw new AppError("not_found", `no outbound call "${id}"`);
    if (!result.ok) return c.redirect(withNotice(detailPath(id), `Not cancelled: ${result.reason}`, true), 303);
    return c.redirect(withNotice(detailPath(id), "Cancelled: the call will not be placed."), 303);
  });
}
