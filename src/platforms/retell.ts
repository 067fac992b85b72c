/**
 * Retell AI webhooks (https://docs.retellai.com/features/webhook-overview): `{"event": ...,
 * "call": {...}}`. A call produces `call_ended` (everything but `call_analysis`) and then
 * `call_analyzed` (the same call with `call_analysis`), each retried up to 3 times. Fields
 * follow `PhoneCallResponse` in RetellAI/retell-typescript-sdk src/resources/call.ts (v5.60).
 */
import { fieldProblem } from "../errors";
import { toInstant } from "../lib/instant";
import { type Draft, finalizeDraft, formatTranscript, mergeRecords, roundSeconds } from "./event";
import { at, firstOf, num, record, str } from "./json";
import { AGENT, CALLER, roleLabel, turnsFrom } from "./labels";
import { type OutcomeRule, outcomeByRules } from "./outcome";
import { hmacSha256Hex, matchesAnySecret, normalizeHex, outsideWindow } from "./signature";
import type { EventStage, NormalizeOptions, NormalizeResult, PlatformAdapter, VerifyInput, VerifyResult } from "./types";

/** A key with the "webhook" badge verifies; deployments that keep only the API key fall back to it. */
export const secretSetting = ["RETELL_WEBHOOK_KEY", "RETELL_API_KEY"] as const;
export const signatureHeaders = ["x-retell-signature"] as const;

/** The SDK's `FIVE_MINUTES`, applied both ways (`Math.abs(now - timestamp) > timeout`). */
const WINDOW = { maxAgeMs: 5 * 60_000, maxSkewMs: 5 * 60_000 };
/** The SDK's own pattern (src/lib/webhook_auth.ts): `v=<unix ms>,d=<64 hex digits>`. */
const SIGNATURE = /^v=(\d+),d=([0-9a-f]{64})$/i;

/**
 * `x-retell-signature: v=<unix ms>,d=<hex HMAC-SHA256(raw body + v)>`: the timestamp is
 * appended to the body with no separator, exactly as `Retell.verify` does.
 */
export async function verify(input: VerifyInput): Promise<VerifyResult> {
  const header = input.headers.get("x-retell-signature");
  if (header === null) return { ok: false, reason: "missing x-retell-signature header" };
  const match = SIGNATURE.exec(header.trim());
  if (!match) return { ok: false, reason: "x-retell-signature must read v=<unix ms>,d=<hex digest>" };
  const [, timestamp = "", digest = ""] = match;
  const signed = (secret: string) => hmacSha256Hex(secret, `${input.rawBody}${timestamp}`);
  if (!(await matchesAnySecret(input.secrets, signed, normalizeHex(digest)))) {
    return { ok: false, reason: "x-retell-signature does not match RETELL_WEBHOOK_KEY (or RETELL_API_KEY)" };
  }
  return outsideWindow(Number(timestamp), input.now, WINDOW) ?? { ok: true };
}

/**
 * `disconnection_reason` → outcome, per the SDK's enum. `ivr_reached`, `scam_detected`,
 * `manual_stopped`, `transfer_cancelled` and `call_take_over` say nothing certain about the
 * conversation and stay `unknown`.
 */
export const RETELL_OUTCOMES: readonly OutcomeRule[] = [
  ["dial_no_answer", "no_answer"],
  ["dial_busy", "busy"],
  ["voicemail_reached", "voicemail"],
  ["user_declined", "declined"],
  [/^(dial_failed|invalid_destination|sip_routing_error|marked_as_spam|registered_call_timeout)$/, "failed"],
  [/^telephony_provider_/, "failed"],
  [/^(no_valid_payment|concurrency_limit_reached|no_concurrency_fallback)$/, "failed"],
  [/^error_/, "failed"],
  [/^(user_hangup|agent_hangup|call_transfer|transfer_bridged|inactivity|max_duration_reached)$/, "completed"],
];

/** Voicemail detection may flag a call whose reason is an ordinary hang-up. */
function outcomeOf(reason: string | null, call: Record<string, unknown>): string {
  const mapped = outcomeByRules(reason, RETELL_OUTCOMES);
  const inVoicemail = at(call, "call_analysis", "in_voicemail") === true;
  return inVoicemail && (mapped === "completed" || mapped === "unknown") ? "voicemail" : mapped;
}

function speaker(role: string): string | null {
  if (role === "agent") return AGENT;
  if (role === "user") return CALLER;
  return roleLabel(role); // `transfer_target`: the person a call was transferred to.
}

/** Whose number is the customer's: the caller on inbound calls, the callee on outbound ones. */
function customerNumber(call: Record<string, unknown>): string | null {
  const direction = str(call.direction);
  if (direction === "inbound") return str(call.from_number);
  if (direction === "outbound") return str(call.to_number);
  return null; // web calls have no numbers
}

/** `duration_ms` / 1000, or end − start (both epoch ms) when a payload leaves the duration out. */
function durationOf(call: Record<string, unknown>): number | null {
  const start = num(call.start_timestamp);
  const end = num(call.end_timestamp);
  const ms = num(call.duration_ms) ?? (start !== null && end !== null ? end - start : null);
  return ms !== null && ms >= 0 ? roundSeconds(ms / 1000) : null;
}

const STAGES: Readonly<Record<string, EventStage>> = { call_analyzed: "final", call_ended: "preliminary" };

/**
 * A Retell webhook as a canonical event. `call_analyzed` is `final`; `call_ended` is
 * `preliminary` (no summary yet: the ledger waits for `call_analyzed`). Other events
 * (`call_started`, `transcript_updated`, `transfer_*`) are ignored.
 */
export function normalize(payload: unknown, opts: NormalizeOptions): NormalizeResult {
  const event = str(at(payload, "event"));
  const stage = event === null ? undefined : STAGES[event];
  if (stage === undefined) {
    return { kind: "ignored", reason: `Retell "${event ?? "(no event)"}" event: only call_ended and call_analyzed end a call` };
  }
  // `data` is the deprecated name of `call` (docs.retellai.com/features/webhook); read either.
  const call = firstOf(record(at(payload, "call")), record(at(payload, "data")));
  if (!call) return { kind: "invalid", problems: [fieldProblem(["call"], "expected the call object")] };
  const endedReason = str(call.disconnection_reason);
  const transcriptTurns = turnsFrom(call.transcript_object, { role: "role", text: "content" }, speaker);

  const draft: Draft = {
    call_id: str(call.call_id),
    platform_agent_id: str(call.agent_id),
    caller_number: customerNumber(call),
    duration_seconds: durationOf(call),
    summary: str(at(call, "call_analysis", "call_summary")),
    transcript: firstOf(formatTranscript(transcriptTurns), str(call.transcript)),
    recording_url: firstOf(str(call.recording_url), str(call.scrubbed_recording_url)),
    ended_at: toInstant(call.end_timestamp),
    ended_reason: endedReason,
    outcome: outcomeOf(endedReason, call),
    details: record(at(call, "call_analysis", "custom_analysis_data")),
    // `metadata` is typed `unknown` in the SDK: only an object merges; the raw payload keeps the rest.
    metadata: mergeRecords(call.retell_llm_dynamic_variables, call.metadata),
  };
  return finalizeDraft(draft, { call_id: ["call", "call_id"], platform_agent_id: ["call", "agent_id"] }, opts, {
    stage,
    raw: payload,
  });
}

export const retell: PlatformAdapter = { name: "retell", secretSetting, signatureHeaders, verify, normalize };
