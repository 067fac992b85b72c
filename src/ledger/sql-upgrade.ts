import type { AttemptRecord } from "../schemas/delivery";
import type { LogMark, StoredAction } from "./action-list";
import { listFields, newList } from "./action-list";
import { type CallRecord, type RecordText, withText, writeRecord } from "./call-record";

/**
 * Ledgers written by earlier releases kept their call in SQL tables: the call's row, its
 * action list in the row or in tables of its own, and texts too long for the row in chunk
 * tables. The first time such a ledger loads, its call moves into the key-value record
 * (./call-record.ts) and the tables go, in one transaction.
 */

/** The call table's columns as the last release wrote them; older ledgers gain the missing ones first. */
const CALL_COLUMNS = [
  "logged INTEGER NOT NULL DEFAULT 0",
  "agent_country TEXT",
  "log_mark TEXT",
  "event TEXT",
  "raw TEXT",
  "actions TEXT",
  "log_progress TEXT",
];
const ACTION_COLUMNS = [
  "round_started_at INTEGER",
  "claims INTEGER NOT NULL DEFAULT 0",
  "lease_token INTEGER NOT NULL DEFAULT 0",
  "in_flight INTEGER NOT NULL DEFAULT 0",
  "version INTEGER NOT NULL DEFAULT 1",
  "logged_version INTEGER NOT NULL DEFAULT 0",
  "run INTEGER NOT NULL DEFAULT 0",
];
const LEDGER_TABLES = ["call", "action_list", "actions", "attempts", "event_chunks", "raw_chunks"];

/** The log's progress as the release before the action list kept it, in the call's row. */
interface EarlierLogMark {
  call: boolean;
  actions: Record<number, number>;
  attempts: Record<number, number>;
  resets?: number;
}

type SqlCallRow = Omit<CallRecord, "chunks" | "actions" | "log_progress" | "erased"> & {
  actions: string | null;
  log_progress: string | null;
  logged: number;
  log_mark: string | null;
};

/** Whether the object holds a ledger an earlier release wrote. */
export function hasSqlLedger(sql: SqlStorage): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'call'").toArray().length > 0;
}

/** Moves an earlier release's call into the record, and drops its tables. */
export function upgradeSqlLedger(storage: DurableObjectStorage): void {
  const { sql, kv } = storage;
  storage.transactionSync(() => {
    const tables = new Set(sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").toArray().map((t) => t.name));
    addMissingColumns(sql, "call", CALL_COLUMNS);
    if (tables.has("actions")) addMissingColumns(sql, "actions", ACTION_COLUMNS);
    const row = sql.exec<SqlCallRow>("SELECT * FROM call WHERE id = 1").toArray()[0];
    // Without a call nothing was accepted: there is nothing to keep.
    if (row) {
      const list = tables.has("action_list") ? listFromTable(sql) : tables.has("actions") ? listFromRows(sql, row, tables) : listFromRow(row);
      let record: CallRecord = {
        agent_id: row.agent_id,
        call_id: row.call_id,
        agent_name: row.agent_name,
        agent_templates: row.agent_templates,
        agent_country: row.agent_country,
        status: row.status,
        reason: row.reason,
        ended_at: row.ended_at,
        received_at: row.received_at,
        event: null,
        raw: null,
        ...listFields(list),
      };
      for (const text of ["event", "raw"] as const) record = withText(kv, record, text, sqlText(sql, row, text, tables));
      writeRecord(kv, record);
    }
    for (const table of LEDGER_TABLES) if (tables.has(table)) sql.exec(`DROP TABLE ${table}`);
  });
}

function addMissingColumns(sql: SqlStorage, table: string, columns: string[]): void {
  const present = new Set(sql.exec<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`).toArray().map((c) => c.name));
  for (const column of columns) if (!present.has(column.split(" ")[0]!)) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column}`);
}

/** The last release kept the list in the call's row. */
function listFromRow(row: SqlCallRow): { actions: StoredAction[]; mark: LogMark } {
  if (!row.actions) return newList([]);
  return { actions: JSON.parse(row.actions) as StoredAction[], mark: row.log_progress ? (JSON.parse(row.log_progress) as LogMark) : newList([]).mark };
}

/** The release before kept it in a table of its own. */
function listFromTable(sql: SqlStorage): { actions: StoredAction[]; mark: LogMark } {
  const list = sql.exec<{ actions: string; log_mark: string }>("SELECT actions, log_mark FROM action_list WHERE id = 1").toArray()[0];
  if (!list) return newList([]);
  return { actions: JSON.parse(list.actions) as StoredAction[], mark: JSON.parse(list.log_mark) as LogMark };
}

/**
 * Releases before the action list kept a row per action: the list is built from those rows,
 * and its mark from the log's progress as they kept it (per-row flags, or the call's mark).
 */
function listFromRows(sql: SqlStorage, call: SqlCallRow, tables: Set<string>): { actions: StoredAction[]; mark: LogMark } {
  const rows = sql.exec<Record<string, SqlStorageValue>>("SELECT * FROM actions ORDER BY idx").toArray();
  const attempts = tables.has("attempts")
    ? sql.exec<{ idx: number; number: number; record: string }>("SELECT idx, number, record FROM attempts ORDER BY idx, number").toArray()
    : [];
  let earlier: EarlierLogMark = { call: false, actions: {}, attempts: {} };
  if (call.log_mark) {
    earlier = JSON.parse(call.log_mark) as EarlierLogMark;
  } else {
    // Before the mark: a flag per row.
    earlier.call = call.logged === 1;
    for (const a of rows) earlier.actions[a.idx as number] = a.logged_version as number;
    if (tables.has("attempts")) {
      for (const a of sql.exec<{ idx: number; n: number }>("SELECT idx, MAX(number) AS n FROM attempts WHERE logged = 1 GROUP BY idx")) {
        earlier.attempts[a.idx] = a.n;
      }
    }
  }
  const actions = rows.map(({ logged_version: _flag, ...row }) => {
    const action = row as unknown as StoredAction;
    const unlogged = attempts
      .filter((a) => a.idx === action.idx && a.number > (earlier.attempts[a.idx] ?? 0))
      .map((a) => ({ number: a.number, record: JSON.parse(a.record) as AttemptRecord }));
    return unlogged.length > 0 ? { ...action, unlogged } : action;
  });
  return { actions, mark: { call: earlier.call, actions: earlier.actions, ...(earlier.resets ? { resets: earlier.resets } : {}) } };
}

/** A text as an earlier release kept it: in the row, or (too long, or before the column) in its chunk table. */
function sqlText(sql: SqlStorage, row: SqlCallRow, text: RecordText, tables: Set<string>): string | null {
  if (row[text] !== null) return row[text];
  if (!tables.has(`${text}_chunks`)) return null;
  const chunks = sql.exec<{ chunk: string }>(`SELECT chunk FROM ${text}_chunks ORDER BY seq`).toArray();
  return chunks.length === 0 ? null : chunks.map((c) => c.chunk).join("");
}
