import { AppError } from "../errors";

/**
 * Sent as Retry-After when an agent is over its ingest rate limit: the longest period the
 * Workers rate-limiting binding allows (10 or 60 s), so a client that waits is under again.
 */
export const INGEST_RETRY_AFTER_SECONDS = 60;

/** The binding's key for an agent's call-ended events. */
export const ingestRateLimitKey = (agentId: string) => `ingest:${agentId}`;

/** The `[[ratelimits]]` binding of wrangler.toml, or undefined when a deployment left it out. */
export function ingestRateLimiter(env: object): RateLimit | undefined {
  const binding = (env as { INGEST_RATE_LIMITER?: RateLimit }).INGEST_RATE_LIMITER;
  return binding && typeof binding.limit === "function" ? binding : undefined;
}

/**
 * Counts one call-ended event against its agent's limit; throws 429 with Retry-After when
 * the agent is over it. Without the binding, or if the binding fails, ingest goes on: the
 * limit protects the deployment, it must never stop events from being accepted.
 *
 * @example
 * await enforceIngestRateLimit(ingestRateLimiter(c.env), event.agent_id);
 */
export async function enforceIngestRateLimit(limiter: RateLimit | undefined, agentId: string): Promise<void> {
  if (!limiter) return;
  let outcome: RateLimitOutcome;
  try {
    outcome = await limiter.limit({ key: ingestRateLimitKey(agentId) });
  } catch (err) {
    console.warn("ingest rate limiter unavailable; event let through", { agent_id: agentId, error: String(err) });
    return;
  }
  if (!outcome.success) {
    throw new AppError(
      "rate_limited",
      `agent "${agentId}" is over its limit of call-ended events (INGEST_RATE_LIMITER); retry after ${INGEST_RETRY_AFTER_SECONDS} s`,
      [],
      { "retry-after": String(INGEST_RETRY_AFTER_SECONDS) },
    );
  }
}
