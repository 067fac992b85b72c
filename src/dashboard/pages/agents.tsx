import type { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError, type FieldProblem } from "../../errors";
import { updateAgent, validConfig } from "../../pipeline/agent-service";
import { previewAgent } from "../../pipeline/preview";
import { type Agent, type AgentConfig, PostCallFollowUp } from "../../schemas/agent";
import { Identifier } from "../../schemas/call-event";
import { AgentStore, toConfig } from "../../store/agents";
import { SAMPLE_CALL } from "../../templates/sample-call";
import { AgentPage } from "../agents/agent-page";
import { applyOp, configOf, draftFromForm, draftOf } from "../agents/draft";
import { AgentTable, successRates } from "../agents/list";
import type { DashboardEnv } from "../env";
import { Page } from "../layout";

const PAGE_SIZE = 50;
/** The notices a redirect may ask for: a query string cannot put words of its own on the page. */
const NOTICES: Record<string, string> = { Saved: "Saved" };

const store = (env: CloudflareBindings) => new AgentStore(env.DB, env.CONFIG_CACHE);

/** The agent of the path, or a 404 page. */
async function agentOf(env: CloudflareBindings, id: string): Promise<Agent> {
  const agent = Identifier.safeParse(id).success ? await store(env).get(id) : null;
  if (!agent) throw new HTTPException(404, { message: `no agent "${id}"` });
  return agent;
}

/** The problems of a refused validation; anything else is thrown on. */
function problemsOf(err: unknown): FieldProblem[] {
  if (err instanceof AppError && err.code === "validation_failed") return err.errors;
  throw err;
}

/** Problems the form found itself (JSON that does not parse) win over the schema's about the same field. */
const merged = (local: FieldProblem[], service: FieldProblem[]) => [...local, ...service.filter((p) => !local.some((l) => l.pointer === p.pointer))];

/** The agent as it would be with a validated config's voice tools: what a preview renders. */
function withVoiceTools(agent: Agent, config: AgentConfig): Agent {
  const { post_call_follow_up, outbound_calls } = config.voice_tools ?? {};
  return {
    ...agent,
    voice_tools: { post_call_follow_up: post_call_follow_up ?? PostCallFollowUp.parse({}), ...(outbound_calls ? { outbound_calls } : {}) },
  };
}

/** Agents, and each agent's Voice Settings. */
export function registerAgentPages(dashboard: Hono<DashboardEnv>) {
  dashboard.get("/agents", async (c) => {
    const cursor = c.req.query("cursor");
    if (cursor !== undefined && !Identifier.safeParse(cursor).success) throw new HTTPException(400, { message: "that is not a page of the agent list" });
    const [{ agents, next_cursor }, rates] = await Promise.all([store(c.env).list(PAGE_SIZE, cursor), successRates(c.env.DB, Date.now())]);
    return c.html(
      <Page title="Agents" section="agents" nonce={c.var.nonce} csrf={c.var.csrf}>
        <h1>Agents</h1>
        <div class="panel">
          {agents.length === 0 ? (
            <p class="muted">{cursor ? "No more agents." : "No agents yet: create one with PUT /agents/{agent_id}."}</p>
          ) : (
            <AgentTable agents={agents} rates={rates} />
          )}
          <nav class="actions" aria-label="Pages">
            {cursor ? (
              <a class="button secondary" href="/dashboard/agents">
                First page
              </a>
            ) : null}
            {next_cursor ? (
              <a class="button secondary" href={`/dashboard/agents?cursor=${encodeURIComponent(next_cursor)}`}>
                Next page
              </a>
            ) : null}
          </nav>
        </div>
      </Page>,
    );
  });

  dashboard.get("/agents/:agent_id", async (c) => {
    const agent = await agentOf(c.env, c.req.param("agent_id"));
    const notice = NOTICES[c.req.query("notice") ?? ""];
    return c.html(<AgentPage agent={agent} draft={draftOf(agent)} nonce={c.var.nonce} csrf={c.var.csrf} notice={notice ? { text: notice } : undefined} />);
  });

  /**
   * The Voice Settings form. Its buttons: `save` (validated and stored like PATCH /agents/{id}),
   * `preview` (the form rendered against the sample call, nothing stored), and those that only
   * change the form (add, remove, up, down, refresh): the page comes back with the change.
   */
  dashboard.post("/agents/:agent_id", async (c) => {
    const agent = await agentOf(c.env, c.req.param("agent_id"));
    const form = await c.req.raw.formData();
    const { draft, op } = draftFromForm(form);
    const page = (props: { problems?: FieldProblem[]; previews?: Awaited<ReturnType<typeof previewAgent>> }, status: 200 | 409 | 422 = 200) =>
      c.html(<AgentPage agent={agent} draft={draft} nonce={c.var.nonce} csrf={c.var.csrf} {...props} />, status);

    if (op !== "save" && op !== "preview") {
      const newType = form.get("new_type");
      const changed = applyOp(draft, op, typeof newType === "string" ? newType : undefined);
      if (!changed) throw new HTTPException(400, { message: "the form was sent with a button this page does not have: reload it" });
      return c.html(<AgentPage agent={agent} draft={changed} nonce={c.var.nonce} csrf={c.var.csrf} />);
    }

    const { candidate, problems: local } = configOf(draft, toConfig(agent));
    let valid: AgentConfig | undefined;
    let problems = local;
    try {
      valid = validConfig(candidate, c.var.config);
    } catch (err) {
      problems = merged(local, problemsOf(err));
    }
    if (problems.length > 0 || !valid) return page({ problems }, 422);

    if (op === "preview") {
      const previews = await previewAgent(withVoiceTools(agent, valid), { ...SAMPLE_CALL, agent_id: agent.id }, c.env);
      return page({ previews });
    }

    try {
      // The same read, change, validate and store as PATCH /agents/{id}; the form applies to the
      // config as it is now, so what the form does not show (templates, platform_ids) is kept.
      await updateAgent(c.env, agent.id, (current) => configOf(draft, current).candidate, c.var.config);
    } catch (err) {
      if (err instanceof AppError && err.code === "conflict") return page({ problems: [{ path: "$", pointer: "", message: err.message }] }, 409);
      return page({ problems: problemsOf(err) }, 422);
    }
    return c.redirect(`/dashboard/agents/${encodeURIComponent(agent.id)}?notice=Saved`, 303);
  });
}
