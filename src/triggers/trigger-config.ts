import { type FieldProblem, fieldProblem, zodProblems } from "../errors";
import { TriggerConfig } from "../schemas/trigger";
import { AgentStore } from "../store/agents";
import { checkTriggerTemplates } from "./fire-trigger";

/**
 * What POST /triggers and the dashboard's trigger form both check: the schema, the templates'
 * syntax, and an agent that exists. The config when it passes; every problem when it does not.
 */
export async function checkTriggerConfig(
  env: CloudflareBindings,
  candidate: unknown,
  options: { change?: boolean } = {},
): Promise<{ ok: true; config: TriggerConfig } | { ok: false; problems: FieldProblem[] }> {
  const parsed = TriggerConfig.safeParse(candidate);
  const problems = parsed.success ? checkTriggerTemplates(parsed.data) : zodProblems(parsed.error);
  // A change that leaves the trigger disabled may keep an agent that is gone, so a trigger
  // whose agent was deleted can still be switched off.
  const needsAgent = parsed.success && problems.length === 0 && !(options.change && parsed.data.enabled === false);
  if (needsAgent && !(await new AgentStore(env.DB, env.CONFIG_CACHE).get(parsed.data.agent_id))) {
    problems.push(fieldProblem(["agent_id"], `no agent "${parsed.data.agent_id}"`));
  }
  return parsed.success && problems.length === 0 ? { ok: true, config: parsed.data } : { ok: false, problems };
}
