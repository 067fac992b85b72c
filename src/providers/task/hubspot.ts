import { z } from "zod";
import { baseUrl, classifyAnswer, jsonOf } from "../http";
import { optional, readSettings, required, secret } from "../settings";
import type { HttpProvider } from "../types";
import { failure, middayUtc, str, withRetryAfter } from "./shared";

export const HUBSPOT_SETTINGS = z.object({
  HUBSPOT_ACCESS_TOKEN: secret(required()),
  HUBSPOT_OWNER_ID: optional(),
  HUBSPOT_TASK_PRIORITY: optional(),
  HUBSPOT_BASE_URL: optional(),
});

/**
 * HubSpot CRM tasks. Settings: HUBSPOT_ACCESS_TOKEN (a private app token with the
 * crm.objects.tasks write scope, or OAuth); optional HUBSPOT_OWNER_ID,
 * HUBSPOT_TASK_PRIORITY (LOW, MEDIUM or HIGH), HUBSPOT_BASE_URL.
 */
export const hubspot: HttpProvider<"task"> = {
  name: "hubspot",
  kind: "task",
  dedupes: false,
  settings: HUBSPOT_SETTINGS,
  buildRequest(message, { settings }) {
    const s = readSettings(HUBSPOT_SETTINGS, settings);
    const priority = s.HUBSPOT_TASK_PRIORITY?.toUpperCase();
    const owner = s.HUBSPOT_OWNER_ID;
    // hs_timestamp is required and is the task's due date; with no due date the task is due now.
    const due = message.due_date ? middayUtc(message.due_date) : Date.now();
    return {
      method: "POST",
      url: `${baseUrl(s.HUBSPOT_BASE_URL, "https://api.hubapi.com")}/crm/v3/objects/tasks`,
      headers: {
        authorization: `Bearer ${s.HUBSPOT_ACCESS_TOKEN}`,
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
