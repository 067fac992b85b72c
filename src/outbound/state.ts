/**
 * The pure state machine of one outbound call. Every function takes the stored state and the
 * moment and returns the next state; the Durable Object only stores what these decide and
 * does the I/O they ask for. Every change bumps `version`, which orders the D1 index's copies.
 */
import { retryDelaySeconds } from "../pipeline/retry-policy";
import type { Agent, OutboundCallsSettings } from "../schemas/agent";
import type { DialerType, OutboundAttempt, OutboundCall, OutboundCallback, OutboundStatus } from "../schemas/outbound";
import { nextOpening } from "./calling-hours";
import type { DialAnswer } from "./dialers/types";

/** What a call-ended event tells an outbound call about one of its attempts. */
export interface CallEnd {
  platform_call_id: string;
  /** The attempt our metadata names (`attempt`, sent with every create-call), when the event carries it. */
  attempt?: number;
  outcome: string | null;
  ended_reason: string | null;
  ended_at: string | null;
  duration_seconds: number | null;
  summary: string | null;
  details: Record<string, unknown> | null;
  recording_url: string | null;
}

export type AttemptPhase = "placing" | "placed" | "unknown" | "retry" | "ended";

export interface StoredAttempt extends OutboundAttempt {
  phase: AttemptPhase;
  /** When to stop waiting for this attempt's call-ended event (epoch ms). */
  deadline: number;
  /** A preliminary end (Retell's call_ended before call_analyzed), taken as final at `until`. */
  provisional?: { end: CallEnd; until: number };
}

/** The request as normalised: what every attempt dials and the callback reports. */
export interface OutboundRequest {
  phone_number: string;
  task: string | null;
  caller_name: string | null;
  webhook_url: string | null;
  metadata: Record<string, unknown>;
  timezone: string | null;
}

export interface OutboundState {
  id: string;
  agent_id: string;
  trigger_id: string | null;
  /** Identifies the request's content, for Idempotency-Key replays. */
  fingerprint: string;
  request: OutboundRequest;
  /** The relay's origin as the request reached it, for platforms that take a webhook URL per call. */
  relay_origin: string | null;
  /** The agent as it was when the call was requested: its calling settings and templates. */
  agent: Agent;
  settings: OutboundCallsSettings;
  status: OutboundStatus;
  outcome: string | null;
  error: string | null;
  requested_at: string;
  /** When the next attempt is placed (epoch ms), while queued or scheduled. */
  due_at: number | null;
  attempts: StoredAttempt[];
  /** The last attempt's end, for the callback's summary and details. */
  result: CallEnd | null;
  ended_at: string | null;
  /** The callback and fallback were handed to the delivery ledger (they run from there). */
  handed_over: boolean;
  /** How many actions were handed over: the callback first when there is one, then the fallback. */
  handed_actions: number;
  /** When the simulator's call ends (epoch ms). */
  simulate_end_at: number | null;
  version: number;
  /** The last version the D1 index has. */
  indexed_version: number;
  /** Which of its key's calls this is, from 2 on (a dedupe key reused after its window); absent for the first. */
  generation?: number;
  updated_at: string;
}

/** A trigger's dedupe key holds for this long. */
export const DEDUPE_WINDOW_MS = 30 * 86_400_000;

export const isFinal = (status: OutboundStatus) => status === "completed" || status === "failed" || status === "cancelled";

/** Statuses DELETE may cancel: nothing is on the wire. */
const CANCELLABLE: ReadonlySet<OutboundStatus> = new Set(["queued", "scheduled"]);
/** A due time this close counts as now: the call is `queued`, not `scheduled`. */
const QUEUED_WITHIN_MS = 2_000;

function bump(state: OutboundState, now: number, changes: Partial<OutboundState>): OutboundState {
  return { ...state, ...changes, version: state.version + 1, updated_at: new Date(now).toISOString() };
}

/** The moment a call due at `at` may be placed: inside the calling hours, in the callee's time zone. */
export function placeableAt(state: Pick<OutboundState, "settings" | "request">, at: number): number {
  return nextOpening(at, state.settings.calling_hours, state.request.timezone ?? undefined);
}

