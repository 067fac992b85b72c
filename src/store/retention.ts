import { DeliveryLog } from "./delivery-log";
import { OutboundCallIndex } from "./outbound-calls";
import { Outbox } from "./outbox";
import { deleteStatsOlderThan } from "./stats";

/**
 * Deletes delivery-log rows of calls received, and last changed, more than `retentionDays`
 * ago, outbox rows written that long ago, index
 * rows of outbound calls final for that long, and hourly stats of hours before then; run daily
 * by the cron trigger. Each call's ledger and each outbound call's object delete themselves by
 * their own alarms.
 */
export async function sweepExpired(db: D1Database, retentionDays: number, now: number): Promise<{ cutoff: string }> {
  const cutoff = new Date(now - retentionDays * 86_400_000).toISOString();
  await new DeliveryLog(db).deleteOlderThan(cutoff);
  await new Outbox(db).deleteOlderThan(cutoff);
  await new OutboundCallIndex(db).deleteOlderThan(cutoff);
  await deleteStatsOlderThan(db, cutoff);
  return { cutoff };
}
