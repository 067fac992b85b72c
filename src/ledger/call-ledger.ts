import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config";
import { count, meterStorageKv, metered } from "../lib/meter";
import type { Action, Agent, EmailTemplate } from "../schemas/agent";
import type { CallEndedEvent } from "../schemas/call-event";
import type { AttemptRecord, IngestResult } from "../schemas/delivery";
import { type ActionRow, type CallRow, DeliveryLog, type LoggedAttempt } from "../store/delivery-log";
import { Outbox } from "../store/outbox";
import { ACTION_LIST_MAX_BYTES, type ActionList, type LogMark, type StoredAction, listBytes, listFields, listOf, newList, readList, writeList } from "./action-list";
import { type CallRecord, type RecordText, readRecord, readText, storedBytes, withText, writeRecord } from "./call-record";
import { type FollowUpPlan, type Job, deliveryId, explicitPlan, packJobs, planFollowUp, providerFor, skipReason, targetOf } from "./plan";
import { hasSqlLedger, upgradeSqlLedger } from "./sql-upgrade";
import {
  type Change,
  decideBeginSend,
  decideBringForward,
  decideClaim,
  decideCrash,
  decideDeadLetter,
  decideErase,
  decideRelease,
  decideRecord,
  decideReplay,
  decideResend,
  erasedAttempt,
  idempotencyKey,
  isActive,
  nextAlarm,
} from "./state";

const FIRST_GENERATION = 1;
/** While the delivery log lags behind the ledger, the alarm tries again this often. */
const LOG_RETRY_MS = 30_000;
/** Cloudflare Queues refuses delays above 12 h; a later due time is deferred again on arrival. */
const MAX_QUEUE_DELAY_SECONDS = 43_200;

export interface ClaimedAction {
  ok: true;
  /** Carried by every write of this attempt; a write with an older token is ignored. */
  token: number;
  event: CallEndedEvent;
  /** The agent as it was when the call was accepted. */
  agent: { id: string; name: string; templates: Record<string, EmailTemplate>; default_country?: string };
  action: Action;
  delivery_id: string;
  /** What providers dedupe on: stable across retries, new after each replay. */
  idempotency_key: string;
  /** 1-based attempt within the current retry budget (a replay starts a new one). */
  attempt: number;
  /** When the current budget's first attempt started (epoch ms), if one has. */
  round_started_at: number | null;
  received_at: string;
}

export type Claim =
  | ClaimedAction
  | { ok: false; reason: string }
  /** Not due yet: the job should come back at `until` (epoch ms). */
  | { ok: false; reason: "not due"; until: number };

type LedgerCall = CallRow & { agent_name: string; agent_templates: string; agent_country: string | null };
/** What the alarm's timing needs of the call: when it came. */
type CallTimes = Pick<LedgerCall, "received_at">;

export interface LedgerSnapshot {
  call: LedgerCall;
  event: CallEndedEvent;
  /** The voice platform's payload as received, for events that came through a platform route. */
  raw: unknown;
  actions: (ActionRow & { action: Action })[];
}

/** What an erasure changed, and the call's delivery ids, which key what else holds its data (the outbox). */
export interface Erased {
  actions: number;
  attempts: number;
  deliveryIds: string[];
}

export interface AcceptOptions {
  /** The platform's payload as received, kept beside the event. */
  raw?: string;
  /** Hold every action until then (epoch ms): a fuller event for the same call may still come. */
  holdUntil?: number;
  /**
   * What a repeat of an accepted call does. `ignore` (the default) changes nothing. `amend`
   * replaces the stored event's transcript with the repeat's (Bland's corrected one, posted
   * alone), which every action not yet delivered then uses. `release` replaces the whole event
   * and ends a hold: the actions are planned again for the new event's outcome and run now.
   */
  onDuplicate?: "ignore" | "amend" | "release";
  /**
   * Run exactly these actions, whatever the outcome, instead of the agent's follow-up: an
   * outbound call's callback and fallback, which its own object decided on.
   */
  actions?: Action[];
}

/** An alarm moving later than this is moved; a smaller move is left to the earlier alarm, which re-arms. */
const ALARM_SLACK_MS = 300_000;

