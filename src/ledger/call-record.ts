import { splitText } from "./chunks";

/**
 * A call as its ledger stores it: one value under one key of the object's key-value storage.
 *
 * Key-value storage, not a table of its own: Cloudflare bills the rows a SQL statement writes,
 * and `CREATE TABLE` writes two, on every new call's object; the key-value API's hidden table is
 * created by the runtime, unbilled, and a value written is one row. The fields are the columns
 * the ledger's table had, so a ledger written by an earlier release moves over unchanged
 * (./sql-upgrade.ts).
 */
export interface CallRecord {
  agent_id: string;
  call_id: string;
  agent_name: string;
  /** The agent's email templates as JSON, as they were when the call was accepted. */
  agent_templates: string;
  agent_country: string | null;
  status: string;
  reason: string | null;
  ended_at: string | null;
  received_at: string;
  /** The event as JSON; null while it is kept in chunks (`chunks.event`). */
  event: string | null;
  /** The platform's payload as received, if one came; null too while it is kept in chunks. */
  raw: string | null;
  /** The action list's two parts, as JSON (./action-list.ts). */
  actions: string;
  log_progress: string;
  /** How many chunk values hold a text too long for the record, by text. */
  chunks?: Partial<Record<RecordText, number>>;
  /** Set when the caller's data was erased: nothing posted later may bring it back. */
  erased?: true;
}

/** The texts a record may move to chunk values of their own. */
export type RecordText = "event" | "raw";

const CALL_KEY = "call";
const chunkKey = (text: RecordText, seq: number) => `${text}.${seq}`;

/**
 * A value holds at most 2 MB with its key. V8 stores a string in one or two bytes a character,
 * by how the string happens to be represented, so a record is sized at two bytes a character
 * and kept this far under the limit.
 */
export const RECORD_MAX_BYTES = 1_900_000;
/** A chunk's characters: at most 1 MB stored, alone in its value. */
const CHUNK_CHARS = 500_000;

/** The most bytes V8 can take to store the text. */
export const storedBytes = (text: string): number => 2 * text.length;

/** The stored call, or null before it is accepted (or after it is deleted). */
export function readRecord(kv: SyncKvStorage): CallRecord | null {
  return kv.get<CallRecord>(CALL_KEY) ?? null;
}

/**
 * Stores the record: one value, one row written. A record that would outgrow its value first
 * moves its longest text to chunk values (a row each, written only then).
 */
export function writeRecord(kv: SyncKvStorage, record: CallRecord): void {
  let fitted = record;
  for (;;) {
    const longest = (["event", "raw"] as const).filter((t) => fitted[t] !== null).sort((a, b) => fitted[b]!.length - fitted[a]!.length)[0];
    if (recordBytes(fitted) <= RECORD_MAX_BYTES || longest === undefined) break;
    fitted = spill(kv, fitted, longest);
  }
  kv.put(CALL_KEY, fitted);
}

/** A text of the record, from the record or its chunks. */
export function readText(kv: SyncKvStorage, record: CallRecord, text: RecordText): string | null {
  const inline = record[text];
  if (inline !== null) return inline;
  const count = record.chunks?.[text] ?? 0;
  if (count === 0) return null;
  return Array.from({ length: count }, (_, seq) => kv.get<string>(chunkKey(text, seq)) ?? "").join("");
}

/** The record with a text replaced (kept in the record until writeRecord finds it too long); its old chunks go. */
export function withText(kv: SyncKvStorage, record: CallRecord, text: RecordText, value: string | null): CallRecord {
  dropChunks(kv, record, text);
  const { [text]: _dropped, ...chunks } = record.chunks ?? {};
  return { ...record, [text]: value, chunks };
}

function recordBytes(record: CallRecord): number {
  return Object.values(record).reduce<number>((sum, value) => sum + (typeof value === "string" ? storedBytes(value) : 64), 0);
}

function spill(kv: SyncKvStorage, record: CallRecord, text: RecordText): CallRecord {
  const pieces = splitText(record[text]!, CHUNK_CHARS);
  pieces.forEach((piece, seq) => {
    kv.put(chunkKey(text, seq), piece);
  });
  return { ...record, [text]: null, chunks: { ...record.chunks, [text]: pieces.length } };
}

function dropChunks(kv: SyncKvStorage, record: CallRecord, text: RecordText): void {
  for (let seq = 0; seq < (record.chunks?.[text] ?? 0); seq++) kv.delete(chunkKey(text, seq));
}
