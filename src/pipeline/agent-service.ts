import type { Config } from "../config";
import { validationFailed, zodProblems } from "../errors";
import { type Agent, AgentConfig } from "../schemas/agent";
import { AgentStore, toConfig } from "../store/agents";
import { checkAgentConfig } from "./agent-checks";
import { agentWarnings } from "./preview";

/** A saved agent, whether the save created it, and what is worth knowing though it is valid. */
export interface SavedAgent {
  agent: Agent;
  created: boolean;
  warnings: string[];
}

/**
 * Validates a complete config with the schema and the rules a schema cannot express (template
 * variables, built-in bodies, providers, webhook targets), naming every problem at once in one
 * 422 `validation_failed` error.
 */
export function validConfig(candidate: unknown, config: Config): AgentConfig {
  const parsed = AgentConfig.safeParse(candidate);
  const options = { allowPrivateTargets: config.allowPrivateTargets, allowSimulator: config.allowSimulator };
  const problems = [...(parsed.success ? [] : zodProblems(parsed.error)), ...checkAgentConfig(candidate, options)];
  if (!parsed.success || problems.length > 0) throw validationFailed("the agent config is invalid", problems);
  return parsed.data;
}

/**
 * Validates a whole config and stores it as the agent's (PUT /agents/{id}).
 *
 * @example
 * const { agent, created } = await saveAgent(env, "agent_abc123", { name: "Acme Support" }, c.var.config);
 */
export async function saveAgent(env: CloudflareBindings, id: string, candidate: unknown, config: Config, now = new Date()): Promise<SavedAgent> {
  const valid = validConfig(candidate, config);
  const { agent, created } = await new AgentStore(env.DB, env.CONFIG_CACHE).put(id, valid, now.toISOString());
  return { agent, created, warnings: agentWarnings(agent) };
}

/**
 * Reads the agent's config (empty when there is no such agent), changes it, then validates and
 * stores the result: PATCH /agents/{id} with a merge patch, the dashboard with its form.
 *
 * @example
 * await updateAgent(env, id, (current) => applyMergePatch(current, patch), c.var.config);
 */
export async function updateAgent(
  env: CloudflareBindings,
  id: string,
  change: (current: AgentConfig) => unknown,
  config: Config,
  now = new Date(),
): Promise<SavedAgent> {
  const current = await new AgentStore(env.DB, env.CONFIG_CACHE).get(id);
  return saveAgent(env, id, change(current ? toConfig(current) : {}), config, now);
}
