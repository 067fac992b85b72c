import { z } from "@hono/zod-openapi";
import { fieldProblem, validationFailed } from "../errors";

/** A time-range bound of a list, ISO 8601 with an offset; `what` says which time it filters on. */
export const timeBound = (what: string) => z.iso.datetime({ offset: true }).optional().openapi({ description: `${what} (ISO 8601)` });

/** The range's bounds in UTC, as the stores compare them with the stored UTC times. */
export function inUtc<T extends { since?: string; until?: string }>(filter: T): T {
  const utc = (v?: string) => (v ? new Date(v).toISOString() : undefined);
  return { ...filter, since: utc(filter.since), until: utc(filter.until) };
}

/** The answer to a cursor no store could read. */
export const unreadableCursor = () => validationFailed("unreadable cursor", [fieldProblem(["cursor"], "use next_cursor from a previous page")]);
