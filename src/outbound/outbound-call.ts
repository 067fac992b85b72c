import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config";
import { count, metered } from "../lib/meter";
import { ledgerFor } from "../ledger/client";
import type { CallbackAction } from "../ledger/plan";
import type { Action } from "../schemas/agent";
import type { CallEndedEvent } from "../schemas/call-event";
import type { OutboundCall } from "../schemas/outbound";
import { OutboundCallIndex } from "../store/outbound-calls";
import { generationId } from "./client";
import { DIAL_TIMEOUT_MS, dialerFor, placeCall } from "./dialers";
import type { DialAnswer } from "./dialers/types";
import {
  type CallEnd,
  DEDUPE_WINDOW_MS,
  type OutboundState,
  applyAnswer,
  applyEnd,
  callbackPayload,
  cancel,
  expireAttempt,
  isFinal,
  newCall,
  nextWake,
  publicView,
  runsFallback,
  startAttempt,
} from "./state";

/** While the D1 index lags behind the object, the alarm tries again this often. */
const INDEX_RETRY_MS = 30_000;
/** A simulated call ends this long after it is placed. */
const SIMULATED_CALL_MS = 3_000;

export type NewCall = Parameters<typeof newCall>[0];

export type CreateResult =
  | { kind: "created"; call: OutboundCall }
  /** The same Idempotency-Key with the same request: the first answer, again. */
  | { kind: "replayed"; call: OutboundCall }
  /** The same Idempotency-Key with another request. */
  | { kind: "conflict" }
  /** A trigger's dedupe key already placed this call. */
  | { kind: "duplicate"; call: OutboundCall };

export interface CreateOptions {
  /** `idempotent`: a repeat with the same fingerprint is replayed; `dedupe`: any repeat is a duplicate. */
  repeat: "idempotent" | "dedupe";
  /** A dedupe key is forgotten once its call is final and older than this. */
  dedupeWindowMs?: number;
}

/** The stored first answer, so an Idempotency-Key replay answers exactly it. */
const FIRST_ANSWER = "first_answer";
const STATE = "state";

/**
 * One outbound call, from the request to its final outcome: the schedule (its alarm, so any
 * horizon survives restarts), each dial attempt, re-dials, and the hand-over of the callback
 * and fallback to the delivery ledger, which retries, logs and replays them like any delivery.
 *
 * Every change is stored and the alarm set in one synchronous step before anything is
 * awaited: if the object dies in the middle of a create-call request, the alarm finds the
 * attempt still open and waits for its call-ended event up to the result timeout, instead of
 * dialling again (a second request could ring the person twice).
 */
export class OutboundCallObject extends DurableObject<CloudflareBindings> {
  private state: OutboundState | null = null;

  constructor(ctx: DurableObjectState, env: CloudflareBindings) {
    super(ctx, metered(env));
    void ctx.blockConcurrencyWhile(async () => {
      this.state = (await ctx.storage.get<OutboundState>(STATE)) ?? null;
    });
  }

  /**
   * Creates the call, or answers a repeat of the same id: the id is derived from an
   * Idempotency-Key or a trigger's dedupe key, so repeats meet here, one at a time.
   */
  async create(input: NewCall, dueAt: number, options: CreateOptions): Promise<CreateResult> {
    const now = Date.now();
    const existing = this.state;
    if (existing) {
      if (options.repeat === "idempotent") {
        if (existing.fingerprint !== input.fingerprint) return { kind: "conflict" };
        return { kind: "replayed", call: (await this.ctx.storage.get<OutboundCall>(FIRST_ANSWER)) ?? publicView(existing) };
      }
      // The old call is replaced only once nothing of it is left to do (its hand-over and
      // index write), or its callback would never go.
      const settled = isFinal(existing.status) && nextWake(existing, now, INDEX_RETRY_MS) === null;
      const expired = settled && Date.parse(existing.requested_at) < now - (options.dedupeWindowMs ?? Number.POSITIVE_INFINITY);
      if (!expired) return { kind: "duplicate", call: publicView(existing) };
    }
    const generation = existing ? (existing.generation ?? 1) + 1 : 1;
    const state = newCall({ ...input, id: generationId(input.id, generation), ...(generation > 1 ? { generation } : {}) }, dueAt, now);
    const call = publicView(state);
    this.save(state);
    void this.ctx.storage.put(FIRST_ANSWER, call);
    await this.index();
    return { kind: "created", call };
  }

  /** The call as the API shows it, or null for an id never created. */
  async view(id?: string): Promise<OutboundCall | null> {
    const state = this.current(id);
    return state ? publicView(state) : null;
  }

  /** The stored state, whole: for the API's detail view and for tests. */
  async inspect(id?: string): Promise<OutboundState | null> {
    return this.current(id);
  }

  /** DELETE: cancels a call not yet dialling, or a pending re-dial. */
  async cancel(id?: string): Promise<{ ok: true; call: OutboundCall } | { ok: false; reason: string } | null> {
    const state = this.current(id);
    if (!state) return null;
    const result = cancel(state, Date.now());
    if (!result.ok) return result;
    this.save(result.state);
    await this.index();
    return { ok: true, call: publicView(result.state) };
  }

