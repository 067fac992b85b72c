/**
 * Bland AI post-call webhooks: when a call ends Bland POSTs the full call object (the same
 * as `GET /v1/calls/{call_id}`, docs.bland.ai/api-v1/get/calls-id) to the call's `webhook`,
 * and 30–60 s later may POST it again with `corrected_transcript` and `citations`
 * (Bland-com/bland-ai-cookbooks 10-call-analysis/node/webhookListener.js).
 */
import { fieldProblem } from "../errors";
import { toInstant } from "../lib/instant";
import { type Draft, type Turn, finalizeDraft, formatTranscript, mergeRecords, roundSeconds } from "./event";
import { firstOf, isRecord, num, str } from "./json";
import { AGENT, CALLER, roleLabel, turnsFrom } from "./labels";
import { hmacSha256Hex, matchesAnySecret, normalizeHex } from "./signature";
import type { NormalizeOptions, NormalizeResult, PlatformAdapter, VerifyInput, VerifyResult } from "./types";

export const secretSetting = ["BLAND_WEBHOOK_SECRET"] as const;
export const signatureHeaders = ["X-Webhook-Signature"] as const;

/**
 * The JSON text Bland's own verification sample hashes: `JSON.stringify(req.body)`, i.e.
 * the body as Express re-serialises it. Null when the body is not JSON.
 */
function reserialized(rawBody: string): string | null {
  try {
    return JSON.stringify(JSON.parse(rawBody));
  } catch {
    return null;
  }
}

/**
 * `X-Webhook-Signature` = hex HMAC-SHA256 of the body keyed by the webhook signing secret
 * (docs.bland.ai/tutorials/webhook-signing). Bland signs no timestamp, so a captured
 * request can be replayed; dedupe on the call id is what makes a replay harmless.
 *
 * Whether Bland signs the exact bytes it sends or a compact re-serialisation is
 * UNCONFIRMED (its sample hashes `JSON.stringify(req.body)`), so both are accepted. The
 * second form is as safe as the first: it verifies the parsed content, and that content is
 * exactly what the relay goes on to read.
 */
export async function verify(input: VerifyInput): Promise<VerifyResult> {
  const header = input.headers.get("x-webhook-signature");
  if (header === null || header.trim() === "") return { ok: false, reason: "missing X-Webhook-Signature header" };
  const given = normalizeHex(header);
  const bodies = [input.rawBody];
  const compact = reserialized(input.rawBody);
  if (compact !== null && compact !== input.rawBody) bodies.push(compact);
  let matched = false;
  for (const body of bodies) {
    if (await matchesAnySecret(input.secrets, (secret) => hmacSha256Hex(secret, body), given)) matched = true;
  }
  return matched ? { ok: true } : { ok: false, reason: "X-Webhook-Signature does not match BLAND_WEBHOOK_SECRET" };
}

/** Keys only the post-call object has; Bland's live `webhook_events` messages carry none of them. */
const POST_CALL_KEYS = ["completed", "call_length", "concatenated_transcript", "transcripts", "corrected_transcript", "summary"];

/**
 * `transcripts[].user` is `user`, `assistant`, `robot` or `agent-action` (Call Details);
 * agent actions are not speech, and what `robot` denotes is not documented, so it keeps
 * its own label.
 */
function speaker(role: string): string | null {
  if (role === "assistant" || role === "agent") return AGENT;
  if (role === "user") return CALLER;
  if (role === "agent-action") return null;
  return roleLabel(role);
}

/**
 * The delayed payload's `corrected_transcript`: the cookbook reads it as an object with
 * `segments[] {speaker, text}` and notes it may also be "a simple string"; both are read,
 * and a bare array of segments too.
 */
function correctedTranscriptOf(value: unknown): string | null {
  if (typeof value === "string") return str(value);
  const segments = isRecord(value) ? value.segments : value;
  const turns: Turn[] = turnsFrom(segments, { role: "speaker", text: "text" }, speaker);
  return formatTranscript(turns);
}

