import type { FieldProblem } from "../../errors";
import type { ActionPreview } from "../../pipeline/preview";
import { agentWarnings } from "../../pipeline/preview";
import type { Agent } from "../../schemas/agent";
import { Csrf, Page } from "../layout";
import { type AgentDraft, idOf } from "./draft";
import type { FormView } from "./fields";
import { FollowUpSection } from "./follow-up";
import { OutboundSection } from "./outbound";
import { PreviewSection } from "./preview";
import { type PlacedProblem, placeProblems } from "./problems";

export interface AgentPageProps {
  agent: Agent;
  draft: AgentDraft;
  nonce: string;
  csrf: string;
  problems?: FieldProblem[];
  previews?: ActionPreview[];
  notice?: { text: string; bad?: boolean };
}

const Buttons = () => (
  <div class="actions">
    <button type="submit" name="op" value="save">
      Save
    </button>
    <button type="submit" class="secondary" name="op" value="preview">
      Preview
    </button>
  </div>
);

/** Every problem of a refused save, each linked to the field it is shown beside. */
function ProblemSummary(props: { placed: PlacedProblem[]; elsewhere: FieldProblem[] }) {
  const count = props.placed.length + props.elsewhere.length;
  return (
    <div class="panel" role="alert" aria-labelledby="problems-title">
      <h2 id="problems-title">
        Not saved: {count} {count === 1 ? "problem" : "problems"}
      </h2>
      <ul>
        {props.placed.map((p) => (
          <li>
            <a href={p.onGroup ? `#${idOf(p.key)}-error` : `#${idOf(p.key)}`}>{p.path}</a>: {p.message}
          </li>
        ))}
        {props.elsewhere.map((p) => (
          <li>
            <code>{p.path}</code>: {p.message} <span class="muted">(not on this page: fix it through the API)</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * An agent's page: Voice Settings (post-call follow-up and outbound calls) as one form, the
 * problems of a refused save beside their fields, and a preview under it when asked for.
 */
export function AgentPage(props: AgentPageProps) {
  const { agent, draft } = props;
  const { placed, elsewhere } = placeProblems(props.problems ?? [], draft);
  const view: FormView = { problems: new Map() };
  for (const problem of placed) view.problems.set(problem.key, [...(view.problems.get(problem.key) ?? []), problem]);
  const action = `/dashboard/agents/${encodeURIComponent(agent.id)}`;
  return (
    <Page title={agent.name} section="agents" nonce={props.nonce} csrf={props.csrf} notice={props.notice}>
      <p>
        <a href="/dashboard/agents">← Agents</a>
      </p>
      <h1>{agent.name}</h1>
      <p class="muted">
        <code>{agent.id}</code> · updated {agent.updated_at}
      </p>
      {agentWarnings(agent).map((warning) => (
        <p class="hint">Saved config: {warning}</p>
      ))}
      {placed.length + elsewhere.length > 0 ? <ProblemSummary placed={placed} elsewhere={elsewhere} /> : null}
      <form method="post" action={action} novalidate>
        <Csrf token={props.csrf} />
        <h2>Voice Settings</h2>
        <Buttons />
        <FollowUpSection view={view} draft={draft} templates={Object.keys(agent.templates)} />
        <OutboundSection view={view} draft={draft} templates={Object.keys(agent.templates)} />
        <Buttons />
      </form>
      {props.previews ? <PreviewSection previews={props.previews} /> : null}
    </Page>
  );
}
