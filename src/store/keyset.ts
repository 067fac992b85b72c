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

export const encodeCursor = (values: string[]) => btoa(JSON.stringify(values));

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
