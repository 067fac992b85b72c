import type { Hono } from "hono";
import type { DeliveryStats, OutboundStats, StatsAnswer } from "../../schemas/stats";
import { DeliveryLog } from "../../store/delivery-log";
import { readStats } from "../../store/stats";
import type { DashboardEnv } from "../env";
import { Page, StatusBadge } from "../layout";

/** How many rows the "waiting" and "failed" panels read: enough to show, bounded whatever the log holds. */
const PEEK = 100;

const percent = (rate: number | null) => (rate === null ? "—" : `${(rate * 100).toFixed(1)} %`);
const duration = (ms: number | null) => (ms === null ? "—" : ms < 60_000 ? `≤ ${ms / 1000} s` : ms < 3_600_000 ? `≤ ${ms / 60_000} min` : `≤ ${ms / 3_600_000} h`);

/**
 * One horizontal bar per row, its length the rate: a chart drawn on the server, so it needs no
 * script and no library. The numbers are in the table beside it; the chart is decoration for
 * screen readers (aria-hidden).
 */
function RateBars(props: { rows: { label: string; rate: number | null }[] }) {
  const height = 18;
  return (
    <svg class="chart" viewBox={`0 0 100 ${Math.max(1, props.rows.length) * height}`} preserveAspectRatio="none" aria-hidden="true">
      {props.rows.map((row, i) => (
        <rect class={row.rate !== null && row.rate < 0.9 ? "bar bad" : "bar"} x="0" y={i * height + 3} height={height - 6} width={Math.max(0.5, (row.rate ?? 0) * 100)} />
      ))}
    </svg>
  );
}

/** Counts by action type as bars, largest full width, with the type and count as text beside. */
function CountBars(props: { rows: { action_type: string }[] }) {
  const counts = new Map<string, number>();
  for (const row of props.rows) counts.set(row.action_type, (counts.get(row.action_type) ?? 0) + 1);
  if (counts.size === 0) return null;
  const max = Math.max(...counts.values());
  const entries = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  return (
    <>
      <RateBars rows={entries.map(([label, n]) => ({ label, rate: n / max }))} />
      <div class="hint">{entries.map(([label, n]) => `${label} ${n}`).join(" · ")}</div>
    </>
  );
}