/** A new outbound call due at `dueAt` (before calling hours are applied). */
export function newCall(input: Omit<OutboundState, "status" | "outcome" | "error" | "due_at" | "attempts" | "result" | "ended_at" | "handed_over" | "handed_actions" | "simulate_end_at" | "version" | "indexed_version" | "updated_at">, dueAt: number, now: number): OutboundState {
  const at = Math.max(now, placeableAt(input, Math.max(now, dueAt)));
  return {
    ...input,
    status: at - now <= QUEUED_WITHIN_MS ? "queued" : "scheduled",
    outcome: null,
    error: null,
    due_at: at,
    attempts: [],
    result: null,
    ended_at: null,
    handed_over: false,
    handed_actions: 0,
    simulate_end_at: null,
    version: 1,
    indexed_version: 0,
    updated_at: new Date(now).toISOString(),
  };
}

/** Starts the due attempt: the create-call request goes out next. Null when nothing is due. */
export function startAttempt(state: OutboundState, now: number): OutboundState | null {
  if ((state.status !== "queued" && state.status !== "scheduled") || state.due_at === null || state.due_at > now) return null;
  const last = state.attempts.at(-1);
  const deadline = now + state.settings.result_timeout_seconds * 1000;
  const placedAt = new Date(now).toISOString();
  // A create-call that was answered "try again" is the same attempt, tried again.
  const attempts =
    last?.phase === "retry"
      ? [...state.attempts.slice(0, -1), { ...last, phase: "placing" as const, placed_at: placedAt, deadline, retries: last.retries + 1 }]
      : [...state.attempts, blankAttempt(state.attempts.length + 1, placedAt, deadline)];
  return bump(state, now, { status: "dialing", due_at: null, attempts });
}

function blankAttempt(number: number, placedAt: string, deadline: number): StoredAttempt {
  return {
    number,
    placed_at: placedAt,
    platform_call_id: null,
    http_status: null,
    error: null,
    retries: 0,
    ended_at: null,
    ended_reason: null,
    outcome: null,
    duration_seconds: null,
    phase: "placing",
    deadline,
  };
}

const replaceAt = (state: OutboundState, index: number, attempt: StoredAttempt) => state.attempts.map((a, i) => (i === index ? attempt : a));
const replaceLast = (state: OutboundState, attempt: StoredAttempt) => replaceAt(state, state.attempts.length - 1, attempt);

/**
 * The platform's answer to the create-call request. Placed: wait for the call-ended event.
 * 429/5xx: the platform placed nothing, so the same attempt is tried again on the delivery
 * schedule. No answer: the call may be ringing, so it is never re-sent; the call-ended event
 * (correlated by our id) or the result timeout decides. Refused: the call fails now.
 */
export function applyAnswer(state: OutboundState, answer: DialAnswer & { http_status?: number }, now: number, random = Math.random): OutboundState {
  const last = state.attempts.at(-1);
  if (last?.phase !== "placing") {
    // The call-ended event came before the answer: keep the platform's id, change nothing else.
    if (last && answer.kind === "placed" && last.platform_call_id === null) {
      return bump(state, now, { attempts: replaceLast(state, { ...last, platform_call_id: answer.platform_call_id }) });
    }
    return state;
  }
  const status = "status" in answer ? answer.status : (answer.http_status ?? null);
  switch (answer.kind) {
    case "placed":
      return bump(state, now, {
        status: "in_progress",
        attempts: replaceLast(state, { ...last, phase: "placed", platform_call_id: answer.platform_call_id, http_status: status, error: null }),
      });
    case "unknown":
      return bump(state, now, {
        // A gateway timeout or an answer cut short still has a status worth keeping.
        attempts: replaceLast(state, { ...last, phase: "unknown", http_status: status, error: `no usable answer to the create-call request: ${answer.error}` }),
      });
    case "retry": {
      const delay = retryDelaySeconds({ attempt: last.retries + 1, retryAfterSeconds: answer.retry_after_seconds, random });
      const tried = { ...last, http_status: answer.status, error: answer.error };
      if (delay === null) {
        const ended = { ...tried, phase: "ended" as const, outcome: "failed", ended_at: new Date(now).toISOString() };
        return finish(bump(state, now, { attempts: replaceLast(state, ended) }), "failed", now, `the platform kept refusing: ${answer.error}`);
      }
      return bump(state, now, {
        status: "scheduled",
        due_at: placeableAt(state, now + delay * 1000),
        attempts: replaceLast(state, { ...tried, phase: "retry" }),
      });
    }
    case "refused":
      return finish(
        bump(state, now, {
          attempts: replaceLast(state, { ...last, phase: "ended", outcome: "failed", ended_at: new Date(now).toISOString(), http_status: answer.status, error: answer.error }),
        }),
        "failed",
        now,
        answer.error,
      );
  }
}

