/**
 * Vapi server messages (https://docs.vapi.ai/server-url/events). Every message is
 * `{"message": {"type": ..., "call": {...}, ...}}`; the call is over when `type` is
 * `end-of-call-report`. Field locations follow `ServerMessageEndOfCallReport` in Vapi's
 * OpenAPI spec (VapiAI/docs fern/apis/api/openapi.json, read 2026-08).
 */
import { fieldProblem } from "../errors";
import { secondsBetween, toInstant } from "../lib/instant";
import { type Draft, finalizeDraft, formatTranscript, mergeRecords, roundSeconds } from "./event";
import { at, firstOf, isRecord, num, record, str } from "./json";
import { AGENT, CALLER, turnsFrom } from "./labels";
import { type OutcomeRule, outcomeByRules } from "./outcome";
import { hmacSha256Hex, matchesAnySecret, normalizeHex, outsideWindow } from "./signature";
import type { NormalizeOptions, NormalizeResult, PlatformAdapter, VerifyInput, VerifyResult } from "./types";

export const secretSetting = ["VAPI_WEBHOOK_SECRET"] as const;
export const signatureHeaders = ["X-Vapi-Secret", "Authorization", "x-signature", "x-timestamp"] as const;

/** Vapi documents no window for its HMAC timestamp; five minutes either way, as for Retell. */
const WINDOW = { maxAgeMs: 5 * 60_000, maxSkewMs: 5 * 60_000 };
/** Below this an `x-timestamp` is seconds, above it milliseconds (the unit is not documented). */
const MS_THRESHOLD = 1e11;

function bearer(header: string | null): string | null {
  const match = header?.match(/^Bearer[ ]+(\S+)\s*$/i);
  return match?.[1] ?? null;
}

/**
 * The HMAC credential: `x-signature` = hex HMAC-SHA256 of `{x-timestamp}.{raw body}`, with
 * an optional `sha256=` prefix (the credential's `signaturePrefix`). Only the defaults of
 * Vapi's HMACAuthenticationPlan are supported: SHA-256, hex, payload `{timestamp}.{body}`.
 */
async function verifyHmac(signature: string, timestamp: string | null, input: VerifyInput): Promise<VerifyResult> {
  if (timestamp === null) return { ok: false, reason: "x-signature was sent without x-timestamp" };
  if (!/^\d{1,16}$/.test(timestamp)) {
    return { ok: false, reason: "x-timestamp must be a Unix time in seconds or milliseconds" };
  }
  const given = normalizeHex(signature).replace(/^sha256=/, "");
  const signed = (secret: string) => hmacSha256Hex(secret, `${timestamp}.${input.rawBody}`);
  if (!(await matchesAnySecret(input.secrets, signed, given))) {
    return { ok: false, reason: "x-signature does not match VAPI_WEBHOOK_SECRET" };
  }
  const value = Number(timestamp);
  return outsideWindow(value < MS_THRESHOLD ? value * 1000 : value, input.now, WINDOW) ?? { ok: true };
}

/**
 * Vapi sends whatever the assistant's server credential defines. Accepted here: the HMAC
 * credential (`x-signature` + `x-timestamp`), or a static token, either the legacy
 * `X-Vapi-Secret: <secret>` or a Bearer Token credential (`Authorization: Bearer <secret>`).
 * A request carrying `x-signature` is judged by it alone.
 */
export async function verify(input: VerifyInput): Promise<VerifyResult> {
  const signature = input.headers.get("x-signature");
  if (signature !== null) return verifyHmac(signature, input.headers.get("x-timestamp"), input);

  const tokens = [input.headers.get("x-vapi-secret"), bearer(input.headers.get("authorization"))].filter(
    (t): t is string => t !== null && t !== "",
  );
  if (tokens.length === 0) {
    return { ok: false, reason: "send X-Vapi-Secret, Authorization: Bearer <secret>, or an x-signature HMAC" };
  }
  let matched = false;
  for (const token of tokens) if (await matchesAnySecret(input.secrets, async (s) => s, token)) matched = true;
  return matched ? { ok: true } : { ok: false, reason: "the token is not VAPI_WEBHOOK_SECRET" };
}

/**
 * `endedReason` → outcome, from Vapi's call-ended-reason reference (fern/calls/
 * call-ended-reason.mdx) and the 627-value enum in the spec. Specific rules come first:
 * SIP 408/480 are "no answer" although they sit in the `call.in-progress.error-*` family.
 */
export const VAPI_OUTCOMES: readonly OutcomeRule[] = [
  ["customer-did-not-answer", "no_answer"],
  [/outbound-sip-(408|480)-/, "no_answer"],
  ["customer-busy", "busy"],
  ["voicemail", "voicemail"],
  [/^customer-ended-call/, "completed"],
  [/^assistant-(ended-call|said-end-call-phrase|forwarded-call)/, "completed"],
  ["exceeded-max-duration", "completed"],
  ["silence-timed-out", "completed"],
  ["vonage-completed", "completed"],
  [/^call\.in-progress\.(twilio|sip)-completed-call$/, "completed"],
  ["twilio-failed-to-connect-call", "failed"],
  ["twilio-reported-customer-misdialed", "failed"],
  ["vonage-failed-to-connect-call", "failed"],
  ["vonage-rejected", "failed"],
  [/^call[.-]start[.-]error-/, "failed"],
  [/transport-never-connected/, "failed"],
  [/^pipeline-error-/, "failed"],
  [/^call\.(in-progress|ringing)\.error-/, "failed"],
  [/^assistant-request-(failed|returned-(error|unspeakable-error|invalid-assistant|no-assistant))$/, "failed"],
  [/^assistant-(not-valid|not-found|join-timed-out)$/, "failed"],
  ["customer-did-not-give-microphone-permission", "failed"],
  // A deleted call never took place; `failed` keeps connected-only follow-ups from running.
  // (`manually-canceled` may end a live call, so it stays `unknown`.)
  [/^(scheduled-call-deleted|call-deleted)$/, "failed"],
];

