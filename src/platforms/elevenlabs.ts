/**
 * ElevenLabs Agents post-call webhooks (elevenlabs.io/docs/eleven-agents/workflows/
 * post-call-webhooks): `{"type": ..., "event_timestamp": <unix s>, "data": {...}}`.
 * `post_call_transcription` carries the conversation (`data` is the GET-conversation model,
 * elevenlabs/elevenlabs-js src/api/types/GetConversationResponseModel.ts);
 * `call_initiation_failure` reports a call that never connected; `post_call_audio` is
 * only audio and is ignored.
 */
import { fieldProblem } from "../errors";
import { toInstant } from "../lib/instant";
import { UNSAFE_KEYS } from "../lib/merge-patch";
import { type Draft, finalizeDraft, formatTranscript, mergeRecords, roundSeconds } from "./event";
import { type JsonRecord, at, firstOf, isRecord, num, record, str } from "./json";
import { AGENT, CALLER, roleLabel, turnsFrom } from "./labels";
import { hmacSha256Hex, matchesAnySecret, normalizeHex, outsideWindow } from "./signature";
import type { NormalizeOptions, NormalizeResult, PlatformAdapter, VerifyInput, VerifyResult } from "./types";

export const secretSetting = ["ELEVENLABS_WEBHOOK_SECRET"] as const;
export const signatureHeaders = ["ElevenLabs-Signature"] as const;

/**
 * Older than 30 minutes is refused, as in the SDK's `constructEvent`. The SDK has no bound
 * on the future; 30 minutes is allowed for clock drift, so a signature cannot be made to
 * stay valid indefinitely.
 */
const WINDOW = { maxAgeMs: 30 * 60_000, maxSkewMs: 30 * 60_000 };

/**
 * `ElevenLabs-Signature: t=<unix s>,v0=<hex HMAC-SHA256("<t>.<raw body>")>`, keyed by the
 * webhook's shared secret used as is (elevenlabs-js src/wrapper/webhooks.ts).
 */
export async function verify(input: VerifyInput): Promise<VerifyResult> {
  const header = input.headers.get("elevenlabs-signature");
  if (header === null) return { ok: false, reason: "missing ElevenLabs-Signature header" };
  const parts = header.split(",").map((p) => p.trim());
  const timestamp = parts.find((p) => p.startsWith("t="))?.slice(2) ?? "";
  const given = parts.filter((p) => p.startsWith("v0=")).map((p) => normalizeHex(p.slice(3)));
  if (!/^\d{1,12}$/.test(timestamp) || given.length === 0) {
    return { ok: false, reason: "ElevenLabs-Signature must read t=<unix seconds>,v0=<hex digest>" };
  }
  const signed = (secret: string) => hmacSha256Hex(secret, `${timestamp}.${input.rawBody}`);
  let matched = false;
  for (const candidate of given) if (await matchesAnySecret(input.secrets, signed, candidate)) matched = true;
  if (!matched) return { ok: false, reason: "ElevenLabs-Signature does not match ELEVENLABS_WEBHOOK_SECRET" };
  return outsideWindow(Number(timestamp) * 1000, input.now, WINDOW) ?? { ok: true };
}

function speaker(role: string): string | null {
  if (role === "agent") return AGENT;
  if (role === "user") return CALLER;
  return roleLabel(role);
}

/**
 * The values of `analysis.data_collection_results` (`{id: {value, rationale, ...}}`), or of
 * the newer `data_collection_results_list` (`[{data_collection_id, value}]`) when the map
 * is absent.
 */
function collectedValues(analysis: unknown): JsonRecord | null {
  const values: JsonRecord = {};
  const results = record(at(analysis, "data_collection_results"));
  if (results) {
    for (const [key, result] of Object.entries(results)) {
      const value = isRecord(result) ? result.value : result;
      if (value !== undefined) values[key] = value;
    }
  } else {
    const list = at(analysis, "data_collection_results_list");
    for (const item of Array.isArray(list) ? list : []) {
      const key = str(at(item, "data_collection_id"));
      const value = at(item, "value");
      if (key !== null && value !== undefined && !UNSAFE_KEYS.has(key)) values[key] = value;
    }
  }
  return mergeRecords(values);
}

/**
 * The per-call variables ElevenLabs echoes back, without its own `system__*` variables (call
 * SIDs, timestamps) which are not the caller's data. `user_id` is the one opaque
 * correlation id an outbound call can carry, so it is kept too.
 */
function metadataOf(data: JsonRecord): JsonRecord | null {
  const variables = record(at(data, "conversation_initiation_client_data", "dynamic_variables")) ?? {};
  const own = Object.fromEntries(Object.entries(variables).filter(([key]) => !key.startsWith("system__")));
  const userId = str(data.user_id);
  return mergeRecords(userId === null ? null : { user_id: userId }, own);
}

