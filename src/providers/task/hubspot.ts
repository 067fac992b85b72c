import { baseUrl, classifyAnswer, jsonOf, setting } from "../http";
import type { HttpProvider } from "../types";
import { failure, middayUtc, str, withRetryAfter } from "./shared";

/**
 * HubSpot CRM tasks. Settings: HUBSPOT_ACCESS_TOKEN (a private app token with the
 * crm.objects.tasks write scope, or OAuth); optional HUBSPOT_OWNER_ID,
 * HUBSPOT_TASK_PRIORITY (LOW, MEDIUM or HIGH), HUBSPOT_BASE_URL.
 */
export const hubspot: HttpProvider<"task"> = {
  name: "hubspot",
  kind: "task",
  dedupes: false,
  requires: ["HUBSPOT_ACCESS_TOKEN"],
  buildRequest(message, { settings }) {
    const priority = settings.HUBSPOT_TASK_PRIORITY?.trim().toUpperCase();
    const owner = settings.HUBSPOT_OWNER_ID?.trim();
    // hs_timestamp is required and is the task's due date; with no due date the task is due now.
    const due = message.due_date ? middayUtc(message.due_date) : Date.now();
    return {
      method: "POST",
      url: `${baseUrl(settings, "hubspot", "https://api.hubapi.com")}/crm/v3/objects/tasks`,
      headers: {
        authorization: `Bearer ${setting(settings, "HUBSPOT_ACCESS_TOKEN").trim()}`,
        "content-type": "application/json",
        accept: "application/json",
      },
      body: JSON.stringify({
        properties: {
          hs_task_subject: message.title,
          ...(message.notes ? { hs_task_body: message.notes } : {}),
          hs_timestamp: new Date(due).toISOString(),
          hs_task_status: "NOT_STARTED",
          ...(priority ? { hs_task_priority: priority } : {}),
          ...(owner ? { hubspot_owner_id: owner } : {}),
        },
      }),
    };
  },
  parseResponse(answer, now) {
    const json = jsonOf(answer.body);
    // Errors look like {status: "error", message, category: "VALIDATION_ERROR", correlationId}.
    const text = str(json?.message);
    const category = str(json?.category);
    const message = text ? `${text}${category ? ` [${category}]` : ""}` : answer.body;
    const result = classifyAnswer(answer, now, failure("hubspot", answer.status, message), str(json?.id));
    return answer.status === 429 ? withRetryAfter(result, rollingWindow(answer.headers, json)) : result;
  },
};

/**
 * HubSpot's 429s carry no Retry-After, only the rolling window's length; waiting one
 * window is enough unless the daily limit ran out, which the schedule handles better.
 */
function rollingWindow(headers: Headers, json: any): number | undefined {
  if (json?.policyName === "DAILY") return undefined;
  const ms = Number(headers.get("x-hubspot-ratelimit-interval-milliseconds") ?? Number.NaN);
  return Number.isFinite(ms) && ms > 0 ? Math.ceil(ms / 1000) : undefined;
}
