import { DeliveryLog } from "./delivery-log";
import { Outbox } from "./outbox";

/**
 * Deletes delivery-log and outbox rows of calls received more than `retentionDays` ago;
 * run daily by the cron trigger. Each call's ledger deletes itself by its own alarm.
 */
export async function sweepExpired(db: D1Database, retentionDays: number, now: number): Promise<{ cutoff: string }> {
  const cutoff = new Date(now - retentionDays * 86_400_000).toISOString();
  await new DeliveryLog(db).deleteOlderThan(cutoff);
  await new Outbox(db).deleteOlderThan(cutoff);
  return { cutoff };
}