  /**
   * A call-ended event for one of this call's attempts (correlated by our id in the platform's
   * metadata, or by the platform's call id). `provisionalUntil`: more is coming (Retell's
   * call_analyzed); the end stands at that time unless the final event comes first.
   */
  async ended(event: CallEndedEvent, provisionalUntil?: number, id?: string): Promise<void> {
    // A late event of an earlier generation must not end this one's attempt of the same number.
    const state = this.current(id);
    if (!state || event.agent_id !== state.agent_id) return; // another agent's event cannot end this call
    const next = applyEnd(state, endOf(event), Date.now(), provisionalUntil);
    if (next === state) return;
    this.save(next);
    await this.settle();
  }

  override async alarm(): Promise<void> {
    const started = Date.now();
    count(this.env, "durable_object_requests");
    try {
      await this.wake(started);
    } finally {
      count(this.env, "durable_object_ms", Date.now() - started);
    }
  }

  private async wake(now: number): Promise<void> {
    const state = this.state;
    if (!state) return;
    if (this.retentionEnded(state, now)) {
      await this.ctx.storage.deleteAll();
      this.state = null;
      return;
    }
    const expired = expireAttempt(state, now);
    if (expired) this.save(expired);
    if (this.state!.simulate_end_at !== null && this.state!.simulate_end_at <= now) await this.endSimulatedCall();
    const started = startAttempt(this.state!, now);
    if (started) {
      this.save(started);
      await this.dial();
    }
    await this.settle();
    // This alarm has fired: set the next one even when nothing changed (it may have come early).
    this.arm(this.state!);
  }

  /** Places the open attempt through the agent's platform. */
  private async dial(): Promise<void> {
    const state = this.state!;
    const attempt = state.attempts.at(-1)!;
    const platform = state.settings.platform;
    let answer: DialAnswer & { http_status?: number };
    if (platform.type === "simulator") {
      answer = { kind: "placed", platform_call_id: `sim_${state.id.slice(3)}_${attempt.number}` };
    } else {
      const request = {
        outbound_call_id: state.id,
        attempt: attempt.number,
        agent_id: state.agent_id,
        phone_number: state.request.phone_number,
        task: state.request.task,
        caller_name: state.request.caller_name,
        metadata: state.request.metadata,
        relay_origin: state.relay_origin ?? null,
      };
      const adapter = dialerFor(platform.type);
      const fetchOut = (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init);
      answer = adapter
        ? await placeCall(adapter, platform, request, this.env as unknown as Record<string, unknown>, fetchOut, DIAL_TIMEOUT_MS)
        : { kind: "refused", status: 0, error: `no dialer for platform ${platform.type}` };
    }
    const now = Date.now();
    const next = applyAnswer(this.state!, answer, now);
    if (next === this.state) return;
    const simulated = platform.type === "simulator" && answer.kind === "placed";
    this.save(simulated ? { ...next, simulate_end_at: now + SIMULATED_CALL_MS } : next);
    if (answer.kind === "placed") {
      // The webhook may come within seconds: link the platform's id before anything else.
      await new OutboundCallIndex(this.env.DB).link(answer.platform_call_id, state.id, attempt.placed_at).catch((err) => {
        console.warn("outbound: could not link the platform call id yet", { id: state.id, error: String(err) });
      });
    }
  }

  /**
   * The simulator's call ends: the event goes through the relay's own ingest, the path a
   * platform's webhook takes, and comes back here correlated by our id.
   */
  private async endSimulatedCall(): Promise<void> {
    const state = this.state!;
    const attempt = state.attempts.at(-1);
    this.save({ ...state, simulate_end_at: null, version: state.version + 1 });
    if (!attempt?.platform_call_id) return;
    const outcome = typeof state.request.metadata.simulate_outcome === "string" ? state.request.metadata.simulate_outcome : "completed";
    const connected = !["no_answer", "busy", "failed", "voicemail"].includes(outcome);
    const event: CallEndedEvent = {
      call_id: attempt.platform_call_id,
      agent_id: state.agent_id,
      caller_number: state.request.phone_number,
      duration_seconds: connected ? 42 : 0,
      summary: connected ? `Simulated call: ${state.request.task ?? "no task"}` : null,
      ended_at: new Date().toISOString(),
      outcome,
      ended_reason: `simulated-${outcome}`,
      metadata: { ...state.request.metadata, ...(state.request.caller_name ? { caller_name: state.request.caller_name } : {}), outbound_call_id: state.id },
    };
    await this.acceptEnd(event);
  }

  /**
   * Hands a call-ended event to the relay's ingest. The deployed object (see
   * src/ingest/outbound-call-object.ts) sends it through `acceptCall`; ingest depends on this
   * folder, so the link is made there.
   */
  protected async acceptEnd(event: CallEndedEvent): Promise<void> {
    await this.ended(event, undefined, this.state!.id);
  }

