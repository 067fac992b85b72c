/**
 * Counts the operations Cloudflare bills for, when the deployment sets `METER=true`: what one
 * accepted call costs is then a difference of two readings of `GET /usage` divided by the calls
 * accepted between them (`npm run bench` does exactly that and prices the result).
 *
 * The counters live in this isolate's memory. Under `wrangler dev` the Worker, its queue
 * consumers and its Durable Objects share one isolate, so the counters see everything; a
 * deployed relay runs many isolates, each counting only its own share. Off (the default),
 * every binding is used as is and nothing is counted.
 */

export const USAGE_KEYS = [
  "worker_invocations",
  "durable_object_requests",
  /** Summed wall time of those requests as their callers saw it: an upper bound of billed duration. */
  "durable_object_ms",
  "sqlite_rows_read",
  "sqlite_rows_written",
  "queue_operations",
  "d1_rows_read",
  "d1_rows_written",
  "kv_reads",
  "kv_writes",
] as const;

export type UsageKey = (typeof USAGE_KEYS)[number];
export type Usage = Record<UsageKey, number>;

const totals: Usage = Object.fromEntries(USAGE_KEYS.map((k) => [k, 0])) as Usage;
/** Set at the first count or reading: at an isolate's global scope the clock still says 1970. */
let startedAt: string | null = null;

export const meteringOn = (env: object): boolean => (env as { METER?: string }).METER === "true";

/** Adds to the counters; a no-op unless metering is on. */
export function count(env: object, key: UsageKey, n = 1): void {
  if (!meteringOn(env)) return;
  startedAt ??= new Date().toISOString();
  totals[key] += n;
}

export function readUsage(): { since: string; usage: Usage } {
  startedAt ??= new Date().toISOString();
  return { since: startedAt, usage: { ...totals } };
}

const meteredEnvs = new WeakMap<object, CloudflareBindings>();

/**
 * The same bindings, counting what they are asked to do. Queue sends count one write per
 * message (our jobs are far below the 64 KB a write covers); reads and deletes are counted by
 * the consumer (see meterBatch).
 */
export function metered(env: CloudflareBindings): CloudflareBindings {
  if (!meteringOn(env)) return env;
  const known = meteredEnvs.get(env);
  if (known) return known;
  const wrapped: CloudflareBindings = {
    ...env,
    DB: meterD1(env.DB),
    CONFIG_CACHE: meterKv(env.CONFIG_CACHE),
    ACTIONS: meterQueue(env.ACTIONS),
    ACTIONS_DLQ: meterQueue(env.ACTIONS_DLQ),
  };
  meteredEnvs.set(env, wrapped);
  return wrapped;
}

function meterQueue(queue: Queue): Queue {
  return {
    send: (body, options) => {
      totals.queue_operations += 1;
      return queue.send(body, options);
    },
    sendBatch: (messages, options) => {
      const list = [...messages];
      totals.queue_operations += list.length;
      return queue.sendBatch(list, options);
    },
    metrics: () => queue.metrics(),
  } as Queue;
}

/**
 * One read per message handed to the consumer, one delete per message acknowledged; a retried
 * message is read again when it comes back.
 */
export function meterBatch<T>(env: object, batch: MessageBatch<T>): MessageBatch<T> {
  if (!meteringOn(env)) return batch;
  totals.queue_operations += batch.messages.length;
  const messages = batch.messages.map(
    (m): Message<T> => ({
      id: m.id,
      timestamp: m.timestamp,
      body: m.body,
      attempts: m.attempts,
      ack: () => {
        totals.queue_operations += 1;
        m.ack();
      },
      retry: (options) => m.retry(options),
    }),
  );
  return {
    queue: batch.queue,
    metadata: batch.metadata,
    messages,
    ackAll: () => {
      totals.queue_operations += messages.length;
      batch.ackAll();
    },
    retryAll: (options) => batch.retryAll(options),
  } as MessageBatch<T>;
}

