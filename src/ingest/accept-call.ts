import type { AcceptOptions } from "../ledger/call-ledger";
import { ledgerFor } from "../ledger/client";
import { authorizeAgentKey } from "../middleware/ingest-auth";
import { resolveOutcome } from "../platforms/outcome";
import type { CallEndedEvent } from "../schemas/call-event";
import type { IngestResult } from "../schemas/delivery";
import { enforceIngestRateLimit, ingestRateLimiter } from "../security/rate-limit";
import { AgentStore, publicAgent } from "../store/agents";

export interface AcceptCallInput extends AcceptOptions {
  /** The hash of an agent's own ingest key the request carried, to check against the event's agent. */
  agentKeyHash?: string;
}

/**
 * The one way a call-ended event enters the relay, from `POST /calls/ended` and from every
 * platform route: the event's agent (cached), its key and rate limit, the outcome its
 * `outcome_field` rule gives, then the call's ledger.
 */
export async function acceptCall(env: CloudflareBindings, event: CallEndedEvent, input: AcceptCallInput = {}): Promise<IngestResult> {
  const { agentKeyHash, ...options } = input;
  const stored = await new AgentStore(env.DB, env.CONFIG_CACHE).getCached(event.agent_id);
  authorizeAgentKey(agentKeyHash, stored, event.agent_id);
  await enforceIngestRateLimit(ingestRateLimiter(env), event.agent_id);
  const agent = stored && publicAgent(stored);
  const outcome = agent ? resolveOutcome(event, agent).outcome : (event.outcome ?? null);
  const resolved = outcome === (event.outcome ?? null) ? event : { ...event, outcome };
  return ledgerFor(env, event.agent_id, event.call_id).accept(resolved, agent, new Date().toISOString(), options);
}
