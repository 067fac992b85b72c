import type { AttemptRecord } from "../schemas/delivery";
import type { ActionState } from "./state";

/** An attempt the delivery log has not confirmed yet. */
export type UnloggedAttempt = { number: number; record: AttemptRecord };

/** An action as its call's ledger keeps it: its state, and the run of the call that added it. */
export type StoredAction = ActionState & {
  run: number;
  /**
   * Attempts on their way to the delivery log. The log keeps every attempt; the ledger keeps
   * each one only until the log has confirmed it.
   */
  unlogged?: UnloggedAttempt[];
};

/** How far the delivery log has caught up with the ledger. */
export interface LogMark {
  /** The call's row is in the log. */
  call: boolean;
  /** Each action's version the log holds. */
  actions: Record<number, number>;
  /** The log's copies of the attempts must be stripped to their outcome and timing (an erasure). */
  erase?: boolean;
  /**
   * Bumped by whatever makes the log take the call row or the attempts again (a re-run, an
   * erasure). A log write that started before such a reset confirms only action versions.
   */
  resets?: number;
}

/**
 * A call's actions and the log's progress, kept in the call's own row (its `actions` and
 * `log_progress` columns). Durable Object SQLite bills a row written per row a statement
 * changes, so a change to any number of actions (a message's claims, its results, the
 * watchdog's re-sends, the log's confirmation) costs one row, and the call is accepted with
 * its actions in a single row: one table to create and one row to insert.
 */
export interface ActionList {
  actions: StoredAction[];
  mark: LogMark;
}

/** The ledger's columns that hold the list; ledgers from before them gain them on load. */
export const ACTION_LIST_COLUMNS = "actions TEXT, log_progress TEXT";

/**
 * A row holds at most 2 MB. One run's actions fit whatever they hold (the agent schema bounds
 * them, ACTIONS_MAX_JSON_CHARS); a call run again past this size is refused rather than risk a
 * write SQLite cannot store.
 */
export const ACTION_LIST_MAX_BYTES = 1_800_000;

/** The size of the actions with `more` added, in bytes of UTF-8 as SQLite stores them. */
export const listBytes = (actions: StoredAction[], more: unknown[]): number =>
  new TextEncoder().encode(JSON.stringify(actions)).length + 2 * new TextEncoder().encode(JSON.stringify(more)).length;

const nothingLogged = (): LogMark => ({ call: false, actions: {} });

/** A new call's list: its first actions, nothing of it logged yet. */
export const newList = (actions: StoredAction[]): ActionList => ({ actions, mark: nothingLogged() });

/** The list as its two columns store it. */
export const listColumns = (list: ActionList): [actions: string, logProgress: string] => [JSON.stringify(list.actions), JSON.stringify(list.mark)];

/** The call's list; empty before the call is accepted. */
export function readList(sql: SqlStorage): ActionList {
  const row = sql.exec<{ actions: string | null; log_progress: string | null }>("SELECT actions, log_progress FROM call WHERE id = 1").toArray()[0];
  if (!row?.actions) return { actions: [], mark: nothingLogged() };
  return { actions: JSON.parse(row.actions) as StoredAction[], mark: row.log_progress ? (JSON.parse(row.log_progress) as LogMark) : nothingLogged() };
}

/** Stores the list in the call's row, which must exist: a list without its call would be lost. */
export function writeList(sql: SqlStorage, list: ActionList): void {
  const cursor = sql.exec("UPDATE call SET actions = ?, log_progress = ? WHERE id = 1", ...listColumns(list));
  cursor.toArray();
  if (cursor.rowsWritten === 0) throw new Error("ledger: no call row to hold the action list");
}
