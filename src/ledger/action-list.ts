import type { AttemptRecord } from "../schemas/delivery";
import { type CallRecord, readRecord, storedBytes, writeRecord } from "./call-record";
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
 * A call's actions and the log's progress, kept in the call's own record (its `actions` and
 * `log_progress` fields). Durable Object storage bills a row written per value stored, so a
 * change to any number of actions (a message's claims, its results, the watchdog's re-sends,
 * the log's confirmation) costs one row, and the call is accepted with its actions in a single
 * row.
 */
export interface ActionList {
  actions: StoredAction[];
  mark: LogMark;
}

/**
 * A record holds at most 2 MB (./call-record.ts). One run's actions fit whatever they hold (the
 * agent schema bounds them, ACTIONS_MAX_JSON_CHARS); a call run again past this size is refused
 * rather than risk a write storage cannot hold.
 */
export const ACTION_LIST_MAX_BYTES = 1_800_000;

/** The most bytes the actions take stored with `more` added (their JSON inside the list's JSON). */
export const listBytes = (actions: StoredAction[], more: unknown[]): number =>
  storedBytes(JSON.stringify(actions)) + 2 * storedBytes(JSON.stringify(more));

const nothingLogged = (): LogMark => ({ call: false, actions: {} });

/** A new call's list: its first actions, nothing of it logged yet. */
export const newList = (actions: StoredAction[]): ActionList => ({ actions, mark: nothingLogged() });

/** The list as its two fields store it. */
export const listFields = (list: ActionList): Pick<CallRecord, "actions" | "log_progress"> => ({
  actions: JSON.stringify(list.actions),
  log_progress: JSON.stringify(list.mark),
});

/** The list a record holds. */
export function listOf(record: Pick<CallRecord, "actions" | "log_progress">): ActionList {
  return { actions: JSON.parse(record.actions) as StoredAction[], mark: JSON.parse(record.log_progress) as LogMark };
}

/** The call's list; empty before the call is accepted. */
export function readList(kv: SyncKvStorage): ActionList {
  const record = readRecord(kv);
  return record ? listOf(record) : newList([]);
}

/** Stores the list in the call's record, which must exist: a list without its call would be lost. */
export function writeList(kv: SyncKvStorage, list: ActionList): void {
  const record = readRecord(kv);
  if (!record) throw new Error("ledger: no call record to hold the action list");
  writeRecord(kv, { ...record, ...listFields(list) });
}