  /**
   * The call this object holds, if `id` names it: a key's earlier generations are gone. The id
   * is optional only for a caller of the release before generations, still running while this
   * one deploys; every caller now names the call.
   */
  private current(id: string | undefined): OutboundState | null {
    return id === undefined || this.state?.id === id ? this.state : null;
  }

  /** Work that follows a change: the callback's hand-over once final, and the D1 index. */
  private async settle(): Promise<void> {
    const state = this.state!;
    if ((state.status === "completed" || state.status === "failed") && !state.handed_over) await this.handOver();
    await this.index();
  }

  /**
   * Gives the callback (to webhook_url) and, when the outcome asks for it, the fallback
   * actions to the delivery ledger, as a call of their own under this call's id. The ledger
   * accepts a call once, so a repeat after a crash here sends nothing twice.
   */
  private async handOver(): Promise<void> {
    const state = this.state!;
    const actions: Action[] = [];
    if (state.request.webhook_url) {
      const callback: CallbackAction = {
        type: "webhook",
        url: state.request.webhook_url,
        include_transcript: false,
        include_recording_url: false,
        payload: callbackPayload(state, state.settings.platform.type),
      };
      actions.push(callback);
    }
    if (runsFallback(state)) {
      // A fallback action with `when` runs only for the outcomes it lists.
      const outcome = state.outcome ?? "unknown";
      actions.push(...state.settings.fallback_actions.filter((action) => !action.when || action.when.includes(outcome)));
    }
    if (actions.length > 0) {
      const event: CallEndedEvent = {
        call_id: state.id,
        agent_id: state.agent_id,
        caller_number: state.request.phone_number,
        outcome: state.outcome,
        ended_at: state.ended_at,
        summary: state.result?.summary ?? null,
        details: state.result?.details ?? null,
        recording_url: state.result?.recording_url ?? null,
        duration_seconds: state.attempts.at(-1)?.duration_seconds ?? null,
        ended_reason: state.attempts.at(-1)?.ended_reason ?? null,
        metadata: {
          ...state.request.metadata,
          phone_number: state.request.phone_number,
          ...(state.request.caller_name ? { caller_name: state.request.caller_name } : {}),
          ...(state.request.task ? { task: state.request.task } : {}),
        },
      };
      try {
        await ledgerFor(this.env, state.agent_id, state.id).accept(event, state.agent, new Date().toISOString(), { actions });
      } catch (err) {
        // The alarm (armed with the final state) tries again.
        console.warn("outbound: hand-over to the delivery ledger failed; will retry", { id: state.id, error: String(err) });
        return;
      }
    }
    this.save({ ...this.state!, handed_over: true, handed_actions: actions.length, version: this.state!.version + 1 });
  }

  /** Writes the call's view to the D1 index; a failure is retried by the alarm. */
  private async index(): Promise<void> {
    const state = this.state!;
    if (state.indexed_version >= state.version) return;
    try {
      await new OutboundCallIndex(this.env.DB).save(publicView(state), state.version);
    } catch (err) {
      console.warn("outbound: index write failed; will retry", { id: state.id, error: String(err) });
      return;
    }
    const current = this.state!;
    this.save({ ...current, indexed_version: Math.max(current.indexed_version, state.version) });
  }

  /** Stores the state and sets the alarm from it, with no await in between (one commit). */
  private save(state: OutboundState): void {
    this.state = state;
    void this.ctx.storage.put(STATE, state);
    this.arm(state);
  }

  private arm(state: OutboundState): void {
    const now = Date.now();
    const wake = nextWake(state, now, INDEX_RETRY_MS) ?? this.expiry(state);
    if (wake === null) void this.ctx.storage.deleteAlarm();
    else void this.ctx.storage.setAlarm(Math.max(wake, now));
  }

  /**
   * A final, handed-over call is deleted once its retention ends; a trigger's call is kept at
   * least as long as its dedupe key holds, or a repeat inside that window would call again.
   */
  private expiry(state: OutboundState): number | null {
    if (!isFinal(state.status) || state.ended_at === null) return null;
    const retention = readConfig(this.env).retentionDays * 86_400_000;
    const kept = state.trigger_id === null ? retention : Math.max(retention, DEDUPE_WINDOW_MS);
    return Date.parse(state.ended_at) + kept;
  }

  private retentionEnded(state: OutboundState, now: number): boolean {
    const expiry = this.expiry(state);
    return expiry !== null && expiry <= now && nextWake(state, now, INDEX_RETRY_MS) === null;
  }
}

/** What an accepted call-ended event says about the attempt it ends. */
function endOf(event: CallEndedEvent): CallEnd {
  const attempt = Number(event.metadata?.attempt);
  return {
    platform_call_id: event.call_id,
    ...(Number.isInteger(attempt) && attempt > 0 ? { attempt } : {}),
    outcome: event.outcome ?? null,
    ended_reason: event.ended_reason ?? null,
    ended_at: event.ended_at ?? null,
    duration_seconds: event.duration_seconds ?? null,
    summary: event.summary ?? null,
    details: event.details ?? null,
    recording_url: event.recording_url ?? null,
  };
}
