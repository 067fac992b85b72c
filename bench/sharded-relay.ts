// The relay with its ledger sharded, for `npm run bench` only: the shape the relay did not
// choose, measured beside the one it did (README, "The ledger's shape").
//
// The relay's own code runs unchanged. Its CALL_LEDGER binding is replaced, for the Worker's
// handlers, by a namespace that sends each call's requests to one of SHARDS (a var, set by the
// bench as for the warm floor) objects chosen by a hash of agent and call. A shard holds many
// calls: it runs the relay's CallLedger class once per call, over a view of the shard's
// key-value storage that prefixes the ledger's keys with the call's, and one alarm shared by
// its calls (each call's wanted time is a row).

import { DurableObject } from "cloudflare:workers";
import relay, { CallLedger } from "../src/index";
import { count, meterSql, meterStorageKv, metered } from "../src/lib/meter";
import { shardOf } from "./shard-of";

export { CallLedger, OutboundCall } from "../src/index";

/** Ledgers kept in memory per shard; one evicted is rebuilt from its rows when next asked. */
const CACHED_LEDGERS = 1_000;

type Env = CloudflareBindings & { CALL_SHARDS: DurableObjectNamespace<ShardedCallLedger>; SHARDS: string };

/**
 * A namespace shaped like CALL_LEDGER's: `get(idFromName(name))` returns a stub whose every
 * method is sent to the call's shard with the call's name.
 */
function shardedNamespace(env: Env): DurableObjectNamespace {
  const shards = Number(env.SHARDS);
  if (!Number.isInteger(shards) || shards < 1) throw new Error("the sharded relay needs SHARDS, a number of objects");
  return {
    idFromName: (name: string) => name,
    get: (name: string) => {
      const shard = env.CALL_SHARDS.get(env.CALL_SHARDS.idFromName(`shard-${shardOf(name, shards)}`));
      return new Proxy(
        {},
        { get: (_target, method) => (typeof method === "string" && method !== "then" ? (...args: unknown[]) => shard.invoke(name, method, args) : undefined) },
      );
    },
  } as unknown as DurableObjectNamespace;
}

const sharded = (env: Env): CloudflareBindings => ({ ...env, CALL_LEDGER: shardedNamespace(env) }) as unknown as CloudflareBindings;

export default {
  fetch: (request, env, ctx) => relay.fetch!(request, sharded(env), ctx),
  queue: (batch, env, ctx) => relay.queue!(batch, sharded(env), ctx),
  scheduled: (controller, env, ctx) => relay.scheduled!(controller, sharded(env), ctx),
} satisfies ExportedHandler<Env>;

/** Each call's wanted alarm time. */
const SHARD_SCHEMA = [
  "CREATE TABLE IF NOT EXISTS alarms (id TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID",
  "CREATE INDEX IF NOT EXISTS alarms_by_time ON alarms (at)",
];

/**
 * One call's keys of the shard's key-value storage: its own, under its key as a prefix (escaped,
 * so that no call's prefix begins another's).
 */
export function scopedKv(kv: SyncKvStorage, key: string): SyncKvStorage & { keys(): string[] } {
  const prefix = `${encodeURIComponent(key)}/`;
  return {
    get: <T>(name: string) => kv.get<T>(prefix + name),
    put: <T>(name: string, value: T) => kv.put(prefix + name, value),
    delete: (name: string) => kv.delete(prefix + name),
    *list<T>(options: SyncKvListOptions = {}): Iterable<[string, T]> {
      for (const [name, value] of kv.list<T>({ ...options, prefix: prefix + (options.prefix ?? "") })) yield [name.slice(prefix.length), value];
    },
    keys: () => Array.from(kv.list({ prefix }), ([name]) => name.slice(prefix.length)),
  };
}

/**
 * One call's view of the shard's storage, as the ledger uses its own object's. Its alarm is a
 * row of `alarms`, metered as the SQL it is; the ledger counts a row written for each alarm it
 * sets, as an object's own alarm is billed, so that count is taken back here.
 */
