/**
 * What the D1 stores' lists share: a WHERE clause built filter by filter, and the opaque
 * cursor of a keyset page (the ordering columns of its last row, base64 JSON).
 */

/** A WHERE clause built term by term, with its arguments in order. */
export class Where {
  private readonly terms: string[] = [];
  readonly args: unknown[] = [];

  add(term: string, ...args: unknown[]): void {
    this.terms.push(term);
    this.args.push(...args);
  }

  clause(): string {
    return this.terms.length > 0 ? `WHERE ${this.terms.join(" AND ")}` : "";
  }
}

const encodeCursor = (values: string[]) => btoa(JSON.stringify(values));

/**
 * One page of a list read with LIMIT `limit + 1`: its first `limit` rows, and the cursor of the
 * last of them when the extra row shows there is more.
 */
export function keysetPage<T>(rows: T[], limit: number, cursorOf: (row: T) => string[]): { page: T[]; next_cursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, next_cursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null };
}

/**
 * A cursor of `length` values, or null for anything else: another list's cursor or a made-up
 * one is the caller's mistake, which the route reports.
 */
export function decodeCursor(cursor: string, length: number): string[] | null {
  try {
    const value = JSON.parse(atob(cursor)) as unknown;
    if (Array.isArray(value) && value.length === length && value.every((v) => typeof v === "string")) return value as string[];
  } catch {
    // fall through
  }
  return null;
}