function DeliveryTable(props: { title: string; answer: StatsAnswer }) {
  const groups = props.answer.deliveries.groups.filter((g) => g.settled > 0);
  return (
    <div class="panel">
      <h2>{props.title}</h2>
      {groups.length === 0 ? (
        <p class="muted">Nothing settled in this window.</p>
      ) : (
        <>
          <RateBars rows={groups.map((g) => ({ label: g.key ?? "—", rate: g.success_rate }))} />
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{props.answer.group_by === "provider" ? "Provider" : "Action"}</th>
                  <th scope="col">Success</th>
                  <th scope="col">p50</th>
                  <th scope="col">Settled</th>
                </tr>
              </thead>
              <tbody>
                {groups.map((g: DeliveryStats & { key: string | null }) => (
                  <tr>
                    <td>{g.key ?? "—"}</td>
                    <td>{percent(g.success_rate)}</td>
                    <td>{duration(g.latency.p50_ms)}</td>
                    <td>{g.settled}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}

function OutboundTable(props: { answer: StatsAnswer }) {
  const groups = props.answer.outbound_calls.groups.filter((g) => g.final > 0);
  return (
    <div class="panel">
      <h2>Outbound outcomes by trigger (7 days)</h2>
      {groups.length === 0 ? (
        <p class="muted">No outbound call ended in this window.</p>
      ) : (
        <>
          <RateBars rows={groups.map((g) => ({ label: g.key ?? "API", rate: g.connect_rate }))} />
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Trigger</th>
                  <th scope="col">Connected</th>
                  <th scope="col">Outcomes</th>
                  <th scope="col">Re-dials</th>
                </tr>
              </thead>
              <tbody>
                {groups.map((g: OutboundStats & { key: string | null }) => (
                  <tr>
                    <td>{g.key ? <a href={`/dashboard/outbound-calls?trigger_id=${encodeURIComponent(g.key)}`}>{g.key}</a> : "API (no trigger)"}</td>
                    <td>{percent(g.connect_rate)}</td>
                    <td>
                      {Object.entries(g.by_outcome).map(([outcome, n]) => (
                        <span>
                          <StatusBadge status={outcome} /> {n}{" "}
                        </span>
                      ))}
                    </td>
                    <td>{g.redials}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}

/** GET /dashboard: success rates, latency, outbound outcomes, what waits and what failed. */
export function registerOverviewPage(dashboard: Hono<DashboardEnv>) {
  dashboard.get("/", async (c) => {
    const now = Date.now();
    const db = c.env.DB;
    const log = new DeliveryLog(db);
    const [byType24h, byProvider24h, byType7d, byProvider7d, byTrigger, retrying, failed] = await Promise.all([
      readStats(db, { window: "24h", group_by: "action_type", now }),
      readStats(db, { window: "24h", group_by: "provider", now }),
      readStats(db, { window: "7d", group_by: "action_type", now }),
      readStats(db, { window: "7d", group_by: "provider", now }),
      readStats(db, { window: "7d", group_by: "trigger", now }),
      log.list({ status: "retrying", limit: PEEK }),
      log.list({ status: "failed", limit: PEEK }),
    ]);
    const hourAgo = new Date(now - 3_600_000).toISOString();
    const waiting = retrying?.deliveries ?? [];
    const recentFailures = (failed?.deliveries ?? []).filter((d) => d.updated_at >= hourAgo);
    const total = byType24h.deliveries.total;
    return c.html(
      <Page title="Overview" section="overview" nonce={c.var.nonce} csrf={c.var.csrf}>
        <h1>Overview</h1>
        <div class="grid">
          <div class="panel">
            <div class="muted">Success rate, 24 h</div>
            <div class="metric">{percent(total.success_rate)}</div>
            <div class="hint">{total.settled} deliveries settled</div>
          </div>
          <div class="panel">
            <div class="muted">Accepted → delivered, p50 / p95</div>
            <div class="metric">{duration(total.latency.p50_ms)}</div>
            <div class="hint">p95 {duration(total.latency.p95_ms)}</div>
          </div>
          <div class="panel">
            <div class="muted">Waiting in retry</div>
            <div class="metric">
              <a href="/dashboard/deliveries?status=retrying">{waiting.length >= PEEK ? `${PEEK}+` : waiting.length}</a>
            </div>
            <CountBars rows={waiting} />
          </div>
          <div class="panel">
            <div class="muted">Failed in the last hour</div>
            <div class="metric">
              <a href="/dashboard/deliveries?status=failed">{recentFailures.length >= PEEK ? `${PEEK}+` : recentFailures.length}</a>
            </div>
            <CountBars rows={recentFailures} />
          </div>
        </div>
        <div class="grid">
          <DeliveryTable title="By action type, 24 h" answer={byType24h} />
          <DeliveryTable title="By provider, 24 h" answer={byProvider24h} />
          <DeliveryTable title="By action type, 7 days" answer={byType7d} />
          <DeliveryTable title="By provider, 7 days" answer={byProvider7d} />
        </div>
        <OutboundTable answer={byTrigger} />
        {recentFailures.length > 0 ? (
          <div class="panel">
            <h2>Failures in the last hour</h2>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Call</th>
                    <th scope="col">Action</th>
                    <th scope="col">Error</th>
                  </tr>
                </thead>
                <tbody>
                  {recentFailures.slice(0, 20).map((d) => (
                    <tr>
                      <td class="mono">{d.updated_at}</td>
                      <td>
                        <a href={`/dashboard/calls/${encodeURIComponent(d.call_id)}?agent_id=${encodeURIComponent(d.agent_id)}`}>{d.call_id}</a>
                      </td>
                      <td>{d.action_type}</td>
                      <td>{d.last_error ?? ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        ) : null}
      </Page>,
    );
  });
}