/**
 * One per agent_id + call_id. The single place that decides whether a call was already
 * accepted, what its actions are and where each one stands. Durable Object storage is
 * transactional and this object single-threaded, so a hundred identical posts racing each
 * other still produce one set of jobs.
 *
 * Every state change follows one rule: commit the change and arm the alarm in the same
 * synchronous step, before any await. Whatever is awaited afterwards (a queue send, the D1
 * log) may fail or never return; the alarm then finds the work still due and does it again.
 */
export class CallLedger extends DurableObject<CloudflareBindings> {
  private readonly kv: SyncKvStorage;
  /** The alarm as last set or read; every setAlarm is billed as a row written, so it is not repeated. */
  private alarmAt: number | null = null;
  /** The action list while a `batch` runs: changed in memory, stored once at its end. */
  private staged: ActionList | null = null;
  private stagedDirty = false;
  /** The delivery log's writes, one after another (see syncLog). */
  private logWrites: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: CloudflareBindings) {
    super(ctx, metered(env));
    this.kv = meterStorageKv(env, ctx.storage.kv);
    // A ledger without its call has no alarm worth reading (one left behind by a deleted
    // ledger finds nothing when it fires, or is replaced by the first arm), so a new call's
    // first request goes ahead without waiting on storage. Reading writes nothing: a request
    // about a call this object never had leaves it empty.
    if (!readRecord(this.kv)) {
      if (!hasSqlLedger(ctx.storage.sql)) return;
      upgradeSqlLedger(ctx.storage);
    }
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** Records the event and sends one job per action, once; a repeat is answered as a duplicate. */
  async accept(event: CallEndedEvent, agent: Agent | null, receivedAt: string, options: AcceptOptions = {}): Promise<IngestResult> {
    const plan = options.actions ? explicitPlan(options.actions) : planFollowUp(agent, event.outcome);
    const ids = await Promise.all(plan.actions.map((_, i) => deliveryId(event.agent_id, event.call_id, i)));
    // From here to the alarm nothing awaits, so the dedupe check, the writes and the alarm
    // are one step: a concurrent identical post sees either nothing or everything.
    const existing = this.callRow();
    if (existing?.status !== "accepted" && existing && plan.status === "accepted") {
      // Not consumed: its agent was unknown or off when it came, and is fixed now. Runs once.
      return this.run(plan, agent, { reason: "re-post" });
    }
    if (existing) return this.repeat(event, existing.reason, options);
    const now = Date.now();
    const dueAt = Math.max(now, options.holdUntil ?? now);
    const list = newList(newActions(plan, ids, { first: 0, run: 0, dueAt, at: receivedAt }));
    // The call and its actions are one record: one row written.
    this.ctx.storage.transactionSync(() =>
      writeRecord(this.kv, {
        agent_id: event.agent_id,
        call_id: event.call_id,
        agent_name: agent?.name ?? event.agent_id,
        agent_templates: JSON.stringify(agent?.templates ?? {}),
        agent_country: agent?.default_country ?? null,
        status: plan.status,
        reason: plan.reason,
        ended_at: event.ended_at ?? null,
        received_at: receivedAt,
        event: JSON.stringify(event),
        raw: options.raw ?? null,
        ...listFields(list),
      }),
    );
    // What was just written, used as it is rather than read back: nine more reads for two actions.
    const written = { list, call: { agent_id: event.agent_id, call_id: event.call_id, received_at: receivedAt } };
    this.arm(written);

    const active = list.actions.filter((row) => isActive(row.state));
    await this.sendJobs(
      active.map((row) => this.jobFor(row, written.call)),
      list.actions,
    );
    // A call whose actions run now is logged with their first results, moments from now, in
    // one write: logging it pending first would write each delivery row (and every index over
    // it) twice. The alarm logs it if they are slow. Anything else is logged at once.
    if (active.length === 0 || dueAt > now) this.ctx.waitUntil(this.syncLog());
    const actions = plan.actions.map(({ action }, idx) => ({ id: ids[idx]!, index: idx, type: action.type }));
    return { status: "accepted", call_id: event.call_id, actions, reason: plan.reason };
  }

  /** A post for a call already accepted: a duplicate, which may amend the event or end a hold. */
  private async repeat(event: CallEndedEvent, reason: string | null, options: AcceptOptions): Promise<IngestResult> {
    const duplicate = () => ({ status: "duplicate" as const, call_id: event.call_id, actions: this.actionSummaries(), reason });
    // An erased call keeps its tombstone: a platform's later post (Bland's corrected transcript,
    // Retell's analysis, or a replay of either) would otherwise write the caller's data back.
    const mode = readRecord(this.kv)?.erased ? "ignore" : (options.onDuplicate ?? "ignore");
    const stored = mode === "ignore" ? null : this.event();
    // A corrected transcript comes alone: everything else the call had stays.
    const next = mode === "amend" && stored ? { ...stored, transcript: event.transcript ?? stored.transcript } : event;
    if (stored === null || JSON.stringify(next) === JSON.stringify(stored)) {
      // A retry of a post whose first answer was lost: make sure the work it started is watched,
      // whatever this object believes its alarm to be.
      this.alarmAt = null;
      this.arm();
      return duplicate();
    }
    const now = Date.now();
    const released: StoredAction[] = [];
    this.batch(() => {
      this.storeText("event", JSON.stringify(next));
      if (mode !== "release") return;
      if (options.raw !== undefined) this.storeText("raw", options.raw);
      for (const row of this.storedActions()) {
        const skip = skipReason(JSON.parse(row.action) as Action, event.outcome);
        const change = decideRelease(row, skip, now);
        if (change) {
          const next = this.write(row, change);
          if (isActive(next.state)) released.push(next);
        }
      }
    });
    this.arm();
    await this.sendJobs(released.map((row) => this.jobFor(row)));
    this.ctx.waitUntil(this.syncLog());
    return duplicate();
  }

  /**
   * Runs the agent's current actions for this stored call again, as new deliveries of the next
   * run (their idempotency keys are new, so providers send again). The call must exist.
   */
  async rerun(agent: Agent | null): Promise<{ ok: true; result: IngestResult } | { ok: false; reason: string }> {
    const call = this.callRow();
    if (!call) return { ok: false, reason: "no such call" };
    const plan = planFollowUp(agent, this.event().outcome);
    if (plan.status !== "accepted") return { ok: false, reason: plan.reason ?? "nothing to run" };
    // Each action is stored as its JSON inside the list's JSON: escaping can double it.
    // The templates the call keeps share the record with its actions, and cannot move out of it.
    const templates = storedBytes(readRecord(this.kv)?.agent_templates ?? "");
    if (listBytes(this.storedActions(), plan.actions) + templates > ACTION_LIST_MAX_BYTES) return { ok: false, reason: "the call holds too many actions to run again" };
    return { ok: true, result: await this.run(plan, agent, { reason: "re-run" }) };
  }

  /**
   * Adds a plan's actions to a stored call as its next run, and sends their jobs. Delivery ids
   * are derived before the writes (an await), so the writes check afterwards that no other
   * request added actions meanwhile: a re-post that lost that race is a duplicate, a re-run
   * derives its ids again.
   */
  private async run(plan: FollowUpPlan, agent: Agent | null, why: { reason: "re-post" | "re-run" }): Promise<IngestResult> {
    const call = this.callRow()!;
    let first = this.storedActions().length;
    let ids = await this.idsFrom(call, first, plan);
    while (this.storedActions().length !== first) {
      if (why.reason === "re-post") return { status: "duplicate", call_id: call.call_id, actions: this.actionSummaries(), reason: null };
      first = this.storedActions().length;
      ids = await this.idsFrom(call, first, plan);
    }
    const run = this.storedActions().reduce((max, a) => Math.max(max, a.run + 1), first > 0 ? 1 : 0);
    const now = Date.now();
    this.batch(() => {
      this.updateRecord((record) => ({
        ...record,
        status: "accepted",
        reason: null,
        agent_name: agent?.name ?? call.agent_name,
        agent_templates: JSON.stringify(agent?.templates ?? {}),
        agent_country: agent?.default_country ?? null,
      }));
      this.saveList({
        mark: this.resetLogMark({ call: false }),
        actions: [...this.storedActions(), ...newActions(plan, ids, { first, run, dueAt: now, at: new Date(now).toISOString() })],
      });
    });
    this.arm();
    const added = this.storedActions().filter((a) => a.idx >= first);
    console.log("ledger: actions run again", { call_id: call.call_id, run, actions: added.length, why: why.reason });
    await this.sendJobs(added.filter((row) => isActive(row.state)).map((row) => this.jobFor(row)));
    this.ctx.waitUntil(this.syncLog());
    const actions = added.map((a) => ({ id: a.delivery_id, index: a.idx, type: (JSON.parse(a.action) as Action).type }));
    return { status: "accepted", call_id: call.call_id, actions, reason: null };
  }

  private idsFrom(call: LedgerCall, first: number, plan: FollowUpPlan): Promise<string[]> {
    return Promise.all(plan.actions.map((_, i) => deliveryId(call.agent_id, call.call_id, first + i)));
  }

  /** Hands one action to a consumer, unless it is done, taken, not due, or the job is a stale copy. */
  async claim(index: number, generation: number): Promise<Claim> {
    const [claim] = await this.claimAll([{ index, generation }]);
    return claim!;
  }

  /** Claims the jobs of one message in one request and one write; each is decided on its own. */
  async claimAll(jobs: { index: number; generation: number }[]): Promise<Claim[]> {
    let settled = false;
    const claims = this.batch(() =>
      jobs.map(({ index, generation }) => {
        const { claim, settles } = this.claimOne(index, generation);
        settled ||= settles;
        return claim;
      }),
    );
    this.arm();
    if (settled) this.ctx.waitUntil(this.syncLog());
    return claims;
  }

  private claimOne(index: number, generation: number): { claim: Claim; settles: boolean } {
    const call = this.callRow();
    const row = this.storedAction(index);
    if (!call || !row) return { claim: { ok: false, reason: "no such action" }, settles: false };
    const action = JSON.parse(row.action) as Action;
    const resendOnUnknown = "resend_on_unknown" in action && action.resend_on_unknown === true;
    const now = Date.now();
    const decision = decideClaim(row, { generation, now, resendOnUnknown });
    switch (decision.kind) {
      case "refuse":
        return { claim: { ok: false, reason: decision.reason }, settles: false };
      case "defer":
        return { claim: { ok: false, reason: "not due", until: decision.until }, settles: false };
      case "settle":
        this.apply(row, decision.change, decision.attempt);
        return { claim: { ok: false, reason: decision.reason }, settles: true };
      case "grant": {
        this.apply(row, decision.change, decision.lost);
        const granted = { ...row, ...decision.change } as StoredAction;
        const claim: ClaimedAction = {
          ok: true,
          token: granted.lease_token,
          event: this.event(),
          agent: {
            id: call.agent_id,
            name: call.agent_name,
            templates: JSON.parse(call.agent_templates) as Record<string, EmailTemplate>,
            ...(call.agent_country ? { default_country: call.agent_country } : {}),
          },
          action,
          delivery_id: row.delivery_id,
          idempotency_key: idempotencyKey(row),
          attempt: granted.round_attempts + 1,
          round_started_at: granted.round_started_at,
          received_at: call.received_at,
        };
        return { claim, settles: false };
      }
    }
  }

  /**
   * Marks the claimed attempt in flight before it sends to a provider that cannot deduplicate.
   * False when the claim is no longer current: then nothing may be sent.
   */
  async beginSend(index: number, token: number, provider: string): Promise<boolean> {
    const row = this.storedAction(index);
    const change = row && decideBeginSend(row, token, provider, Date.now());
    if (!row || !change) return false;
    this.apply(row, change);
    return true;
  }


  /**
   * Stores the results of a message's attempts in one request and one write; a result whose
   * claim is no longer current is ignored. A retry gets its job from here, delayed until it is
   * due, so any older copy of the job is now stale; retries due together leave together, and
   * the delivery log takes all the results in one write.
   */
  async recordAll(results: { index: number; token: number; attempt: AttemptRecord }[]): Promise<boolean[]> {
    const retries: Job[] = [];
    const recorded = this.batch(() =>
      results.map(({ index, token, attempt }) => {
        const row = this.storedAction(index);
        const change = row && decideRecord(row, token, attempt, Date.now());
        if (!row || !change) {
          console.warn("ledger: stale attempt result ignored", { delivery_id: row?.delivery_id, outcome: attempt.outcome });
          return false;
        }
        const next = this.apply(row, change, attempt);
        if (next.state === "retrying") retries.push(this.jobFor(next));
        return true;
      }),
    );
    this.arm();
    await this.sendJobs(retries);
    // Not awaited: the consumer moves on to the next job while D1 takes the write. The results
    // are committed here and the alarm, armed while the log lags, writes them if this fails.
    if (recorded.some(Boolean)) this.ctx.waitUntil(this.syncLog());
    return recorded;
  }

  /** Keeps a crashed attempt's error, so the action's last_error says what keeps failing. */
  async crashed(index: number, token: number, error: string): Promise<void> {
    const row = this.storedAction(index);
    const change = row && decideCrash(row, token, error, Date.now());
    if (row && change) this.apply(row, change);
  }

  /** Marks an action failed when a job of the current generation reached the dead-letter queue. */
  async deadLetter(index: number, generation: number, reason: string): Promise<void> {
    const row = this.storedAction(index);
    const change = row && decideDeadLetter(row, generation, reason, Date.now());
    if (!row || !change) return;
    this.apply(row, change);
    await this.syncLog();
  }

  /**
   * Sends an action again with a fresh retry budget, whatever state it ended in. The replay is
   * committed and watched before the job is sent, so a failed send only delays it.
   */
  async replay(index: number): Promise<{ ok: true } | { ok: false; reason: string }> {
    const row = this.storedAction(index);
    if (!row) return { ok: false, reason: "no such action" };
    const decision = decideReplay(row, Date.now());
    if (!decision.ok) return decision;
    const next = this.apply(row, decision.change);
    await this.sendJobs([this.jobFor(next)]);
    await this.syncLog();
    return { ok: true };
  }

  /** Sends a retry that is waiting out its backoff now; false when it is not waiting. */
  async bringForward(index: number): Promise<boolean> {
    const row = this.storedAction(index);
    const change = row && decideBringForward(row, Date.now());
    if (!row || !change) return false;
    const next = this.apply(row, change);
    await this.sendJobs([this.jobFor(next)]);
    this.ctx.waitUntil(this.syncLog());
    return true;
  }

  /**
   * Erases the caller's data: the event and the platform's payload become a tombstone naming
   * only the call, undelivered actions are failed, and attempts keep only their outcome,
   * status and timing. The delivery log is rewritten from here.
   */
  async erase(): Promise<Erased | null> {
    const call = this.callRow();
    if (!call) return null;
    const now = Date.now();
    // An attempt's number is the action's count of attempts when it was made.
    const attempts = this.storedActions().reduce((sum, a) => sum + a.attempts, 0);
    this.batch(() => {
      // The log strips the attempts it holds; those on their way are stripped here first.
      this.saveList({ mark: { ...this.resetLogMark({}), erase: true } });
      this.storeText("event", JSON.stringify({ call_id: call.call_id, agent_id: call.agent_id }));
      this.storeText("raw", null);
      this.updateRecord((record) => ({ ...record, erased: true }));
      for (const row of this.storedActions()) {
        const unlogged = row.unlogged?.map((u) => ({ number: u.number, record: erasedAttempt(u.record) }));
        this.write(row, { ...decideErase(row, now), ...(unlogged ? { unlogged } : {}) });
      }
    });
    this.arm();
    await this.syncLog();
    const deliveryIds = this.storedActions().map((a) => a.delivery_id);
    return { actions: deliveryIds.length, attempts, deliveryIds };
  }

  async snapshot(): Promise<LedgerSnapshot | null> {
    const call = this.callRow();
    if (!call) return null;
    const raw = this.storedText("raw");
    return {
      call,
      event: this.event(),
      raw: raw === null ? null : (JSON.parse(raw) as unknown),
      actions: this.storedActions().map((a) => ({ ...this.actionRow(a, call), action: JSON.parse(a.action) as Action })),
    };
  }

  /**
   * The watchdog. Re-sends the job of any action overdue by more than the margin (a queue
   * message lost: Miniflare's local queue forgets everything on restart, production can lose
   * a send that errored), writes the delivery log while it lags, and once the call is settled
   * and logged, deletes it when its retention ends.
   */
  override async alarm(): Promise<void> {
    const started = Date.now();
    count(this.env, "durable_object_requests");
    try {
      await this.watch(started);
    } finally {
      count(this.env, "durable_object_ms", Date.now() - started);
    }
  }

  private async watch(now: number): Promise<void> {
    this.alarmAt = null; // this one has fired
    const margin = this.marginMs();
    const jobs: Job[] = [];
    this.batch(() => {
      for (const row of this.storedActions()) {
        const change = decideResend(row, now, margin);
        if (change) jobs.push(this.jobFor(this.write(row, change)));
      }
    });
    if (this.retentionEnded(now)) {
      // Nothing else runs meanwhile: a replay arriving between the two deletions would revive
      // an action whose log rows are gone.
      await this.ctx.blockConcurrencyWhile(() => this.deleteCall());
      return;
    }
    this.arm();
    if (jobs.length > 0) {
      console.warn("ledger: watchdog re-sent jobs", { call_id: this.callRow()?.call_id, resent: jobs.length });
      await this.sendJobs(jobs);
    }
    await this.syncLog();
  }

  /**
   * The end of retention: the call's delivery-log rows (and what the development outbox recorded
   * for it), then the ledger itself. Those rows go first because once the ledger is gone the same
   * call id posted again is a new call, and its deliveries have the same ids: rows of the old call
   * still in the log would meet them, and the outbox would take its messages for the old ones. If the
   * log refuses, the ledger stays and tries again; the log's daily sweep is a backstop. A storage
   * failure after that fails the alarm, which the runtime retries, and finds the log's rows gone.
   */
  private async deleteCall(): Promise<void> {
    const call = this.callRow();
    try {
      if (call) {
        const deliveryIds = this.storedActions().map((a) => a.delivery_id);
        await new Outbox(this.env.DB).deleteForDeliveries(deliveryIds);
        await new DeliveryLog(this.env.DB).deleteCall(call, deliveryIds);
      }
    } catch (err) {
      console.error("ledger: could not delete the call's log rows at the end of retention; the alarm will retry", {
        call_id: call?.call_id,
        error: String(err),
      });
      this.storeAlarm(Date.now() + LOG_RETRY_MS);
      return;
    }
    // Data first: if the object dies between the two, the alarm left behind finds nothing
    // and clears itself; the other order could strand the data with no alarm to delete it.
    await this.ctx.storage.deleteAll();
    await this.ctx.storage.deleteAlarm();
    this.alarmAt = null;
  }

  /**
   * Applies a change (and keeps an attempt) and re-arms the alarm, in one synchronous step.
   * Inside a batch, the batch's caller arms once it is committed.
   */
  private apply(row: StoredAction, change: Change, attempt?: AttemptRecord): StoredAction {
    const nested = this.staged !== null;
    let next = row;
    this.batch(() => {
      if (!attempt) {
        next = this.write(row, change);
        return;
      }
      // The attempt waits in the list, with the change it belongs to, until the log has it.
      const number = change.attempts ?? row.attempts;
      const unlogged = [...(row.unlogged ?? []).filter((u) => u.number !== number), { number, record: attempt }];
      next = this.write(row, { ...change, unlogged });
    });
    if (!nested) this.arm();
    return next;
  }

  private write(row: StoredAction, change: Partial<StoredAction>): StoredAction {
    const next = { ...row, ...change };
    this.saveActions(this.storedActions().map((a) => (a.idx === row.idx ? next : a)));
    return next;
  }

  /**
   * Runs `fn` as one synchronous step with the action list held in memory, and stores the list
   * once at its end if it changed: one row written however many actions `fn` changes. If `fn`
   * throws, nothing it did is kept.
   */
  private batch<T>(fn: () => T): T {
    if (this.staged) return fn();
    return this.ctx.storage.transactionSync(() => {
      this.staged = this.readStoredList();
      this.stagedDirty = false;
      try {
        const result = fn();
        if (this.stagedDirty) writeList(this.kv, this.staged);
        return result;
      } finally {
        this.staged = null;
      }
    });
  }

  private saveActions(actions: StoredAction[]): void {
    this.saveList({ actions });
  }

  private saveList(change: Partial<ActionList>): void {
    if (!this.staged) {
      writeList(this.kv, { ...this.readStoredList(), ...change });
      return;
    }
    this.staged = { ...this.staged, ...change };
    this.stagedDirty = true;
  }

  /** The list as stored, or as the running batch has it; a copy the caller may change. */
  private list(): ActionList {
    return this.staged ? structuredClone(this.staged) : this.readStoredList();
  }

  /**
   * Sets the alarm from the stored state (or, right after a write, from what it wrote). Called,
   * not awaited, right after each commit.
   */
  private arm(known: { list: ActionList; call: CallTimes | null } = { list: this.list(), call: this.callRow() }): void {
    const now = Date.now();
    const { actions: rows, mark } = known.list;
    const call = known.call;
    const at = nextAlarm(rows, {
      now,
      marginMs: this.marginMs(),
      logLagging: this.logLagging(call, rows, mark),
      logRetryMs: LOG_RETRY_MS,
      settledAt: this.settledAt(call, rows),
      retentionMs: readConfig(this.env).retentionDays * 86_400_000,
    });
    // An alarm already set earlier fires first, finds nothing due and arms again, so it is
    // left alone unless the new time is much later (a long backoff, the end of retention).
    const current = this.alarmAt;
    if (at === current || (at !== null && current !== null && at > current && at - current < ALARM_SLACK_MS)) return;
    this.storeAlarm(at);
  }

  /**
   * Sets (or deletes) the alarm, not awaited: storage writes issued without an await in between
   * commit together (write coalescing), so the alarm cannot be lost while the change it guards
   * is kept.
   */
  private storeAlarm(at: number | null): void {
    if (at === null) void this.ctx.storage.deleteAlarm();
    else void this.ctx.storage.setAlarm(at);
    this.alarmAt = at;
    // Billed as a row written, like a delete.
    count(this.env, "sqlite_rows_written");
  }

  /** Queues the jobs, each delayed until its action (one of `rows`, the stored ones) is due. */
  private async sendJobs(jobs: Job[], rows: StoredAction[] = this.storedActions()): Promise<void> {
    if (jobs.length === 0) return;
    const now = Date.now();
    const dueAt = new Map(rows.map((a) => [a.idx, a.due_at]));
    try {
      const due = jobs.map((job) => {
        const delay = Math.ceil(((dueAt.get(job.action_index) ?? now) - now) / 1000);
        return { job, delaySeconds: Math.min(Math.max(delay, 0), MAX_QUEUE_DELAY_SECONDS) };
      });
      await this.env.ACTIONS.sendBatch(
        packJobs(due).map(({ body, delaySeconds }) => ({ body, contentType: "json" as const, ...(delaySeconds > 0 ? { delaySeconds } : {}) })),
      );
    } catch (err) {
      // The work is committed and the alarm armed: the watchdog sends these jobs again.
      console.error("ledger: enqueue failed, the watchdog will retry", { call_id: jobs[0]!.call_id, error: String(err) });
    }
  }

  /**
   * Copies to the D1 delivery log whatever it has not confirmed yet, once the log writes
   * already under way have landed: two writes in flight could land in either order, and an
   * erasure's strip overtaken by an earlier write of the same attempts would leave them in
   * the log as they were. Each write reads the ledger when its turn comes.
   */
  private syncLog(): Promise<void> {
    const turn = this.logWrites.then(() => this.writeLog());
    this.logWrites = turn.catch(() => {});
    return turn;
  }

  /** One write to the log. On failure nothing is marked, and the alarm (armed while the log lags) tries again. */
  private async writeLog(): Promise<void> {
    const call = this.callRow();
    if (!call) return;
    const { actions, mark } = this.list();
    const rows = actions.filter((a) => a.version > (mark.actions[a.idx] ?? 0));
    const attempts: LoggedAttempt[] = actions.flatMap((a) =>
      (a.unlogged ?? []).map((u) => ({ deliveryId: a.delivery_id, number: u.number, record: u.record })),
    );
    if (!this.logLagging(call, actions, mark)) return;
    const deliveryIds = actions.map((a) => a.delivery_id);
    try {
      await new DeliveryLog(this.env.DB).write({
        ...(mark.call ? {} : { call: { ...call, delivery_ids: deliveryIds } }),
        actions: rows.map((a) => this.actionRow(a, call)),
        attempts,
        ...(mark.erase ? { erase: deliveryIds } : {}),
      });
    } catch (err) {
      console.error("ledger: delivery log write failed; the alarm will retry", { call_id: call.call_id, error: String(err) });
      return;
    }
    // Read again: other writes may have confirmed more meanwhile; a mark only moves forward.
    this.batch(() => {
      const now = this.list();
      const next = now.mark;
      for (const a of rows) next.actions[a.idx] = Math.max(next.actions[a.idx] ?? 0, a.version);
      if ((next.resets ?? 0) !== (mark.resets ?? 0)) {
        this.saveList({ mark: next });
        return;
      }
      next.call = true;
      if (mark.erase) delete next.erase;
      // The attempts written leave the list; one changed meanwhile (same number, new record) stays.
      const written = new Set(attempts.map((a) => `${a.deliveryId} ${a.number} ${JSON.stringify(a.record)}`));
      const kept = now.actions.map((a) => {
        const unlogged = a.unlogged?.filter((u) => !written.has(`${a.delivery_id} ${u.number} ${JSON.stringify(u.record)}`));
        const { unlogged: _all, ...rest } = a;
        return unlogged?.length ? { ...rest, unlogged } : rest;
      });
      this.saveList({ actions: kept, mark: next });
    });
    this.arm();
  }

  private logMark(): LogMark {
    return this.list().mark;
  }

  private resetLogMark(change: Partial<LogMark>): LogMark {
    const mark = this.logMark();
    return { ...mark, ...change, resets: (mark.resets ?? 0) + 1 };
  }

  /** Whether the log lacks anything the ledger holds: the call, an action's version, an attempt, an erasure. */
  private logLagging(call: CallTimes | null, rows: StoredAction[], mark: LogMark = this.logMark()): boolean {
    if (!call) return false;
    if (!mark.call || mark.erase) return true;
    return rows.some((a) => a.version > (mark.actions[a.idx] ?? 0) || (a.unlogged?.length ?? 0) > 0);
  }

  /** When the last action settled (or the call was received, if it had none); null while any is active. */
  private settledAt(call: CallTimes | null, rows: StoredAction[]): number | null {
    if (!call || rows.some((a) => isActive(a.state))) return null;
    return Math.max(Date.parse(call.received_at), ...rows.map((a) => Date.parse(a.updated_at)));
  }

  private retentionEnded(now: number): boolean {
    const rows = this.storedActions();
    const call = this.callRow();
    const settled = this.settledAt(call, rows);
    if (settled === null || this.logLagging(call, rows)) return false;
    return settled + readConfig(this.env).retentionDays * 86_400_000 <= now;
  }

  private marginMs(): number {
    return readConfig(this.env).watchdogSeconds * 1000;
  }

  private jobFor(row: StoredAction, call: Pick<LedgerCall, "agent_id" | "call_id"> = this.callRow()!): Job {
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
      next_attempt_at: isActive(a.state) ? new Date(a.due_at).toISOString() : null,
      created_at: call.received_at,
      updated_at: a.updated_at,
      version: a.version,
      run: a.run,
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
    const record = readRecord(this.kv);
    if (!record) return null;
    const { event: _event, raw: _raw, actions: _actions, log_progress: _progress, chunks: _chunks, ...call } = record;
    // The list from the record just read (or the running batch's), not a second read.
    const actionCount = (this.staged ?? listOf(record)).actions.length;
    return { ...(call as Omit<LedgerCall, "action_count">), action_count: actionCount };
  }

  private event(): CallEndedEvent {
    return JSON.parse(this.storedText("event") ?? "null") as CallEndedEvent;
  }

  private storedText(text: RecordText): string | null {
    const record = readRecord(this.kv);
    return record ? readText(this.kv, record, text) : null;
  }

  private storeText(text: RecordText, value: string | null): void {
    this.updateRecord((record) => withText(this.kv, record, text, value));
  }

  /** Changes the stored call's record (not its action list, which a running batch may hold). */
  private updateRecord(change: (record: CallRecord) => CallRecord): void {
    const record = readRecord(this.kv);
    if (!record) throw new Error("ledger: no call record to change");
    writeRecord(this.kv, change(record));
  }

  /** The list as stored: none before the call is. */
  private readStoredList(): ActionList {
    return readList(this.kv);
  }

  private storedActions(): StoredAction[] {
    return this.staged ? [...this.staged.actions] : this.readStoredList().actions;
  }

  private storedAction(index: number): StoredAction | undefined {
    return this.storedActions().find((a) => a.idx === index);
  }
}

/** A plan's actions as the ledger stores them, numbered from `at.first`, none attempted yet. */
function newActions(plan: FollowUpPlan, ids: string[], at: { first: number; run: number; dueAt: number; at: string }): StoredAction[] {
  return plan.actions.map(
    ({ action, skip }, i): StoredAction => ({
      idx: at.first + i,
      delivery_id: ids[i]!,
      action: JSON.stringify(action),
      state: skip ? "skipped" : "pending",
      attempts: 0,
      round_attempts: 0,
      round_started_at: null,
      generation: FIRST_GENERATION,
      replays: 0,
      claims: 0,
      lease_token: 0,
      leased_until: 0,
      in_flight: 0,
      last_status: null,
      last_error: skip ?? null,
      provider: null,
      due_at: at.dueAt,
      version: 1,
      updated_at: at.at,
      run: at.run,
    }),
  );
}
