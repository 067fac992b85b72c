import { z } from "zod";
import { baseUrl, classifyAnswer, jsonOf } from "../http";
import { optional, readSettings, required, secret } from "../settings";
import type { HttpProvider } from "../types";
import { failure, str, withRetryAfter } from "./shared";

export const TODOIST_SETTINGS = z.object({
  TODOIST_API_TOKEN: secret(required()),
  TODOIST_PROJECT_ID: optional(),
  TODOIST_BASE_URL: optional(),
});

/**
 * Todoist, through its unified API v1 (REST v2 is deprecated).
 * Settings: TODOIST_API_TOKEN; optional TODOIST_PROJECT_ID (else the Inbox), TODOIST_BASE_URL.
 */
export const todoist: HttpProvider<"task"> = {
  name: "todoist",
  kind: "task",
  dedupes: false,
  settings: TODOIST_SETTINGS,
  buildRequest(message, { idempotency_key, settings }) {
    const s = readSettings(TODOIST_SETTINGS, settings);
    const project = s.TODOIST_PROJECT_ID;
    return {
      method: "POST",
      url: `${baseUrl(s.TODOIST_BASE_URL, "https://api.todoist.com")}/api/v1/tasks`,
      headers: {
        authorization: `Bearer ${s.TODOIST_API_TOKEN}`,
        "content-type": "application/json",
        // A request identifier only, for tracing a request with Todoist's support: API v1 does
        // not deduplicate on it, so a retry after a lost answer can add a second task.
        "x-request-id": idempotency_key,
      },
      body: JSON.stringify({
        content: message.title,
        ...(message.notes ? { description: message.notes } : {}),
        ...(message.due_date ? { due_date: message.due_date } : {}),
        ...(project ? { project_id: project } : {}),
      }),
    };
  },
  parseResponse(answer, now) {
    const json = jsonOf(answer.body);
    // v1 errors are JSON ({error, error_tag, error_extra}); older paths answer in plain text.
    const detail = json && typeof json === "object" ? describe(json) : answer.body;
    const result = classifyAnswer(answer, now, failure("todoist", answer.status, detail), str(json?.id));
    return withRetryAfter(result, typeof json?.error_extra?.retry_after === "number" ? json.error_extra.retry_after : undefined);
  },
};

function describe(json: any): string | undefined {
  const message = str(json.error);
  if (!message) return undefined;
  const argument = str(json.error_extra?.argument);
  const tag = str(json.error_tag);
  return `${message}${argument ? ` (${argument})` : ""}${tag ? ` [${tag}]` : ""}`;
}
