import { ledgerFor } from "../ledger/client";
import { IsolateMemo } from "../lib/isolate-memo";
import { type DeliveryFilter, DeliveryLog } from "../store/delivery-log";

/** At most this many waiting deliveries are brought forward per recovered attempt. */
export const BRING_FORWARD_LIMIT = 100;
/** A target's waiting deliveries are brought forward at most once per this many seconds (KV's shortest TTL). */
export const BRING_FORWARD_EVERY_SECONDS = 60;
/** The most deliveries one `POST /deliveries/retry` replays; the rest are left for `next_cursor`. */
export const BULK_RETRY_MAX = 500;
/** Ledger calls made at once by a bulk replay or a bring-forward. */
const CONCURRENCY = 25;

async function hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Targets this isolate just found with nothing waiting. A busy, healthy target answers 2xx many
 * times a second; it is looked up again only after 10 s, so it costs one log read per
 * isolate per 10 s rather than one per delivery. A retry waiting meanwhile keeps its own
 * schedule, or is brought forward by the next lookup.
 */
const quietTargets = new IsolateMemo<true>(10_000);

/** A delivery to `target` is now waiting for a retry: the next 2xx from it looks it up. */
export function noteWaiting(target: string): void {
  quietTargets.forget(target);
}

/** Runs `work` over `items`, `CONCURRENCY` at a time; each result settles on its own. */
async function settleAll<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = [];
  for (let i = 0; i < items.length; i += CONCURRENCY) {
    results.push(...(await Promise.allSettled(items.slice(i, i + CONCURRENCY).map(work))));
  }
  return results;
}

/**
 * A webhook target just answered 2xx: its other deliveries waiting out a retry's backoff are
 * sent now rather than minutes or hours later. The lookup reads only the partial index of
 * retrying deliveries, so a healthy target costs one empty read; only when something is
 * waiting is the KV throttle consulted (and set), so bring-forwards for one target happen at
 * most about once a minute (KV is eventually consistent, so two isolates may both pass; the
 * ledger's bringForward is harmless to repeat). Returns how many were brought forward.
 */
export async function bringForwardTarget(
  env: CloudflareBindings,
  target: string,
  deliveryId: string,
): Promise<{ waiting: number; brought: number; throttled: boolean }> {
  if (quietTargets.get(target)) return { waiting: 0, brought: 0, throttled: true };
  const waiting = await new DeliveryLog(env.DB).retryingForTarget(target, deliveryId, BRING_FORWARD_LIMIT);
  if (waiting.length === 0) {
    quietTargets.set(target, true);
    return { waiting: 0, brought: 0, throttled: false };
  }
  const key = `recovered:${await hex(target)}`;
  if ((await env.CONFIG_CACHE.get(key)) !== null) return { waiting: waiting.length, brought: 0, throttled: true };
  await env.CONFIG_CACHE.put(key, new Date().toISOString(), { expirationTtl: BRING_FORWARD_EVERY_SECONDS });
  const results = await settleAll(waiting, (d) => ledgerFor(env, d.agent_id, d.call_id).bringForward(d.action_index));
  for (const r of results) if (r.status === "rejected") console.warn("recovery: bringForward failed", { error: String(r.reason) });
  const brought = results.filter((r) => r.status === "fulfilled" && r.value).length;
  if (brought > 0) console.log("recovery: target answered again; waiting deliveries brought forward", { brought, waiting: waiting.length });
  return { waiting: waiting.length, brought, throttled: false };
}

export interface BulkRetryResult {
  matched: number;
  replayed: number;
  /** Refused by the ledger: an attempt in flight, or the call no longer kept. */
  skipped: number;
  /** The ledger could not be reached; try these again. */
  errors: number;
  truncated: boolean;
  next_cursor: string | null;
}

/**
 * Replays every delivery matching `filter`, up to `limit` (newest first), through each call's
 * ledger. Null for an unreadable cursor.
 */
export async function bulkReplay(
  env: CloudflareBindings,
  filter: Omit<DeliveryFilter, "limit">,
  limit: number,
): Promise<BulkRetryResult | null> {
  const page = await new DeliveryLog(env.DB).list({ ...filter, limit: Math.min(limit, BULK_RETRY_MAX) });
  if (!page) return null;
  const results = await settleAll(page.deliveries, (d) => ledgerFor(env, d.agent_id, d.call_id).replay(d.action_index));
  let replayed = 0;
  let skipped = 0;
  let errors = 0;
  for (const r of results) {
    if (r.status === "rejected") {
      errors++;
      console.warn("bulk retry: replay failed", { error: String(r.reason) });
    } else if (r.value.ok) replayed++;
    else skipped++;
  }
  return {
    matched: page.deliveries.length,
    replayed,
    skipped,
    errors,
    truncated: page.next_cursor !== null,
    next_cursor: page.next_cursor,
  };
}