function callStorage(shard: ShardedCallLedger, ctx: DurableObjectState, env: CloudflareBindings, key: string) {
  const sql = meterSql(env, ctx.storage.sql);
  const kv = scopedKv(meterStorageKv(env, ctx.storage.kv), key);
  const storage = {
    kv,
    transactionSync: <T>(fn: () => T): T => ctx.storage.transactionSync(fn),
    getAlarm: async () => sql.exec<{ at: number }>("SELECT at FROM alarms WHERE id = ?", key).toArray()[0]?.at ?? null,
    setAlarm: async (at: number) => {
      sql.exec("INSERT INTO alarms (id, at) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at", key, at);
      count(env, "sqlite_rows_written", -1);
      shard.wake(at);
    },
    deleteAlarm: async () => {
      sql.exec("DELETE FROM alarms WHERE id = ?", key);
      count(env, "sqlite_rows_written", -1);
    },
    deleteAll: async () => {
      ctx.storage.transactionSync(() => {
        for (const name of kv.keys()) kv.delete(name);
      });
      shard.forget(key);
    },
  };
  return {
    storage,
    blockConcurrencyWhile: <T>(fn: () => Promise<T>) => fn(),
    waitUntil: (promise: Promise<unknown>) => ctx.waitUntil(promise),
  } as unknown as DurableObjectState;
}

/**
 * The relay's CallLedger over one call's view of a shard. The runtime lets only a real object
 * state construct a Durable Object, so the ledger is given what its constructor would set up
 * (src/ledger/call-ledger.ts): its state and metered env, its key-value storage (the view's,
 * metered there), its alarm as stored, nothing staged, no log write under way.
 */
export function ledgerOver(ctx: DurableObjectState, env: CloudflareBindings, alarmAt: number | null): CallLedger {
  const fields: Record<string, unknown> = {
    ctx,
    env: metered(env),
    kv: ctx.storage.kv,
    alarmAt,
    staged: null,
    stagedDirty: false,
    logWrites: Promise.resolve(),
  };
  return Object.create(CallLedger.prototype, Object.fromEntries(Object.entries(fields).map(([name, value]) => [name, { value, writable: true, enumerable: true }]))) as CallLedger;
}

/** One of the SHARDS objects: the calls whose key hashes to it, each run by the relay's CallLedger. */
export class ShardedCallLedger extends DurableObject<CloudflareBindings> {
  private readonly ledgers = new Map<string, CallLedger>();
  private readonly sql: SqlStorage;
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: CloudflareBindings) {
    super(ctx, env);
    for (const statement of SHARD_SCHEMA) ctx.storage.sql.exec(statement);
    this.sql = meterSql(env, ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** Runs one CallLedger method for the call `key`. */
  async invoke(key: string, method: string, args: unknown[]): Promise<unknown> {
    const ledger = this.ledger(key) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const fn = ledger[method];
    if (typeof fn !== "function") throw new Error(`sharded ledger: no method ${method}`);
    return fn.apply(ledger, args);
  }

  /** Moves the shard's alarm earlier when a call wants one sooner; a later one is found on firing. */
  wake(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
    count(this.env, "sqlite_rows_written");
  }

  forget(key: string): void {
    this.ledgers.delete(key);
  }

  /**
   * Fires every call whose time has come, then sets the alarm for the soonest one left. A call's
   * row goes once its alarm has run, as the runtime consumes an object's alarm only once it
   * returns; one the ledger set again meanwhile holds a new time and stays.
   */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const due = this.sql.exec<{ id: string; at: number }>("SELECT id, at FROM alarms WHERE at <= ? ORDER BY at LIMIT 100", Date.now()).toArray();
    for (const { id, at } of due) {
      await this.ledger(id).alarm();
      this.sql.exec("DELETE FROM alarms WHERE id = ? AND at = ?", id, at);
    }
    const next = this.sql.exec<{ at: number }>("SELECT MIN(at) AS at FROM alarms").toArray()[0]?.at ?? null;
    if (next !== null) this.wake(next);
  }

  private ledger(key: string): CallLedger {
    let ledger = this.ledgers.get(key);
    if (ledger) {
      // Most recently used last, so the oldest is evicted first.
      this.ledgers.delete(key);
    } else {
      const alarmAt = this.sql.exec<{ at: number }>("SELECT at FROM alarms WHERE id = ?", key).toArray()[0]?.at ?? null;
      ledger = ledgerOver(callStorage(this, this.ctx, this.env, key), this.env, alarmAt);
      if (this.ledgers.size >= CACHED_LEDGERS) this.ledgers.delete(this.ledgers.keys().next().value!);
    }
    this.ledgers.set(key, ledger);
    return ledger;
  }
}
