import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { authErrors, json } from "../schemas/problem";
import { StatsAnswer, StatsQuery } from "../schemas/stats";
import { readStats } from "../store/stats";
import { adminRoute } from "./admin-route";

export function registerStatsRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    adminRoute({
      method: "get",
      path: "/stats",
      summary: "Delivery and outbound-call statistics over the last 24 hours, 7 or 30 days",
      description:
        "Read from hourly rollups kept up to date as deliveries settle and outbound calls become final, so any window " +
        "costs a few hundred rows, not the log. Windows are whole UTC hours: from the start of the hour one window ago " +
        "(`since`) to now. **Deliveries**: settles by status (delivered, failed, gone, skipped, unknown), success rate " +
        "(delivered / (settled − skipped)), attempts per delivery, and accepted → delivered latency p50/p95. A replay " +
        "that settles again counts again; a repeated or late copy of the log's row never does. Latency percentiles come " +
        "from a fixed histogram (1 s, 2 s, 5 s, 10 s, 30 s, 1 min, 5 min, 30 min, 2 h, 12 h, 1 day, more) and answer " +
        "the upper bound of the bucket holding them, for each delivery's first settle. **Outbound calls**: calls that " +
        "became final (completed or failed, not cancelled) by outcome, connect rate (outcomes other than no_answer, " +
        "busy, failed, voicemail, unknown / final), attempts and re-dials (attempts beyond each call's first). " +
        "`group_by` adds one group per value of a dimension; where it does not apply to a kind (deliveries have no " +
        "trigger or platform, outbound calls no action type or provider) that kind answers one group with key null. " +
        "Rows older than RETENTION_DAYS are deleted by the daily sweep.",
      tags: ["stats"],
      request: { query: StatsQuery },
      responses: {
        200: json(StatsAnswer, "Totals and groups for both kinds"),
        ...authErrors,
      },
    }),
    async (c) => {
      const { window, group_by } = c.req.valid("query");
      return c.json(await readStats(c.env.DB, { window, group_by, now: Date.now() }), 200);
    },
  );
}