/**
 * The attempt a call-ended event is about: the one with the platform's call id, else the one
 * our metadata names, else the newest (only the newest can still be open: an earlier one
 * ended before the next was placed).
 */
function attemptFor(state: OutboundState, end: CallEnd): number {
  const byId = state.attempts.findIndex((a) => a.platform_call_id === end.platform_call_id);
  if (byId !== -1) return byId;
  if (end.attempt !== undefined) return state.attempts.findIndex((a) => a.number === end.attempt);
  return state.attempts.length - 1;
}

/**
 * A call-ended event for one of this call's attempts. A preliminary one (more is coming)
 * is kept and taken as final at `provisionalUntil` unless the final one comes first. An
 * event for an attempt already ended, or that matches none, changes nothing.
 */
export function applyEnd(state: OutboundState, end: CallEnd, now: number, provisionalUntil?: number): OutboundState {
  const index = attemptFor(state, end);
  const attempt = state.attempts[index];
  if (!attempt || attempt.phase === "ended" || attempt.phase === "retry" || isFinal(state.status)) return state;
  const withId = { ...attempt, platform_call_id: attempt.platform_call_id ?? end.platform_call_id };
  if (provisionalUntil !== undefined) {
    const attempts = replaceAt(state, index, { ...withId, provisional: { end, until: provisionalUntil } });
    return bump(state, now, { attempts, status: state.status === "dialing" ? "in_progress" : state.status });
  }
  const ended: StoredAttempt = {
    ...withId,
    phase: "ended",
    provisional: undefined,
    ended_at: end.ended_at ?? new Date(now).toISOString(),
    ended_reason: end.ended_reason,
    outcome: end.outcome ?? "unknown",
    duration_seconds: end.duration_seconds,
  };
  return afterOutcome(bump(state, now, { attempts: replaceAt(state, index, ended), result: end }), ended.outcome ?? "unknown", now);
}

/**
 * Deadlines passed: a provisional end becomes final at its own time or at the result timeout,
 * whichever comes first; an attempt with no end by its result timeout ends as `unknown`. Null
 * when nothing is due.
 */
export function expireAttempt(state: OutboundState, now: number): OutboundState | null {
  const last = state.attempts.at(-1);
  if (!last || isFinal(state.status) || last.phase === "ended" || last.phase === "retry") return null;
  // A call-ended event did come: the timeout only stops the wait for the rest (Retell's
  // call_analyzed), it does not make the end unknown.
  if (last.provisional && (last.provisional.until <= now || last.deadline <= now)) return applyEnd(state, last.provisional.end, now);
  if (last.deadline > now) return null;
  const end: CallEnd = {
    platform_call_id: last.platform_call_id ?? "",
    outcome: "unknown",
    ended_reason: "no call-ended event within result_timeout_seconds",
    ended_at: new Date(now).toISOString(),
    duration_seconds: null,
    summary: null,
    details: null,
    recording_url: null,
  };
  const ended: StoredAttempt = { ...last, phase: "ended", outcome: "unknown", ended_reason: end.ended_reason, ended_at: end.ended_at };
  return afterOutcome(bump(state, now, { attempts: replaceLast(state, ended), result: end }), "unknown", now);
}

/** Dial again when the outcome asks for it and attempts remain; otherwise the call is final. */
export function afterOutcome(state: OutboundState, outcome: string, now: number): OutboundState {
  const { redial } = state.settings;
  if (redial.on.includes(outcome) && state.attempts.length < redial.max_attempts) {
    return { ...state, status: "scheduled", outcome, due_at: placeableAt(state, now + redial.interval_seconds * 1000) };
  }
  return finish(state, outcome === "failed" ? "failed" : "completed", now, outcome === "failed" ? failureReason(state.attempts.at(-1)) : null, outcome);
}

/**
 * Why a call whose outcome is `failed` failed, for `error` and the callback: the platform's
 * ended reason when its event gave one (an error the attempt carries is only about its
 * create-call answer, which the event has since overtaken), else that error.
 *
 * @example
 * failureReason({ ended_reason: "twilio-failed-to-connect-call", error: null }) // "the call failed: twilio-failed-to-connect-call"
 */
