import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config";
import type { Action, Agent, EmailTemplate } from "../schemas/agent";
import type { CallEndedEvent } from "../schemas/call-event";
import type { AttemptRecord, DeliveryStatus, IngestResult } from "../schemas/delivery";
import { type Job, deliveryId, planFollowUp, providerFor, targetOf } from "./plan";
import { type ActionRow, type CallRow, DeliveryLog } from "../store/delivery-log";

const ACTIVE: readonly DeliveryStatus[] = ["pending", "retrying"];

/** How long a consumer may hold an action before another copy of its job may take it. */
const LEASE_MS = 60_000;
const FIRST_GENERATION = 1;
/** Event JSON is stored in pieces: a SQLite row in a Durable Object holds at most 2 MB. */
const CHUNK_CHARS = 500_000;


export type Claim =
  | {
      ok: true;
      event: CallEndedEvent;
      /** The agent as it was when the call was accepted. */
      agent: { id: string; name: string; templates: Record<string, EmailTemplate> };
      action: Action;
      delivery_id: string;
      /** What providers dedupe on: stable across retries, new after each replay. */
      idempotency_key: string;
      /** 1-based attempt within the current retry budget (a replay starts a new one). */
      attempt: number;
      /** 1-based attempt over the action's whole life, for the log. */
      total_attempt: number;
      received_at: string;
    }
  | { ok: false; reason: string };

type LedgerCall = CallRow & { agent_name: string; agent_templates: string };

export interface LedgerSnapshot {
  call: LedgerCall;
  event: CallEndedEvent;
  actions: (ActionRow & { action: Action })[];
}

type StoredAction = {
  idx: number;
  delivery_id: string;
  action: string;
  state: DeliveryStatus;
  attempts: number;
  round_attempts: number;
  generation: number;
  replays: number;
  last_status: number | null;
  last_error: string | null;
  provider: string | null;
  due_at: number;
  leased_until: number;
  updated_at: string;
};

/**
 * One per agent_id + call_id. The single place that decides whether a call was already
 * accepted, what its actions are and where each one stands; Durable Object storage is
 * transactional and this object is single-threaded, so a hundred identical posts racing
 * each other still produce one set of jobs.
 */
