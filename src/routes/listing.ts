import { z } from "@hono/zod-openapi";
import { fieldProblem, validationFailed } from "../errors";

/**
 * Whether an instant's UTC year has four digits. Stored times are compared as text, and an
 * ISO string past 9999 (`+010000-…`) or before 0000 (`-000001-…`) sorts as no time would.
 */
export const inStoredYears = (ms: number): boolean => {
  const year = new Date(ms).getUTCFullYear();
  return year >= 0 && year <= 9999;
};

/** A time-range bound of a list, ISO 8601 with an offset; `what` says which time it filters on. */
export const timeBound = (what: string) =>
  z.iso
    .datetime({ offset: true })
    .refine((v) => inStoredYears(Date.parse(v)), "in UTC it must fall within the years 0000 to 9999")
    .optional()
    .openapi({ description: `${what} (ISO 8601)` });

/** The range's bounds in UTC, as the stores compare them with the stored UTC times. */
export function inUtc<T extends { since?: string; until?: string }>(filter: T): T {
  const utc = (v?: string) => (v ? new Date(v).toISOString() : undefined);
  return { ...filter, since: utc(filter.since), until: utc(filter.until) };
}

/** The answer to a cursor no store could read, named where it came from: the query, or a JSON body. */
export const unreadableCursor = (from: "query" | "body" = "query") =>
  validationFailed("unreadable cursor", [fieldProblem(from === "query" ? ["query", "cursor"] : ["cursor"], "use next_cursor from a previous page")]);
