import type { Agent } from "../../schemas/agent";
import { readStats } from "../../store/stats";

/** Per agent id, the share of its settled deliveries that were delivered over the last 24 h (null: none settled). */
export type SuccessRates = ReadonlyMap<string, { rate: number | null; settled: number }>;

/**
 * The 24 h success rate per agent, from the stats service's hourly rollups (the same read as
 * GET /stats?window=24h&group_by=agent). Rates are an aid on the list: when they cannot be read,
 * the list still renders, with "—" in their column.
 */
export async function successRates(db: D1Database, now: number): Promise<SuccessRates> {
  try {
    const stats = await readStats(db, { window: "24h", group_by: "agent", now });
    return new Map(stats.deliveries.groups.flatMap((g) => (g.key === null ? [] : [[g.key, { rate: g.success_rate, settled: g.settled }] as const])));
  } catch (err) {
    console.error("dashboard: success rates unavailable", err instanceof Error ? { name: err.name, message: err.message } : err);
    return new Map();
  }
}

const percent = (rate: number) => `${(rate * 100).toFixed(rate === 1 ? 0 : 1)}%`;

/** The agents of one page, with what each does after a call and how that went. */
export function AgentTable(props: { agents: Agent[]; rates: SuccessRates }) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="hint">Success rate: deliveries delivered out of those settled (skipped ones aside) in the last 24 hours; — when none settled.</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Id</th>
            <th scope="col">Follow-up</th>
            <th scope="col">Actions</th>
            <th scope="col">Outbound platform</th>
            <th scope="col">Success rate (24 h)</th>
          </tr>
        </thead>
        <tbody>
          {props.agents.map((agent) => {
            const { enabled, actions } = agent.voice_tools.post_call_follow_up;
            const stats = props.rates.get(agent.id);
            return (
              <tr>
                <td>
                  <a href={`/dashboard/agents/${encodeURIComponent(agent.id)}`}>{agent.name}</a>
                </td>
                <td>
                  <code>{agent.id}</code>
                </td>
                <td>{enabled ? <span class="badge ok">On</span> : <span class="badge">Off</span>}</td>
                <td>{actions.length}</td>
                <td>{agent.voice_tools.outbound_calls?.platform.type ?? "—"}</td>
                <td>
                  {stats && stats.rate !== null ? (
                    <span title={`${stats.settled} settled`}>{percent(stats.rate)}</span>
                  ) : (
                    <span class="muted" title="no settled deliveries in the last 24 hours">
                      —
                    </span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