/** Bland documents `call_id` as a number in one place and shows UUID strings everywhere else. */
function callIdOf(value: unknown): string | null {
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  return str(value);
}

/**
 * Outcome from the call object. The full enums of `status`, `queue_status` and
 * `answered_by` are UNCONFIRMED; the cookbooks show `status` "completed" / "failed" /
 * "no-answer" and `answered_by` "human" / "voicemail". Both spellings of no-answer, and a
 * `busy` value, are read wherever they may appear.
 */
export function blandOutcome(call: Record<string, unknown>): string {
  const signals = [str(call.status), str(call.queue_status), str(call.answered_by)].map((s) => s?.toLowerCase() ?? null);
  if (signals.some((s) => s === "no-answer" || s === "no_answer")) return "no_answer";
  if (signals.some((s) => s === "busy")) return "busy";
  if (/^(voicemail|machine)/.test(str(call.answered_by)?.toLowerCase() ?? "")) return "voicemail";
  const status = signals[0];
  if (str(call.error_message) !== null || status === "failed" || status === "error") return "failed";
  if (call.completed === true || status === "completed" || status === "complete") return "completed";
  return "unknown";
}

/**
 * A Bland post-call object as a canonical event. The delayed second POST is recognised by
 * `corrected_transcript`: its corrected text becomes the transcript and the result says
 * `correctedTranscript: true`, so the ledger can replace the stored transcript (the call
 * itself is a duplicate for dedupe).
 */
export function normalize(payload: unknown, opts: NormalizeOptions): NormalizeResult {
  if (!isRecord(payload)) return { kind: "invalid", problems: [fieldProblem([], "expected Bland's call object")] };
  if (!POST_CALL_KEYS.some((key) => Object.hasOwn(payload, key))) {
    return { kind: "ignored", reason: "Bland message without call results: only the post-call object ends a call" };
  }
  const corrected = payload.corrected_transcript !== undefined && payload.corrected_transcript !== null;
  const turns = turnsFrom(payload.transcripts, { role: "user", text: "text" }, speaker);
  const transcript = firstOf(
    corrected ? correctedTranscriptOf(payload.corrected_transcript) : null,
    formatTranscript(turns),
    str(payload.concatenated_transcript),
  );
  const minutes = num(payload.call_length);
  const disposition = str(payload.disposition_tag);

  const draft: Draft = {
    call_id: callIdOf(payload.call_id),
    // The call object names no agent; a pathway or persona is the closest thing (UNCONFIRMED
    // that either is echoed in the webhook). Most deployments pass ?agent_id= instead.
    platform_agent_id: firstOf(str(payload.pathway_id), str(payload.persona_id)),
    // `to` is "the phone number that received the call"; on inbound calls the customer is `from`.
    caller_number: payload.inbound === true ? str(payload.from) : str(payload.to),
    duration_seconds: minutes !== null && minutes >= 0 ? roundSeconds(minutes * 60) : null,
    summary: str(payload.summary),
    transcript,
    recording_url: str(payload.recording_url),
    // Field names beyond `created_at` are UNCONFIRMED; Bland writes UTC, sometimes without an offset.
    ended_at: toInstant(firstOf(payload.end_at, payload.ended_at), { assumeUtc: true }),
    ended_reason: firstOf(str(payload.error_message), str(payload.status), str(payload.queue_status)),
    outcome: blandOutcome(payload),
    // `analysis` (from analysis_schema) wins over `variables` (system and extracted values);
    // the disposition the agent picked is kept so an agent's outcome_field can read it.
    details: mergeRecords(payload.variables, payload.analysis, disposition === null ? null : { disposition_tag: disposition }),
    metadata: mergeRecords(payload.request_data, payload.metadata),
  };
  return finalizeDraft(draft, { call_id: ["call_id"], platform_agent_id: ["pathway_id"] }, opts, {
    correctedTranscript: corrected,
    raw: payload,
  });
}

export const bland: PlatformAdapter = { name: "bland", secretSetting, signatureHeaders, verify, normalize };
