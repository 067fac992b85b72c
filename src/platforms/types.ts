import type { FieldProblem } from "../errors";
import type { PlatformCallEvent, PlatformName } from "../schemas/platform-event";

export type { PlatformCallEvent, PlatformName };

/** What a platform's `verify` looks at: the request's headers and exact body bytes (as text). */
export interface VerifyInput {
  headers: Headers;
  rawBody: string;
  /** Every secret currently accepted (rotation); never empty when verifying. */
  secrets: readonly string[];
  /** The current time in epoch milliseconds. */
  now: number;
}

/**
 * Whether a webhook is genuine. `reason` is safe to show the sender: it never contains a
 * secret or an expected signature. `stale` marks a good-looking signature whose timestamp
 * is outside the platform's window, so the answer can say so.
 */
export type VerifyResult = { ok: true } | { ok: false; reason: string; stale?: boolean };

export interface NormalizeOptions {
  /** The relay agent named by the webhook URL (`?agent_id=`); wins over the platform's own id. */
  defaultAgentId?: string;
}

/**
 * `final`: the platform has nothing more to send for this call. `preliminary`: a later
 * event will carry more (Retell's `call_ended` before `call_analyzed` with the summary).
 */
export type EventStage = "final" | "preliminary";

export interface NormalizedEvent {
  kind: "event";
  event: PlatformCallEvent;
  /** The platform's own agent/assistant id, for looking up an agent by `platform_ids`. */
  platformAgentId: string | null;
  stage: EventStage;
  /**
   * True for Bland's delayed second POST: its `corrected_transcript` became `event.transcript`
   * and should replace the stored transcript for anything not yet sent.
   */
  correctedTranscript: boolean;
  /** Optional fields the platform sent in a shape the canonical event cannot hold; left out. */
  dropped: FieldProblem[];
  /** The platform's payload as received, for the ledger to keep. */
  raw: unknown;
}

export type NormalizeResult =
  | NormalizedEvent
  | { kind: "ignored"; reason: string }
  | { kind: "invalid"; problems: FieldProblem[] };

/** One voice platform's webhook format: how to check it and how to read it. */
export interface PlatformAdapter {
  name: PlatformName;
  /**
   * The settings holding this platform's webhook secrets, in order of preference: the first
   * one that is set is used. Each holds one secret or several separated by spaces.
   */
  secretSetting: readonly string[];
  /** The headers that carry the platform's signature or token, for documentation. */
  signatureHeaders: readonly string[];
  verify(input: VerifyInput): Promise<VerifyResult>;
  normalize(payload: unknown, opts: NormalizeOptions): NormalizeResult;
}