export class CallLedger extends DurableObject<CloudflareBindings> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: CloudflareBindings) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS call (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        agent_id TEXT NOT NULL, call_id TEXT NOT NULL, agent_name TEXT NOT NULL, agent_templates TEXT NOT NULL,
        status TEXT NOT NULL, reason TEXT, ended_at TEXT, received_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS event_chunks (seq INTEGER PRIMARY KEY, chunk TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS actions (
        idx INTEGER PRIMARY KEY, delivery_id TEXT NOT NULL, action TEXT NOT NULL,
        state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, round_attempts INTEGER NOT NULL DEFAULT 0,
        generation INTEGER NOT NULL, replays INTEGER NOT NULL DEFAULT 0,
        last_status INTEGER, last_error TEXT, provider TEXT,
        due_at INTEGER NOT NULL, leased_until INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL);
    `);
  }

  /** Records the event and sends one job per action, once; a repeat is answered as a duplicate. */
  async accept(event: CallEndedEvent, agent: Agent | null, receivedAt: string): Promise<IngestResult> {
    const plan = planFollowUp(agent);
    const ids = await Promise.all(plan.actions.map((_, i) => deliveryId(event.agent_id, event.call_id, i)));
    // From here to the end of the transaction nothing awaits, so the dedupe check and the
    // writes are one step: a concurrent identical post sees either nothing or everything.
    const existing = this.callRow();
    if (existing) {
      return { status: "duplicate", call_id: event.call_id, actions: this.actionSummaries(), reason: existing.reason };
    }
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        "INSERT INTO call VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",
        event.agent_id,
        event.call_id,
        agent?.name ?? event.agent_id,
        JSON.stringify(agent?.templates ?? {}),
        plan.actions.length > 0 ? "accepted" : "no_actions",
        plan.reason,
        event.ended_at ?? null,
        receivedAt,
      );
      const json = JSON.stringify(event);
      for (let seq = 0; seq * CHUNK_CHARS < json.length; seq++) {
        this.sql.exec("INSERT INTO event_chunks VALUES (?, ?)", seq, json.slice(seq * CHUNK_CHARS, (seq + 1) * CHUNK_CHARS));
      }
      plan.actions.forEach((action, idx) => {
        this.sql.exec(
          "INSERT INTO actions (idx, delivery_id, action, state, generation, due_at, updated_at) VALUES (?, ?, ?, 'pending', ?, ?, ?)",
          idx,
          ids[idx]!,
          JSON.stringify(action),
          FIRST_GENERATION,
          now,
          receivedAt,
        );
      });
    });

    const jobs: Job[] = ids.map((id, idx) => ({
      delivery_id: id,
      agent_id: event.agent_id,
      call_id: event.call_id,
      action_index: idx,
      generation: FIRST_GENERATION,
    }));
    if (jobs.length > 0) {
      try {
        await this.env.ACTIONS.sendBatch(jobs.map((body) => ({ body, contentType: "json" as const })));
      } catch (err) {
        // The event is already safe in storage: the watchdog alarm will send the jobs again.
        console.error("ledger: enqueue failed, the watchdog will retry", { call_id: event.call_id, error: String(err) });
      }
      await this.scheduleWatchdog();
    }
    this.ctx.waitUntil(this.syncLog());
    const actions = plan.actions.map((action, idx) => ({ id: ids[idx]!, index: idx, type: action.type }));
    return { status: "accepted", call_id: event.call_id, actions, reason: plan.reason };
  }

  /** Hands one action to a consumer, unless it is done, taken, or the job is a stale copy. */
  async claim(index: number, generation: number): Promise<Claim> {
    const call = this.callRow();
    const row = this.storedAction(index);
    if (!call || !row) return { ok: false, reason: "no such action" };
    if (!ACTIVE.includes(row.state)) return { ok: false, reason: `already ${row.state}` };
    if (row.generation !== generation) return { ok: false, reason: "stale job" };
    const now = Date.now();
    if (row.leased_until > now) return { ok: false, reason: "in flight" };
    this.sql.exec("UPDATE actions SET leased_until = ? WHERE idx = ?", now + LEASE_MS, index);
    return {
      ok: true,
      event: this.event(),
      agent: { id: call.agent_id, name: call.agent_name, templates: JSON.parse(call.agent_templates) as Record<string, EmailTemplate> },
      action: JSON.parse(row.action) as Action,
      delivery_id: row.delivery_id,
      idempotency_key: row.replays === 0 ? row.delivery_id : `${row.delivery_id}-r${row.replays}`,
      attempt: row.round_attempts + 1,
      total_attempt: row.attempts + 1,
      received_at: call.received_at,
    };
  }

  /** Stores one attempt's result and writes it to the delivery log. */
  async record(index: number, attempt: AttemptRecord): Promise<void> {
    const row = this.storedAction(index);
    if (!row) return;
    const state: DeliveryStatus = attempt.outcome === "retry" ? "retrying" : attempt.outcome;
    const now = new Date().toISOString();
    this.sql.exec(
      `UPDATE actions SET state = ?, attempts = attempts + 1, round_attempts = round_attempts + 1,
         last_status = ?, last_error = ?, provider = COALESCE(?, provider), due_at = ?, leased_until = 0, updated_at = ?
       WHERE idx = ?`,
      state,
      attempt.status_code ?? null,
      attempt.error ?? null,
      attempt.provider ?? null,
      attempt.retry_at ?? Date.now(),
      now,
      index,
    );
    await this.scheduleWatchdog();
    await this.syncLog({ deliveryId: row.delivery_id, number: row.attempts + 1, record: attempt });
  }

  /** Marks an action failed when its job reached the dead-letter queue by another road. */
  async deadLetter(index: number, reason: string): Promise<void> {
    const row = this.storedAction(index);
    if (!row || !ACTIVE.includes(row.state)) return;
    this.sql.exec(
      "UPDATE actions SET state = 'failed', last_error = ?, leased_until = 0, updated_at = ? WHERE idx = ?",
      reason,
      new Date().toISOString(),
      index,
    );
    await this.syncLog();
  }

  /** Sends an action again with a fresh retry budget, whatever state it ended in. */
  async replay(index: number): Promise<{ ok: true; job: Job } | { ok: false; reason: string }> {
    const row = this.storedAction(index);
    if (!row) return { ok: false, reason: "no such action" };
    if (row.leased_until > Date.now()) return { ok: false, reason: "an attempt is in flight" };
    this.sql.exec(
      `UPDATE actions SET state = 'pending', round_attempts = 0, generation = generation + 1, replays = replays + 1,
         due_at = ?, updated_at = ? WHERE idx = ?`,
      Date.now(),
      new Date().toISOString(),
      index,
    );
    const job = this.jobFor(this.storedAction(index)!);
    await this.env.ACTIONS.send(job, { contentType: "json" });
    await this.scheduleWatchdog();
    await this.syncLog();
    return { ok: true, job };
  }

  async snapshot(): Promise<LedgerSnapshot | null> {
    const call = this.callRow();
    if (!call) return null;
    return {
      call,
      event: this.event(),
      actions: this.storedActions().map((a) => ({ ...this.actionRow(a, call), action: JSON.parse(a.action) as Action })),
    };
  }

  /**
   * The watchdog: a job whose queue message was lost (Miniflare's local queue forgets
   * everything on restart; production can lose a send that errored) is sent again once
   * its action has been due for longer than the grace period and nobody holds it.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const grace = this.graceMs();
    let resent = 0;
    for (const row of this.storedActions()) {
      if (!ACTIVE.includes(row.state) || row.leased_until > now || row.due_at + grace > now) continue;
      this.sql.exec("UPDATE actions SET generation = generation + 1, due_at = ? WHERE idx = ?", now, row.idx);
      await this.env.ACTIONS.send(this.jobFor(this.storedAction(row.idx)!), { contentType: "json" });
      resent++;
    }
    if (resent > 0) console.warn("ledger: watchdog re-sent jobs", { call_id: this.callRow()?.call_id, resent });
    await this.scheduleWatchdog();
    await this.syncLog();
  }

  private async scheduleWatchdog(): Promise<void> {
    const grace = this.graceMs();
    const next = this.storedActions()
      .filter((a) => ACTIVE.includes(a.state))
      .map((a) => Math.max(a.due_at + grace, a.leased_until))
      .reduce((min, t) => Math.min(min, t), Number.POSITIVE_INFINITY);
    if (Number.isFinite(next)) await this.ctx.storage.setAlarm(next);
    else await this.ctx.storage.deleteAlarm();
  }

  private graceMs(): number {
    return readConfig(this.env).watchdogSeconds * 1000;
  }

  /** Mirrors this call's state, and the attempt just made if any, into the D1 delivery log. */
  private async syncLog(attempt?: Parameters<DeliveryLog["write"]>[2]): Promise<void> {
    const call = this.callRow();
    if (!call) return;
    try {
      await this.log().write(call, this.storedActions().map((a) => this.actionRow(a, call)), attempt);
    } catch (err) {
      // The ledger stays the truth; the next alarm or attempt writes the log again.
      console.error("ledger: delivery log write failed", { call_id: call.call_id, error: String(err) });
    }
  }

  private log(): DeliveryLog {
    return new DeliveryLog(this.env.DB);
  }

  private jobFor(row: StoredAction): Job {
    const call = this.callRow()!;
    return {
      delivery_id: row.delivery_id,
      agent_id: call.agent_id,
      call_id: call.call_id,
      action_index: row.idx,
      generation: row.generation,
    };
  }

  private actionRow(a: StoredAction, call: CallRow): ActionRow {
    const action = JSON.parse(a.action) as Action;
    return {
      id: a.delivery_id,
      call_id: call.call_id,
      agent_id: call.agent_id,
      action_index: a.idx,
      action_type: action.type,
      provider: a.provider ?? providerFor(action),
      target: targetOf(action),
      status: a.state,
      attempts: a.attempts,
      last_status: a.last_status,
      last_error: a.last_error,
      next_attempt_at: ACTIVE.includes(a.state) ? new Date(a.due_at).toISOString() : null,
      created_at: call.received_at,
      updated_at: a.updated_at,
    };
  }

  private actionSummaries(): IngestResult["actions"] {
    return this.storedActions().map((a) => ({
      id: a.delivery_id,
      index: a.idx,
      type: (JSON.parse(a.action) as Action).type,
    }));
  }

  private callRow(): LedgerCall | null {
    const rows = this.sql
      .exec<{
        agent_id: string;
        call_id: string;
        agent_name: string;
        agent_templates: string;
        status: string;
        reason: string | null;
        ended_at: string | null;
        received_at: string;
      }>("SELECT agent_id, call_id, agent_name, agent_templates, status, reason, ended_at, received_at FROM call WHERE id = 1")
      .toArray();
    const row = rows[0];
    if (!row) return null;
    const count = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM actions").one().n;
    return { ...row, status: row.status as LedgerCall["status"], action_count: count };
  }

  private event(): CallEndedEvent {
    const chunks = this.sql.exec<{ chunk: string }>("SELECT chunk FROM event_chunks ORDER BY seq").toArray();
    return JSON.parse(chunks.map((c) => c.chunk).join("")) as CallEndedEvent;
  }

  private storedActions(): StoredAction[] {
    return this.sql.exec<StoredAction>("SELECT * FROM actions ORDER BY idx").toArray() as StoredAction[];
  }

  private storedAction(index: number): StoredAction | undefined {
    return this.sql.exec<StoredAction>("SELECT * FROM actions WHERE idx = ?", index).toArray()[0] as StoredAction | undefined;
  }
}

/** The ledger of one call. Typed from the class itself, not from Env, to keep types acyclic. */
export function ledgerFor(env: CloudflareBindings, agentId: string, callId: string): DurableObjectStub<CallLedger> {
  const ns = env.CALL_LEDGER as unknown as DurableObjectNamespace<CallLedger>;
  return ns.get(ns.idFromName(`${agentId}\n${callId}`));
}
