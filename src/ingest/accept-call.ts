import { AppError, fieldProblem } from "../errors";
import type { AcceptOptions } from "../ledger/call-ledger";
import { ledgerFor } from "../ledger/client";
import { authorizeAgentKey } from "../middleware/ingest-auth";
import { isOutboundCallId, outboundCall } from "../outbound/client";
import { resolveOutcome } from "../platforms/outcome";
import type { Agent } from "../schemas/agent";
import type { CallEndedEvent } from "../schemas/call-event";
import type { IngestResult } from "../schemas/delivery";
import { enforceIngestRateLimit, ingestRateLimiter } from "../security/rate-limit";
import { AgentStore, publicAgent } from "../store/agents";
import { OutboundCallIndex } from "../store/outbound-calls";

export interface AcceptCallInput extends AcceptOptions {
  /** The hash of an agent's own ingest key the request carried, to check against the event's agent. */
  agentKeyHash?: string;
}

/**
 * The one way a call-ended event enters the relay, from `POST /calls/ended` and from every
 * platform route: the event's agent (cached), its key and rate limit, the outcome its
 * `outcome_field` rule gives, then the call's ledger, then the outbound call it ends, if any.
 */
export async function acceptCall(env: CloudflareBindings, event: CallEndedEvent, input: AcceptCallInput = {}): Promise<IngestResult> {
  if (isOutboundCallId(event.call_id)) {
    // The ledger keeps each outbound call's callback under the outbound call's own id.
    throw new AppError("validation_failed", "call ids of the form oc_… are the relay's own outbound calls", [
      fieldProblem(["call_id"], "reserved: use the voice platform's call id, and name our id in metadata.outbound_call_id"),
    ]);
  }
  const { agentKeyHash, ...options } = input;
  const stored = await new AgentStore(env.DB, env.CONFIG_CACHE).getCached(event.agent_id);
  authorizeAgentKey(agentKeyHash, stored, event.agent_id);
  await enforceIngestRateLimit(ingestRateLimiter(env), event.agent_id);
  const agent = stored && publicAgent(stored);
  const outcome = agent ? resolveOutcome(event, agent).outcome : (event.outcome ?? null);
  const resolved = outcome === (event.outcome ?? null) ? event : { ...event, outcome };
  const result = await ledgerFor(env, event.agent_id, event.call_id).accept(resolved, agent, new Date().toISOString(), options);
  // Also for a duplicate: a platform's retry after a lost answer must still reach the outbound call.
  await endOutboundCall(env, agent, resolved, options.holdUntil);
  return result;
}

/**
 * Tells the outbound call this event ends, found by our id in the event's metadata or by the
 * platform's call id. Only agents that may have placed calls pay the lookup.
 */
async function endOutboundCall(env: CloudflareBindings, agent: Agent | null, event: CallEndedEvent, provisionalUntil?: number): Promise<void> {
  const named = event.metadata?.outbound_call_id;
  let id = isOutboundCallId(named) ? named : null;
  if (id === null && mayHavePlacedCalls(agent)) id = await new OutboundCallIndex(env.DB).byPlatformCall(event.call_id);
  if (id === null) return;
  await outboundCall(env, id).ended(event, provisionalUntil);
}

/**
 * Whether an agent may have calls of its own still open: it places calls now, or its settings
 * changed since it was created, and a call keeps the settings it was requested with, so one
 * placed before calling was turned off still ends by its platform call id. An agent never
 * changed since its creation never had settings to lose: its events cost no D1 read.
 */
export function mayHavePlacedCalls(agent: Pick<Agent, "voice_tools" | "created_at" | "updated_at"> | null): boolean {
  if (!agent) return false;
  return Boolean(agent.voice_tools.outbound_calls) || agent.updated_at !== agent.created_at;
}