function meterKv(kv: KVNamespace): KVNamespace {
  const reading = new Set(["get", "getWithMetadata", "list"]);
  const writing = new Set(["put", "delete"]);
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (reading.has(String(prop))) totals.kv_reads += 1;
        if (writing.has(String(prop))) totals.kv_writes += 1;
        return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
      };
    },
  });
}

function addD1Meta(meta: D1Meta | undefined): void {
  totals.d1_rows_read += meta?.rows_read ?? 0;
  totals.d1_rows_written += meta?.rows_written ?? 0;
}

const INNER = Symbol("statement");
type MeteredStatement = D1PreparedStatement & { [INNER]: D1PreparedStatement };

function meterStatement(statement: D1PreparedStatement): MeteredStatement {
  const run = async <T>() => {
    const result = await statement.all<T>();
    addD1Meta(result.meta);
    return result;
  };
  return {
    [INNER]: statement,
    bind: (...values: unknown[]) => meterStatement(statement.bind(...values)),
    all: run,
    run,
    // first() reports no row counts, so it is answered from all(), which does.
    first: async (column?: string) => {
      const row = (await run<Record<string, unknown>>()).results[0] ?? null;
      return column === undefined ? row : (row?.[column] ?? null);
    },
    raw: (options?: { columnNames?: boolean }) => statement.raw(options as { columnNames: true }),
  } as unknown as MeteredStatement;
}

function meterD1(db: D1Database): D1Database {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => meterStatement(target.prepare(query));
      if (prop === "batch") {
        return async (statements: MeteredStatement[]) => {
          const results = await target.batch(statements.map((s) => s[INNER] ?? s));
          for (const r of results) addD1Meta(r.meta);
          return results;
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * A Durable Object's SQL storage, counting the rows each statement read and wrote. A cursor's
 * counts are final once it has been consumed, which our callers do in the same synchronous
 * step, so they are read in a microtask.
 */
export function meterSql(env: object, sql: SqlStorage): SqlStorage {
  if (!meteringOn(env)) return sql;
  return new Proxy(sql, {
    get(target, prop) {
      if (prop === "exec") {
        return (query: string, ...bindings: unknown[]) => {
          const cursor = target.exec(query, ...bindings);
          queueMicrotask(() => {
            totals.sqlite_rows_read += cursor.rowsRead;
            totals.sqlite_rows_written += cursor.rowsWritten;
          });
          return cursor;
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * A Durable Object's key-value storage, counting as Cloudflare bills it: each value read is a
 * row read, each value stored or deleted a row written. (The hidden table the values live in
 * is created by the runtime, unbilled.)
 */
export function meterStorageKv(env: object, kv: SyncKvStorage): SyncKvStorage {
  if (!meteringOn(env)) return kv;
  return {
    get: <T>(key: string) => {
      const value = kv.get<T>(key);
      if (value !== undefined) totals.sqlite_rows_read += 1;
      return value;
    },
    put: <T>(key: string, value: T) => {
      kv.put(key, value);
      totals.sqlite_rows_written += 1;
    },
    delete: (key: string) => {
      const deleted = kv.delete(key);
      if (deleted) totals.sqlite_rows_written += 1;
      return deleted;
    },
    *list<T>(options?: SyncKvListOptions): Iterable<[string, T]> {
      for (const entry of kv.list<T>(options)) {
        totals.sqlite_rows_read += 1;
        yield entry;
      }
    },
  };
}

/** A Durable Object stub counting one request per RPC call made through it. */
export function countRequests<T extends object>(env: object, stub: T): T {
  if (!meteringOn(env)) return stub;
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== "function" || typeof prop !== "string") return value;
      return (...args: unknown[]) => {
        totals.durable_object_requests += 1;
        const started = Date.now();
        const result = Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
        Promise.resolve(result).then(
          () => (totals.durable_object_ms += Date.now() - started),
          () => (totals.durable_object_ms += Date.now() - started),
        );
        return result;
      };
    },
  });
}
