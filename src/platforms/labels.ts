/**
 * Speaker labels for transcripts built from turns, the same for every platform so templates
 * and CRMs see one convention: `Agent:` for the voice agent, `Caller:` for the customer.
 */
import type { Turn } from "./event";
import { isRecord, str } from "./json";

export const AGENT = "Agent";
export const CALLER = "Caller";

/** A label for a role the platform names but we do not map: `transfer_target` → `Transfer target`. */
export function roleLabel(role: string): string {
  const words = role.replace(/[_-]+/g, " ").trim();
  return words === "" ? "Unknown" : words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * Turns read out of a platform's array of utterances. `speakerOf` maps the platform's role
 * to a label, or to null for entries that are not speech (system prompts, tool calls).
 */
export function turnsFrom(
  items: unknown,
  read: { role: string; text: string },
  speakerOf: (role: string) => string | null,
): Turn[] {
  if (!Array.isArray(items)) return [];
  const turns: Turn[] = [];
  for (const item of items) {
    if (!isRecord(item)) continue;
    const role = str(item[read.role]);
    const text = str(item[read.text]);
    if (role === null || text === null) continue;
    const speaker = speakerOf(role);
    if (speaker !== null) turns.push({ speaker, text });
  }
  return turns;
}
