import { z } from "@hono/zod-openapi";
import { MAX_JSON_DEPTH } from "../lib/json-depth";

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z
      .array(z.object({ path: z.string(), pointer: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: "One entry per offending field; `path` is JSONPath, `pointer` RFC 6901." }),
  })
  .openapi("Problem");

const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: Problem } },
});

/** The error responses every authenticated route can give, for the OpenAPI document. */
export const authErrors = {
  401: problem("Missing or wrong bearer key or signature"),
  422: problem("Invalid parameters or body; `errors` names each field"),
} as const;

export const notFound = { 404: problem("No such resource") } as const;

export const bodyErrors = {
  400: problem("Malformed JSON"),
  413: problem("Body larger than MAX_BODY_BYTES"),
  415: problem("Content-Type is not application/json"),
  422: problem(`The body is not valid: \`errors\` names each field, among them one nested more than ${MAX_JSON_DEPTH} levels deep`),
} as const;

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