export function failureReason(attempt: Pick<OutboundAttempt, "ended_reason" | "error"> | undefined): string {
  if (attempt?.ended_reason) return `the call failed: ${attempt.ended_reason}`;
  return attempt?.error ?? "the call failed";
}

function finish(state: OutboundState, status: "completed" | "failed", now: number, error: string | null, outcome = "failed"): OutboundState {
  return { ...state, status, outcome, error, due_at: null, ended_at: new Date(now).toISOString(), simulate_end_at: null };
}

/** DELETE: a call not yet dialling (including a pending re-dial) is cancelled; otherwise why not. */
export function cancel(state: OutboundState, now: number): { ok: true; state: OutboundState } | { ok: false; reason: string } {
  if (CANCELLABLE.has(state.status)) {
    return { ok: true, state: bump(state, now, { status: "cancelled", due_at: null, ended_at: new Date(now).toISOString() }) };
  }
  if (isFinal(state.status)) return { ok: false, reason: `the call is already ${state.status}` };
  return { ok: false, reason: `the call is ${state.status === "dialing" ? "being dialled" : "in progress"}; it can no longer be cancelled` };
}

/** Whether the fallback actions run: the final outcome is one that re-dials, or the call failed. */
export function runsFallback(state: OutboundState): boolean {
  const outcome = state.outcome ?? "unknown";
  return state.status === "failed" || outcome === "failed" || state.settings.redial.on.includes(outcome);
}

/** The next moment the object must wake, or null when nothing is left to do. */
export function nextWake(state: OutboundState, now: number, indexRetryMs: number): number | null {
  const times: number[] = [];
  if ((state.status === "queued" || state.status === "scheduled") && state.due_at !== null) times.push(state.due_at);
  const last = state.attempts.at(-1);
  if (!isFinal(state.status) && last && last.phase !== "ended" && last.phase !== "retry") {
    times.push(last.provisional ? Math.min(last.provisional.until, last.deadline) : last.deadline);
  }
  if (state.simulate_end_at !== null) times.push(state.simulate_end_at);
  if ((state.status === "completed" || state.status === "failed") && !state.handed_over) times.push(now);
  if (state.indexed_version < state.version) times.push(now + indexRetryMs);
  return times.length > 0 ? Math.min(...times) : null;
}

/** The callback body: the final result, with the request's metadata exactly as it came. */
export function callbackPayload(state: OutboundState, platform: DialerType): OutboundCallback {
  const last = state.attempts.at(-1);
  const result = state.result;
  return {
    event: "outbound_call.completed",
    id: state.id,
    trigger_id: state.trigger_id,
    agent_id: state.agent_id,
    phone_number: state.request.phone_number,
    caller_name: state.request.caller_name,
    task: state.request.task,
    status: state.status === "failed" ? "failed" : "completed",
    outcome: state.outcome ?? "unknown",
    attempts: state.attempts.length,
    call_id: last?.platform_call_id ?? null,
    platform,
    ended_reason: last?.ended_reason ?? null,
    duration_seconds: last?.duration_seconds ?? null,
    summary: result?.summary ?? null,
    details: result?.details ?? null,
    recording_url: result?.recording_url ?? null,
    error: state.error,
    requested_at: state.requested_at,
    ended_at: state.ended_at ?? state.updated_at,
    metadata: state.request.metadata,
  };
}

/** The API's view of the call; `callback` is filled in from the delivery ledger by the caller. */
export function publicView(state: OutboundState): OutboundCall {
  return {
    id: state.id,
    status: state.status,
    outcome: state.outcome,
    agent_id: state.agent_id,
    trigger_id: state.trigger_id,
    platform: state.settings.platform.type,
    phone_number: state.request.phone_number,
    caller_name: state.request.caller_name,
    task: state.request.task,
    webhook_url: state.request.webhook_url,
    metadata: state.request.metadata,
    timezone: state.request.timezone,
    requested_at: state.requested_at,
    scheduled_for: state.due_at === null ? null : new Date(state.due_at).toISOString(),
    max_attempts: state.settings.redial.max_attempts,
    attempts: state.attempts.map(({ phase: _p, deadline: _d, provisional: _v, ...attempt }) => attempt),
    error: state.error,
    ended_at: state.ended_at,
    callback: null,
    fallback_delivery_ids: [],
    updated_at: state.updated_at,
  };
}
