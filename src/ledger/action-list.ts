import type { ActionState } from "./state";

/** An action as its call's ledger keeps it: its state, and the run of the call that added it. */
export type StoredAction = ActionState & { run: number };

/**
 * A call's actions live as one JSON list in one row. Durable Object SQLite bills a row written
 * per row a statement changes, so a change to any number of actions (a message's claims, its
 * results, the watchdog's re-sends) costs one row instead of one per action.
 */
export const ACTION_LIST_SCHEMA = "CREATE TABLE IF NOT EXISTS action_list (id INTEGER PRIMARY KEY CHECK (id = 1), actions TEXT NOT NULL)";

/**
 * A row holds at most 2 MB. One run's actions fit whatever they hold (the agent schema bounds
 * them, ACTIONS_MAX_JSON_CHARS); a call run again past this size is refused rather than risk a
 * write SQLite cannot store.
 */
export const ACTION_LIST_MAX_BYTES = 1_800_000;

/** The size of the list with `more` added, in bytes of UTF-8 as SQLite stores it. */
export const listBytes = (actions: StoredAction[], more: unknown[]): number =>
  new TextEncoder().encode(JSON.stringify(actions)).length + 2 * new TextEncoder().encode(JSON.stringify(more)).length;

/** The call's actions in index order; none before the call is accepted. */
export function readActions(sql: SqlStorage): StoredAction[] {
  const row = sql.exec<{ actions: string }>("SELECT actions FROM action_list WHERE id = 1").toArray()[0];
  return row ? (JSON.parse(row.actions) as StoredAction[]) : [];
}

export function writeActions(sql: SqlStorage, actions: StoredAction[]): void {
  sql.exec(
    "INSERT INTO action_list (id, actions) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET actions = excluded.actions",
    JSON.stringify(actions),
  );
}
