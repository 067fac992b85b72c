import type { Hono } from "hono";
import { AppError } from "../../errors";
import { ledgerFor } from "../../ledger/client";
import { unreadableCursor } from "../../routes/listing";
import { Identifier } from "../../schemas/call-event";
import { Call } from "../../schemas/delivery";
import { CallLog } from "../../store/calls";
import { type AttemptRow, DeliveryLog } from "../../store/delivery-log";
import type { DashboardEnv } from "../env";
import { Page, StatusBadge } from "../layout";
import {
  AgentLink,
  AgentFilter,
  Filters,
  Pager,
  REPLAYABLE,
  ReplayButton,
  SelectFilter,
  TimeRange,
  When,
  agentsToOffer,
  callPath,
  here,
  listNotice,
  millis,
  noticeOf,
  pretty,
  readFilters,
} from "./shared";

const PAGE_SIZE = 50;
/** A transcript longer than this is cut on the page (the API has it whole). */
const TRANSCRIPT_SHOWN = 20_000;

const CALL_STATUSES = Call.shape.status.options;

/** The attempts of one delivery: when, what came of it, and what the provider said. */
function AttemptTable(props: { attempts: AttemptRow[] }) {
  if (props.attempts.length === 0) return <p class="muted">No attempt yet.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Started</th>
            <th scope="col">Outcome</th>
            <th scope="col">Status code</th>
            <th scope="col">Latency</th>
            <th scope="col">Error</th>
            <th scope="col">Provider id</th>
          </tr>
        </thead>
        <tbody>
          {props.attempts.map((a) => (
            <tr>
              <td>{a.attempt}</td>
              <td>
                <When at={a.started_at} />
              </td>
              <td>
                <StatusBadge status={a.outcome} />
                {a.detail ? <div class="hint">{a.detail}</div> : null}
              </td>
              <td>{a.status_code ?? "—"}</td>
              <td>{millis(a.duration_ms)}</td>
              <td>
                {a.error ?? ""}
                {a.response_body ? (
                  <details>
                    <summary>Answer</summary>
                    <pre>{a.response_body}</pre>
                  </details>
                ) : null}
              </td>
              <td class="mono">
                {a.provider ? `${a.provider}: ` : ""}
                {a.provider_id ?? "—"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Calls: the filterable list, and one call's timeline. */
export function registerCallPages(dashboard: Hono<DashboardEnv>) {
  dashboard.get("/calls", async (c) => {
    const { values, raw, problems } = readFilters(c, { status: Call.shape.status, agent_id: Identifier });
    const cursor = c.req.query("cursor") || undefined;
    const [page, agents] = await Promise.all([new CallLog(c.env.DB).list({ ...values, limit: PAGE_SIZE, cursor }), agentsToOffer(c.env)]);
    if (!page) throw unreadableCursor();
    return c.html(
      <Page title="Calls" section="calls" nonce={c.var.nonce} csrf={c.var.csrf} notice={listNotice(c, problems)}>
        <h1>Calls</h1>
        <Filters action="/dashboard/calls">
          <SelectFilter name="status" label="Status" options={CALL_STATUSES} value={raw.status} />
          <AgentFilter agents={agents} value={raw.agent_id} />
          <TimeRange since={raw.since} until={raw.until} what="Received" />
        </Filters>
        <div class="panel table-wrap">
          {page.calls.length === 0 ? (
            <p class="muted">No call matches.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Received</th>
                  <th scope="col">Call</th>
                  <th scope="col">Agent</th>
                  <th scope="col">Status</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {page.calls.map((call) => (
                  <tr>
                    <td>
                      <When at={call.received_at} />
                    </td>
                    <td>
                      <a href={callPath(call.call_id, call.agent_id)} class="mono">
                        {call.call_id}
                      </a>
                    </td>
                    <td>
                      <AgentLink id={call.agent_id} />
                    </td>
                    <td>
                      <StatusBadge status={call.status} />
                      {call.reason ? <div class="hint">{call.reason}</div> : null}
                    </td>
                    <td>{call.action_count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        <Pager path="/dashboard/calls" filters={raw} nextCursor={page.next_cursor} paged={cursor !== undefined} />
      </Page>,
    );
  });

  dashboard.get("/calls/:call_id", async (c) => {
    const callId = c.req.param("call_id");
    const given = Identifier.safeParse(c.req.query("agent_id"));
    if (!Identifier.max(256).safeParse(callId).success) throw new AppError("not_found", `no call "${callId}"`);
    const log = new DeliveryLog(c.env.DB);
    // As GET /calls/{call_id}: the agent given, else the newest call with that id in the log.
    const sameId = await log.callsById(callId);
    const agentId = given.success ? given.data : sameId[0]?.agent_id;
    const snapshot = agentId ? await ledgerFor(c.env, agentId, callId).snapshot() : null;
    if (!agentId || !snapshot) throw new AppError("not_found", `no call "${callId}"`);
    const attempts = await log.attempts(snapshot.actions.map((a) => a.id));
    const { call, event } = snapshot;
    const callerName = typeof event.metadata?.caller_name === "string" ? event.metadata.caller_name : null;
    const back = here(c);
    const others = sameId.filter((other) => other.agent_id !== agentId);
    return c.html(
      <Page title={`Call ${callId}`} section="calls" nonce={c.var.nonce} csrf={c.var.csrf} notice={noticeOf(c)}>
        <p>
          <a href="/dashboard/calls">← Calls</a>
        </p>
        <h1>
          Call <span class="mono">{callId}</span>
        </h1>
        <p class="muted">
          Agent <AgentLink id={call.agent_id} /> ({call.agent_name}) · <StatusBadge status={call.status} /> {call.reason ?? ""}
        </p>
        {others.length > 0 ? (
          <p class="hint">
            Other agents have a call with this id:{" "}
            {others.map((other) => (
              <a href={callPath(callId, other.agent_id)}>{other.agent_id} </a>
            ))}
          </p>
        ) : null}
        <ol class="timeline">
          <li>
            <h2>Event received</h2>
            <p>
              <When at={call.received_at} />
            </p>
            <dl class="grid">
              <div>
                <dt class="muted">Caller</dt>
                <dd>
                  {callerName ?? <span class="muted">no name</span>} · {event.caller_number ?? <span class="muted">no number</span>}
                </dd>
              </div>
              <div>
                <dt class="muted">Outcome</dt>
                <dd>{event.outcome ?? "—"}</dd>
              </div>
              <div>
                <dt class="muted">Ended</dt>
                <dd>
                  <When at={event.ended_at} />
                  {event.duration_seconds != null ? ` after ${Math.round(event.duration_seconds)} s` : ""}
                  {event.ended_reason ? ` (${event.ended_reason})` : ""}
                </dd>
              </div>
            </dl>
            <h3>Summary</h3>
            <p>{event.summary ?? <span class="muted">none</span>}</p>
            {event.recording_url && /^https?:\/\//i.test(event.recording_url) ? (
              <p>
                <a href={event.recording_url} rel="noreferrer noopener">
                  Recording
                </a>
              </p>
            ) : null}
            {event.transcript ? (
              <details>
                <summary>Transcript</summary>
                <pre>
                  {event.transcript.slice(0, TRANSCRIPT_SHOWN)}
                  {event.transcript.length > TRANSCRIPT_SHOWN ? "\n… (cut here; GET /calls/{call_id} has it whole)" : ""}
                </pre>
              </details>
            ) : null}
            {event.metadata || event.details ? (
              <details>
                <summary>Metadata and details</summary>
                <pre>{pretty({ metadata: event.metadata ?? null, details: event.details ?? null })}</pre>
              </details>
            ) : null}
            {snapshot.raw !== null ? (
              <details>
                <summary>The platform's payload</summary>
                <pre>{pretty(snapshot.raw)}</pre>
              </details>
            ) : null}
          </li>
          {snapshot.actions.map((action, i) => (
            <li id={action.id}>
              <h2>
                {i + 1}. {action.action_type} <StatusBadge status={action.status} />
              </h2>
              <p class="muted">
                <span class="mono">{action.id}</span> · to {action.target ?? "—"} · provider {action.provider ?? "chosen at send time"}
                {action.run > 0 ? ` · re-run ${action.run}` : ""}
              </p>
              {action.next_attempt_at && (action.status === "pending" || action.status === "retrying") ? (
                <p>
                  Next attempt <When at={action.next_attempt_at} />
                </p>
              ) : null}
              {action.last_error ? <p class="error">{action.last_error}</p> : null}
              <AttemptTable attempts={attempts.get(action.id) ?? []} />
              {REPLAYABLE.has(action.status) ? (
                <div class="actions">
                  <ReplayButton deliveryId={action.id} csrf={c.var.csrf} back={`${back}#${action.id}`} />
                </div>
              ) : null}
            </li>
          ))}
          {snapshot.actions.length === 0 ? (
            <li>
              <p class="muted">No action ran for this call.</p>
            </li>
          ) : null}
        </ol>
      </Page>,
    );
  });
}