/** The customer's number: the far end of the phone call, whichever way it went. */
function customerNumber(data: JsonRecord): string | null {
  const phoneCall = at(data, "metadata", "phone_call");
  const external = str(at(phoneCall, "external_number"));
  if (external !== null) return external;
  const variables = at(data, "conversation_initiation_client_data", "dynamic_variables");
  const inbound = str(at(phoneCall, "direction")) === "inbound";
  return str(at(variables, inbound ? "system__caller_id" : "system__called_number"));
}

/**
 * `termination_reason` is free text, not an enum, and ElevenLabs documents no voicemail
 * signal (UNCONFIRMED): a reason that mentions voicemail is read as one.
 */
export function transcriptionOutcome(data: JsonRecord): string {
  const status = str(data.status);
  const reason = str(at(data, "metadata", "termination_reason")) ?? "";
  if (status === "failed") return "failed";
  if (/voice\s*mail/i.test(reason)) return "voicemail";
  if (at(data, "metadata", "error") != null && status !== "done") return "failed";
  return status === "done" ? "completed" : "unknown";
}

function fromTranscription(payload: unknown, data: JsonRecord, opts: NormalizeOptions): NormalizeResult {
  const duration = num(at(data, "metadata", "call_duration_secs"));
  const start = num(at(data, "metadata", "start_time_unix_secs"));
  const analysis = at(data, "analysis");
  const draft: Draft = {
    call_id: str(data.conversation_id),
    platform_agent_id: str(data.agent_id),
    caller_number: customerNumber(data),
    duration_seconds: duration !== null && duration >= 0 ? roundSeconds(duration) : null,
    summary: str(at(analysis, "transcript_summary")),
    transcript: formatTranscript(turnsFrom(data.transcript, { role: "role", text: "message" }, speaker)),
    // The transcription webhook has no recording; audio comes in post_call_audio or from the API.
    recording_url: null,
    ended_at: start !== null && duration !== null ? toInstant(start + duration) : null,
    ended_reason: str(at(data, "metadata", "termination_reason")),
    outcome: transcriptionOutcome(data),
    details: collectedValues(analysis),
    metadata: metadataOf(data),
  };
  return finalizeDraft(draft, { call_id: ["data", "conversation_id"], platform_agent_id: ["data", "agent_id"] }, opts, {
    raw: payload,
  });
}

/** `failure_reason`: `busy`, `no-answer`, anything else is a failure (issue 7). */
export function failureOutcome(reason: string | null): string {
  const folded = reason?.toLowerCase() ?? "";
  if (folded === "busy") return "busy";
  if (folded === "no-answer" || folded === "no_answer") return "no_answer";
  return "failed";
}

/**
 * `call_initiation_failure`: its schema is UNCONFIRMED (docs only say "failure reasons and
 * metadata"). Independent implementations read `data.conversation_id`, `data.agent_id`,
 * `data.failure_reason` and the telephony provider's payload in `data.metadata.body`
 * (Twilio's `CallSid`/`To`, SIP's own keys); those are read here, with the provider's call
 * id standing in when no conversation id is given.
 */
function fromInitiationFailure(payload: unknown, data: JsonRecord, opts: NormalizeOptions): NormalizeResult {
  const body = at(data, "metadata", "body");
  const failureReason = str(data.failure_reason);
  const draft: Draft = {
    call_id: firstOf(str(data.conversation_id), str(at(body, "CallSid")), str(at(body, "call_sid")), str(at(body, "sip_call_id"))),
    platform_agent_id: str(data.agent_id),
    caller_number: firstOf(str(at(body, "To")), str(at(body, "to_number")), str(at(body, "to"))),
    ended_at: toInstant(at(payload, "event_timestamp")),
    ended_reason: failureReason,
    outcome: failureOutcome(failureReason),
    metadata: metadataOf(data),
  };
  return finalizeDraft(draft, { call_id: ["data", "conversation_id"], platform_agent_id: ["data", "agent_id"] }, opts, {
    raw: payload,
  });
}

/** An ElevenLabs post-call webhook as a canonical event; `post_call_audio` and others are ignored. */
export function normalize(payload: unknown, opts: NormalizeOptions): NormalizeResult {
  const type = str(at(payload, "type"));
  if (type !== "post_call_transcription" && type !== "call_initiation_failure") {
    return {
      kind: "ignored",
      reason: `ElevenLabs "${type ?? "(no type)"}" webhook: only post_call_transcription and call_initiation_failure end a call`,
    };
  }
  const data = record(at(payload, "data"));
  if (!data) return { kind: "invalid", problems: [fieldProblem(["data"], "expected the data object")] };
  return type === "post_call_transcription" ? fromTranscription(payload, data, opts) : fromInitiationFailure(payload, data, opts);
}

export const elevenlabs: PlatformAdapter = { name: "elevenlabs", secretSetting, signatureHeaders, verify, normalize };
