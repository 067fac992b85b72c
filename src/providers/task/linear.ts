import { baseUrl, classifyAnswer, jsonOf, retryAfterFrom, setting } from "../http";
import type { HttpProvider } from "../types";
import { failure, secondsUntil, str, withRetryAfter } from "./shared";

const MUTATION =
  "mutation IssueCreate($input: IssueCreateInput!) { issueCreate(input: $input) { success issue { id identifier url } } }";

/**
 * Linear, through its GraphQL API. Settings: LINEAR_API_KEY (a personal API key, or an
 * OAuth token starting "lin_oauth"), LINEAR_TEAM_ID (the team's UUID); optional LINEAR_BASE_URL.
 */
export const linear: HttpProvider<"task"> = {
  name: "linear",
  kind: "task",
  dedupes: false,
  requires: ["LINEAR_API_KEY", "LINEAR_TEAM_ID"],
  buildRequest(message, { settings }) {
    const key = setting(settings, "LINEAR_API_KEY").trim();
    // Personal API keys go bare in Authorization; OAuth access tokens need "Bearer".
    const authorization = key.startsWith("lin_oauth") ? `Bearer ${key}` : key;
    return {
      method: "POST",
      url: `${baseUrl(settings, "linear", "https://api.linear.app")}/graphql`,
      headers: { authorization, "content-type": "application/json" },
      body: JSON.stringify({
        query: MUTATION,
        variables: {
          input: {
            teamId: setting(settings, "LINEAR_TEAM_ID").trim(),
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
