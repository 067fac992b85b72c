import { z } from "@hono/zod-openapi";
import type { Hono } from "hono";
import { ledgerFor } from "../../ledger/client";
import { unreadableCursor } from "../../routes/listing";
import { ACTION_TYPES } from "../../schemas/agent";
import { Identifier } from "../../schemas/call-event";
import { type Delivery, DeliveryStatus } from "../../schemas/delivery";
import { DeliveryLog } from "../../store/delivery-log";
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
  backTo,
  callPath,
  formOf,
  here,
  listNotice,
  query,
  readFilters,
  withNotice,
} from "./shared";

const PAGE_SIZE = 50;
/** How many dead letters the log's page shows above the log itself. */
const DEAD_SHOWN = 10;

/**
 * The dead letters: deliveries that ended `failed` (retries exhausted, or refused for good).
 * The log has no separate "dead" state; `gone` (the target said 410) is listed with them.
 */
const DEAD_STATUS = "failed" satisfies DeliveryStatus;

function DeliveryTable(props: { deliveries: Delivery[]; csrf: string; back: string }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Created</th>
            <th scope="col">Delivery</th>
            <th scope="col">Agent</th>
            <th scope="col">Type</th>
            <th scope="col">Target</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last answer</th>
            <th scope="col">
              <span class="muted">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.deliveries.map((d) => (
            <tr>
              <td>
                <When at={d.created_at} />
              </td>
              <td>
                <a class="mono" href={`${callPath(d.call_id, d.agent_id)}#${d.id}`}>
                  {d.id}
                </a>
                <div class="hint">call {d.call_id}</div>
              </td>
              <td>
                <AgentLink id={d.agent_id} />
              </td>
              <td>
                {d.action_type}
                {d.provider ? <div class="hint">{d.provider}</div> : null}
              </td>
              <td>{d.target ?? "—"}</td>
              <td>
                <StatusBadge status={d.status} />
                {d.next_attempt_at && d.status === "retrying" ? (
                  <div class="hint">
                    next <When at={d.next_attempt_at} />
                  </div>
                ) : null}
              </td>
              <td>{d.attempts}</td>
              <td>
                {d.last_status ?? ""} {d.last_error ?? ""}
              </td>
              <td>{REPLAYABLE.has(d.status) ? <ReplayButton deliveryId={d.id} csrf={props.csrf} back={props.back} /> : null}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The delivery log with its filters and dead letters, and Replay. */
export function registerDeliveryPages(dashboard: Hono<DashboardEnv>) {
  dashboard.get("/deliveries", async (c) => {
    const { values, raw, problems } = readFilters(c, {
      status: DeliveryStatus,
      type: z.enum(ACTION_TYPES),
      agent_id: Identifier,
      call_id: Identifier.max(256),
    });
    const cursor = c.req.query("cursor") || undefined;
    const log = new DeliveryLog(c.env.DB);
    const deadOnly = values.status === DEAD_STATUS;
    const [page, dead, agents] = await Promise.all([
      log.list({ ...values, limit: PAGE_SIZE, cursor }),
      // The dead letters lead the unfiltered log; the filter link lists them all.
      Object.keys(raw).length === 0 && !cursor ? log.list({ status: DEAD_STATUS, limit: DEAD_SHOWN }) : null,
      agentsToOffer(c.env),
    ]);
    if (!page) throw unreadableCursor();
    const back = here(c);
    const deadLink = `/dashboard/deliveries${query({ status: DEAD_STATUS })}`;
    return c.html(
      <Page title={deadOnly ? "Dead letters" : "Deliveries"} section="deliveries" nonce={c.var.nonce} csrf={c.var.csrf} notice={listNotice(c, problems)}>
        <h1>{deadOnly ? "Dead-lettered deliveries" : "Deliveries"}</h1>
        <nav class="actions" aria-label="Quick filters">
          <a class="button secondary" href="/dashboard/deliveries" aria-current={Object.keys(raw).length === 0 ? "page" : undefined}>
            All
          </a>
          <a class="button secondary" href={deadLink} aria-current={deadOnly ? "page" : undefined}>
            Dead letters (failed)
          </a>
          <a class="button secondary" href={`/dashboard/deliveries${query({ status: "gone" })}`}>
            Gone
          </a>
          <a class="button secondary" href={`/dashboard/deliveries${query({ status: "retrying" })}`}>
            Retrying
          </a>
        </nav>
        {deadOnly ? (
          <p class="hint">
            Deliveries that failed for good: their retries ran out, or the target refused them in a way retrying cannot fix. Replay sends one again
            with a fresh retry budget and the same webhook-id.
          </p>
        ) : null}
        {dead && dead.deliveries.length > 0 ? (
          <section class="panel" aria-labelledby="dead-heading">
            <h2 id="dead-heading">Dead letters</h2>
            <DeliveryTable deliveries={dead.deliveries} csrf={c.var.csrf} back={back} />
            {dead.next_cursor ? (
              <p>
                <a href={deadLink}>Every dead letter</a>
              </p>
            ) : null}
          </section>
        ) : null}
        <Filters action="/dashboard/deliveries">
          <SelectFilter name="status" label="Status" options={DeliveryStatus.options} value={raw.status} />
          <SelectFilter name="type" label="Action type" options={ACTION_TYPES} value={raw.type} />
          <AgentFilter agents={agents} value={raw.agent_id} />
          <div>
            <label for="f-call_id">Call id</label>
            <input id="f-call_id" name="call_id" type="text" value={raw.call_id} />
          </div>
          <TimeRange since={raw.since} until={raw.until} what="Created" />
        </Filters>
        <section class="panel" aria-label="Delivery log">
          {dead ? <h2>Log</h2> : null}
          {page.deliveries.length === 0 ? <p class="muted">No delivery matches.</p> : <DeliveryTable deliveries={page.deliveries} csrf={c.var.csrf} back={back} />}
        </section>
        <Pager path="/dashboard/deliveries" filters={raw} nextCursor={page.next_cursor} paged={cursor !== undefined} />
      </Page>,
    );
  });

  // As POST /deliveries/{delivery_id}/retry: the call's ledger replays the action.
  dashboard.post("/deliveries/:id/retry", async (c) => {
    const id = c.req.param("id");
    const back = backTo((await formOf(c)).back, "/dashboard/deliveries");
    const delivery = id.length <= 64 ? await new DeliveryLog(c.env.DB).get(id) : null;
    if (!delivery) return c.redirect(withNotice(back, `No delivery "${id}".`, true), 303);
    const result = await ledgerFor(c.env, delivery.agent_id, delivery.call_id).replay(delivery.action_index);
    if (!result.ok) return c.redirect(withNotice(back, `Not replayed: ${result.reason}`, true), 303);
    return c.redirect(withNotice(back, `Delivery ${id} is queued again.`), 303);
  });
}
