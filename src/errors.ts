import type { z } from "@hono/zod-openapi";

/** One offending field, named both as a JSONPath and as an RFC 6901 pointer. */
export interface FieldProblem {
  path: string;
  pointer: string;
  message: string;
}

export type ErrorCode =
  | "unauthorized"
  | "not_found"
  | "invalid_json"
  | "validation_failed"
  | "unsupported_media_type"
  | "payload_too_large"
  | "conflict"
  | "rate_limited"
  | "misconfigured";

const STATUS: Record<ErrorCode, { status: number; title: string }> = {
  unauthorized: { status: 401, title: "Unauthorized" },
  not_found: { status: 404, title: "Not Found" },
  invalid_json: { status: 400, title: "Malformed JSON" },
  validation_failed: { status: 422, title: "Validation Failed" },
  unsupported_media_type: { status: 415, title: "Unsupported Media Type" },
  payload_too_large: { status: 413, title: "Payload Too Large" },
  conflict: { status: 409, title: "Conflict" },
  rate_limited: { status: 429, title: "Too Many Requests" },
  misconfigured: { status: 503, title: "Relay Misconfigured" },
};

/**
 * The one error type of the app. Handlers throw it; `problemResponse` turns it into an
 * RFC 9457 problem document in a single place (the app's onError).
 */
export class AppError extends Error {
  readonly status: number;
  readonly title: string;
  constructor(
    readonly code: ErrorCode,
    detail: string,
    readonly errors: FieldProblem[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.status = STATUS[code].status;
    this.title = STATUS[code].title;
  }
}

export function problemBody(err: AppError) {
  return {
    type: `https://callrelay.dev/problems/${err.code.replaceAll("_", "-")}`,
    title: err.title,
    status: err.status,
    detail: err.message,
    ...(err.errors.length > 0 ? { errors: err.errors } : {}),
  };
}

export function problemResponse(err: AppError): Response {
  return new Response(JSON.stringify(problemBody(err)), {
    status: err.status,
    headers: { "content-type": "application/problem+json", ...err.headers },
  });
}

/** Reason phrases for statuses the app has no code of its own for (RFC 9110). */
const REASON_PHRASES: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  408: "Request Timeout",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  414: "URI Too Long",
  416: "Range Not Satisfiable",
  417: "Expectation Failed",
  421: "Misdirected Request",
  428: "Precondition Required",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** Statuses whose framework errors mean the same as one of the app's own codes. */
const CODE_BY_STATUS = new Map<number, ErrorCode>(
  (["unauthorized", "not_found", "conflict", "payload_too_large", "unsupported_media_type", "rate_limited"] as const).map(
    (code) => [STATUS[code].status, code],
  ),
);

/**
 * The problem document for an error raised outside the app's own code (Hono's validators,
 * body limit, media-type gate), keyed by its HTTP status alone. A status the app has a code
 * for keeps that code's type and title; any other gets RFC 9457's `about:blank` with the
 * status's reason phrase.
 *
 * @example
 * problemForStatus(415, "Unsupported Media Type") // { type: ".../unsupported-media-type", status: 415, ... }
 */
export function problemForStatus(status: number, detail: string) {
  // Hono's JSON validator says "Malformed JSON in request body"; its form validator also uses 400.
  const code = status === 400 && /json/i.test(detail) ? "invalid_json" : CODE_BY_STATUS.get(status);
  if (code) return problemBody(new AppError(code, detail));
  const title = REASON_PHRASES[status] ?? (status >= 500 ? "Server Error" : "Client Error");
  return { type: "about:blank", title, status, detail: detail || title };
}

/** Builds a FieldProblem from a path of keys and indexes. */
export function fieldProblem(path: readonly PropertyKey[], message: string): FieldProblem {
  let json = "$";
  let pointer = "";
  for (const key of path) {
    if (typeof key === "number") json += `[${key}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(String(key))) json += `.${String(key)}`;
    else json += `[${JSON.stringify(String(key))}]`;
    pointer += `/${String(key).replaceAll("~", "~0").replaceAll("/", "~1")}`;
  }
  return { path: json, pointer, message };
}

/** Maps zod issues to field problems; unrecognised keys are reported one per key. */
export function zodProblems(error: z.ZodError, prefix: readonly PropertyKey[] = []): FieldProblem[] {
  return error.issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => fieldProblem([...path, key], "unknown field"));
    }
    return [fieldProblem(path, issue.message)];
  });
}

export function validationFailed(detail: string, errors: FieldProblem[]): AppError {
  return new AppError("validation_failed", detail, errors);
}
