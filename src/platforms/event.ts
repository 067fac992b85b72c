/**
 * Shared steps from a platform's fields to a canonical event: speaker-labelled transcripts,
 * merged metadata, and a final check against the canonical schema that keeps the event
 * whenever only an optional field is unusable.
 */
import { type FieldProblem, fieldProblem } from "../errors";
import { Identifier } from "../schemas/call-event";
import { PlatformCallEvent } from "../schemas/platform-event";
import { type JsonRecord, record } from "./json";
import type { EventStage, NormalizeResult, NormalizeOptions } from "./types";

/** One spoken turn, already labelled for the transcript. */
export interface Turn {
  speaker: string;
  text: string;
}

/**
 * Turns as one transcript, a `Speaker: text` line each; turns without text (tool calls,
 * silences) are left out. Null when nothing was said.
 *
 * @example
 * formatTranscript([{ speaker: "Agent", text: "Hi Ana" }, { speaker: "Caller", text: "Hi" }])
 * // "Agent: Hi Ana\nCaller: Hi"
 */
export function formatTranscript(turns: readonly Turn[]): string | null {
  const lines = turns.filter((t) => t.text.trim() !== "").map((t) => `${t.speaker}: ${t.text.trim()}`);
  return lines.length > 0 ? lines.join("\n") : null;
}

/**
 * Objects merged left to right (later keys win), ignoring anything that is not an object
 * and prototype keys. Null when the result is empty, so an event carries no `{}` noise.
 */
export function mergeRecords(...sources: unknown[]): JsonRecord | null {
  const merged: JsonRecord = {};
  for (const source of sources) {
    const entries = record(source);
    if (entries) Object.assign(merged, entries);
  }
  return Object.keys(merged).length > 0 ? merged : null;
}

/** Seconds rounded to the millisecond, so `2.6 min × 60` reads 156 and not 156.00000000000003. */
export const roundSeconds = (seconds: number) => Math.round(seconds * 1000) / 1000;

/** The fields an adapter extracted, before the canonical schema has seen them. */
export interface Draft {
  call_id: string | null;
  /** The platform's own agent id; the webhook URL's `agent_id` takes precedence. */
  platform_agent_id: string | null;
  caller_number?: string | null;
  duration_seconds?: number | null;
  summary?: string | null;
  transcript?: string | null;
  recording_url?: string | null;
  ended_at?: string | null;
  ended_reason?: string | null;
  outcome?: string | null;
  details?: JsonRecord | null;
  metadata?: JsonRecord | null;
}

/** Where in the platform's payload the required fields come from, for problems that name them. */
export interface DraftSources {
  call_id: readonly string[];
  platform_agent_id: readonly string[];
}

/**
 * The relay agent a call's metadata names: `relay_agent_id` travels with every call the relay
 * places, so the platform's webhook for it finds its agent without `?agent_id=`.
 */
export function relayAgentOf(metadata: unknown): string | null {
  const id = record(metadata)?.relay_agent_id;
  return typeof id === "string" && Identifier.safeParse(id).success ? id : null;
}

const NO_AGENT =
  "no agent id: add ?agent_id=<your relay agent> to the webhook URL (this payload names no agent of the platform's own)";

/**
 * Validates a draft as the canonical event. A missing or malformed `call_id` or agent id
 * makes the payload invalid, with problems that name the platform's own field; an optional
 * field the schema refuses (a recording URL that is not http(s), an over-long summary) is
 * left out and reported in `dropped`, because losing the whole call over it would be worse.
 */
export function finalizeDraft(
  draft: Draft,
  sources: DraftSources,
  opts: NormalizeOptions,
  extra: { stage?: EventStage; correctedTranscript?: boolean; raw: unknown },
): NormalizeResult {
  // An empty `?agent_id=` is a URL left half-edited, not a request for the agent "".
  const urlAgent = opts.defaultAgentId === "" ? undefined : opts.defaultAgentId;
  const agentId = urlAgent ?? relayAgentOf(draft.metadata) ?? draft.platform_agent_id;
  const agentPath = urlAgent !== undefined ? ["agent_id"] : sources.platform_agent_id;
  const required: FieldProblem[] = [];
  if (draft.call_id === null) required.push(fieldProblem(sources.call_id, "missing: the call's id is required"));
  if (agentId === null) required.push(fieldProblem(agentPath, NO_AGENT));
  if (required.length > 0) return { kind: "invalid", problems: required };

  const { platform_agent_id: _own, ...fields } = draft;
  const candidate: JsonRecord = Object.fromEntries(
    Object.entries({ ...fields, agent_id: agentId }).filter(([, value]) => value !== null && value !== undefined),
  );
  const dropped: FieldProblem[] = [];
  for (;;) {
    const parsed = PlatformCallEvent.safeParse(candidate);
    if (parsed.success) {
      return {
        kind: "event",
        event: parsed.data,
        platformAgentId: draft.platform_agent_id,
        stage: extra.stage ?? "final",
        correctedTranscript: extra.correctedTranscript ?? false,
        dropped,
        raw: extra.raw,
      };
    }
    const problems: FieldProblem[] = [];
    const leftOut = new Set<string>();
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0] ?? "");
      if (field === "call_id") problems.push(fieldProblem(sources.call_id, issue.message));
      else if (field === "agent_id") problems.push(fieldProblem(agentPath, issue.message));
      else if (leftOut.has(field)) continue; // a second complaint about a field already left out
      else if (Object.hasOwn(candidate, field)) {
        dropped.push(fieldProblem([field], `left out: ${issue.message}`));
        leftOut.add(field);
        delete candidate[field];
      } else problems.push(fieldProblem(issue.path, issue.message));
    }
    if (problems.length > 0) return { kind: "invalid", problems };
  }
}