/**
 * Message roles: the spec types them as plain strings; its examples use `assistant` and
 * `user`, and payloads in the wild use `bot` (UNCONFIRMED), so both agent spellings count.
 * System prompts and tool calls are not speech.
 */
function speaker(role: string): string | null {
  if (role === "assistant" || role === "bot") return AGENT;
  if (role === "user") return CALLER;
  return null;
}

/**
 * The transcript: from the turns in `artifact.messages` when there are any, so every
 * platform's transcript reads `Agent:`/`Caller:`; else `artifact.transcript`. That is a
 * string in the spec but an array of turns in one docs example (fern/assistants/
 * call-recording.mdx), so both are read; a top-level `transcript` (UNCONFIRMED) last.
 */
function transcriptOf(message: Record<string, unknown>): string | null {
  const read = { role: "role", text: "message" };
  const fromMessages = formatTranscript(turnsFrom(at(message, "artifact", "messages"), read, speaker));
  if (fromMessages !== null) return fromMessages;
  const artifactTranscript = at(message, "artifact", "transcript");
  if (Array.isArray(artifactTranscript)) return formatTranscript(turnsFrom(artifactTranscript, read, speaker));
  return firstOf(str(artifactTranscript), str(message.transcript));
}

function recordingOf(message: Record<string, unknown>): string | null {
  return firstOf(
    str(at(message, "artifact", "recording", "stereoUrl")),
    str(at(message, "artifact", "recording", "mono", "combinedUrl")),
    // Deprecated in the spec but still sent by older assistants.
    str(at(message, "artifact", "recordingUrl")),
    str(at(message, "artifact", "stereoRecordingUrl")),
    // Top-level `recordingUrl` is seen in the wild, not in the spec (UNCONFIRMED).
    str(message.recordingUrl),
  );
}

/**
 * Duration: the spec has no duration field, so it is `endedAt − startedAt`. A top-level
 * `durationSeconds` (seen in the wild, UNCONFIRMED) is used only when a time is missing.
 */
function durationOf(message: Record<string, unknown>, endedAt: string | null): number | null {
  const startedAt = toInstant(firstOf(message.startedAt, at(message, "call", "startedAt")));
  const computed = secondsBetween(startedAt, endedAt);
  const given = num(message.durationSeconds);
  const seconds = computed ?? (given !== null && given >= 0 ? given : null);
  return seconds === null ? null : roundSeconds(seconds);
}

/**
 * The caller's name and email, when Vapi has them on the customer, as metadata defaults:
 * the templates' `caller_name`/`caller_email` then work without per-call variables.
 */
function customerDefaults(customer: unknown): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  const name = str(at(customer, "name"));
  const email = str(at(customer, "email"));
  if (name !== null) defaults.caller_name = name;
  if (email !== null) defaults.caller_email = email;
  return defaults;
}

/**
 * A Vapi server message as a canonical event; every message type other than
 * `end-of-call-report` is ignored (`status-update` with status `ended` comes first and
 * carries no analysis).
 */
export function normalize(payload: unknown, opts: NormalizeOptions): NormalizeResult {
  const message = at(payload, "message");
  if (!isRecord(message)) {
    return { kind: "invalid", problems: [fieldProblem(["message"], 'expected Vapi\'s {"message": {...}} envelope')] };
  }
  const type = str(message.type);
  if (type !== "end-of-call-report") {
    return { kind: "ignored", reason: `Vapi "${type ?? "(no type)"}" message: only end-of-call-report ends a call` };
  }
  const call = record(message.call) ?? {};
  const customer = firstOf(record(message.customer), record(call.customer));
  const endedAt = toInstant(firstOf(message.endedAt, call.endedAt));
  const endedReason = firstOf(str(message.endedReason), str(call.endedReason));
  const overrides = record(call.assistantOverrides);

  const draft: Draft = {
    call_id: str(call.id),
    // Calls run by a squad or workflow have no single assistant; their id stands in for one.
    platform_agent_id: firstOf(str(call.assistantId), str(at(message, "assistant", "id")), str(call.squadId), str(call.workflowId)),
    caller_number: str(customer?.number),
    duration_seconds: durationOf(message, endedAt),
    // A top-level `summary` is seen in the wild, not in the spec (UNCONFIRMED).
    summary: firstOf(str(at(message, "analysis", "summary")), str(message.summary)),
    transcript: transcriptOf(message),
    recording_url: recordingOf(message),
    ended_at: endedAt,
    ended_reason: endedReason,
    outcome: outcomeByRules(endedReason, VAPI_OUTCOMES),
    details: record(at(message, "analysis", "structuredData")),
    // Later sources win: per-call metadata over per-call variables over the customer record.
    // `call.metadata` is not in the spec (only assistantOverrides.metadata is); read if present.
    metadata: mergeRecords(customerDefaults(customer), overrides?.variableValues, overrides?.metadata, call.metadata),
  };
  return finalizeDraft(
    draft,
    { call_id: ["message", "call", "id"], platform_agent_id: ["message", "call", "assistantId"] },
    opts,
    { raw: payload },
  );
}

export const vapi: PlatformAdapter = { name: "vapi", secretSetting, signatureHeaders, verify, normalize };
