import { z } from "zod";
import { baseUrl, classifyAnswer, jsonOf, retryAfterFrom } from "../http";
import { optional, readSettings, required, secret } from "../settings";
import type { HttpAnswer, HttpProvider, SendResult } from "../types";
import { failure, secondsUntil, str, withRetryAfter } from "./shared";

export const LINEAR_SETTINGS = z.object({
  LINEAR_API_KEY: secret(required()),
  LINEAR_TEAM_ID: required(),
  LINEAR_BASE_URL: optional(),
});

/**
 * The issue's id, derived from the idempotency key: SHA-256 of the key laid out as a UUID.
 * Linear's IssueCreateInput takes a client-supplied id "in UUID v4 format", so the version
 * and variant bits are set as v4 has them; the rest is the hash, the same on every retry.
 */
export async function issueIdFor(idempotencyKey: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(idempotencyKey))).slice(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Linear documents no error shape for a create whose id is taken, so any GraphQL error
 * saying the entity already exists (or is a duplicate) is read as that: an earlier attempt
 * of this delivery created the issue.
 */
const ALREADY_EXISTS = /already exists|duplicate/i;

const MUTATION =
  "mutation IssueCreate($input: IssueCreateInput!) { issueCreate(input: $input) { success issue { id identifier url } } }";

/**
 * Linear, through its GraphQL API. Settings: LINEAR_API_KEY (a personal API key, or an
 * OAuth token starting "lin_oauth"), LINEAR_TEAM_ID (the team's UUID); optional LINEAR_BASE_URL.
 */
export const linear: HttpProvider<"task"> = {
  name: "linear",
  kind: "task",
  // The issue id comes from the idempotency key, so a retry cannot create a second issue.
  dedupes: true,
  settings: LINEAR_SETTINGS,
  async buildRequest(message, { idempotency_key, settings }) {
    const s = readSettings(LINEAR_SETTINGS, settings);
    const key = s.LINEAR_API_KEY;
    // Personal API keys go bare in Authorization; OAuth access tokens need "Bearer".
    const authorization = key.startsWith("lin_oauth") ? `Bearer ${key}` : key;
    return {
      method: "POST",
      url: `${baseUrl(s.LINEAR_BASE_URL, "https://api.linear.app")}/graphql`,
      headers: { authorization, "content-type": "application/json" },
      body: JSON.stringify({
        query: MUTATION,
        variables: {
          input: {
            id: await issueIdFor(idempotency_key),
            teamId: s.LINEAR_TEAM_ID,
            title: message.title,
            ...(message.notes ? { description: message.notes } : {}),
            ...(message.due_date ? { dueDate: message.due_date } : {}),
          },
        },
      }),
    };
  },
  parseResponse(answer, now) {
    const json = jsonOf(answer.body);
    const errors: any[] = Array.isArray(json?.errors) ? json.errors : [];
    const created = json?.data?.issueCreate;
    const issue = created?.issue;
    const id = str(issue?.identifier) ?? str(issue?.id);
    const message = errors
      .map((e) => {
        const text = str(e?.extensions?.userPresentableMessage) ?? str(e?.message);
        const code = str(e?.extensions?.code);
        return text ? `${text}${code ? ` [${code}]` : ""}` : undefined;
      })
      .filter(Boolean)
      .join("; ");
    const error = failure("linear", answer.status, message || (created?.success === false ? "issueCreate returned success: false" : answer.body));
    if (errors.length > 0 && errors.every(isAlreadyExists)) return createdEarlier(answer, error);
    // Linear signals rate limiting with a RATELIMITED error code, whatever the HTTP status.
    if (errors.some((e) => e?.extensions?.code === "RATELIMITED")) {
      return {
        outcome: "retry",
        status_code: answer.status,
        response_body: answer.body.slice(0, 1024),
        error,
        retry_after_seconds: rateLimitWait(answer.headers, now),
      };
    }
    const result = classifyAnswer(answer, now, error, id);
    // The reset headers come with every answer; only a 429 means a limit ran out.
    if (answer.status === 429) return withRetryAfter(result, rateLimitWait(answer.headers, now));
    // GraphQL reports failures inside a 200: only a created issue counts as delivered.
    if (result.outcome === "delivered" && created?.success !== true) {
      return { ...result, outcome: "failed", error: error ?? `linear ${answer.status}: no issue was created` };
    }
    return result;
  },
};

/**
 * Retry-After if sent, else when the exhausted Linear limit (requests or complexity) resets;
 * the reset headers are epoch milliseconds.
 */
function rateLimitWait(headers: Headers, now: number): number | undefined {
  const exhausted = ["requests", "complexity"].find((k) => headers.get(`x-ratelimit-${k}-remaining`)?.trim() === "0") ?? "requests";
  return retryAfterFrom(headers, now) ?? secondsUntil(headers.get(`x-ratelimit-${exhausted}-reset`), now);
}

function isAlreadyExists(error: any): boolean {
  const text = [str(error?.message), str(error?.extensions?.userPresentableMessage)].filter(Boolean).join(" ");
  return ALREADY_EXISTS.test(text);
}

/** The issue with this delivery's id exists: an earlier attempt made it, so this one is done. */
function createdEarlier(answer: HttpAnswer, error: string | undefined): SendResult {
  return {
    outcome: "delivered",
    status_code: answer.status,
    response_body: answer.body.slice(0, 1024),
    detail: `issue already created by an earlier attempt${error ? ` (${error})` : ""}`,
  };
}
