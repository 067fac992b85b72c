import { z } from "zod";
import { basicAuth, baseUrl, classifyAnswer, jsonOf } from "../http";
import { optional, readSettings, required, secret } from "../settings";
import type { HttpProvider } from "../types";
import { failure, secondsUntil, str, withRetryAfter } from "./shared";

/** Jira rejects longer summaries outright. */
const SUMMARY_MAX = 255;

export const JIRA_SETTINGS = z.object({
  // There is no default host: every Jira Cloud customer has their own site.
  JIRA_BASE_URL: required(),
  JIRA_EMAIL: required(),
  JIRA_API_TOKEN: secret(required()),
  JIRA_PROJECT_KEY: required(),
  JIRA_ISSUE_TYPE: optional(),
});

/**
 * Jira Cloud, through REST API v3. Settings: JIRA_BASE_URL (the site, e.g.
 * https://acme.atlassian.net), JIRA_EMAIL and JIRA_API_TOKEN (Basic auth), JIRA_PROJECT_KEY;
 * optional JIRA_ISSUE_TYPE (default "Task").
 */
export const jira: HttpProvider<"task"> = {
  name: "jira",
  kind: "task",
  dedupes: false,
  settings: JIRA_SETTINGS,
  buildRequest(message, { settings }) {
    const s = readSettings(JIRA_SETTINGS, settings);
    const site = baseUrl(s.JIRA_BASE_URL, "");
    if (!URL.canParse(site)) throw new Error(`JIRA_BASE_URL "${site}" is not a URL such as https://acme.atlassian.net`);
    const description = adf(message.notes ?? "");
    return {
      method: "POST",
      url: `${site}/rest/api/3/issue`,
      headers: {
        authorization: basicAuth(s.JIRA_EMAIL, s.JIRA_API_TOKEN),
        "content-type": "application/json",
        accept: "application/json",
      },
      body: JSON.stringify({
        fields: {
          project: { key: s.JIRA_PROJECT_KEY },
          summary: Array.from(message.title).slice(0, SUMMARY_MAX).join(""),
          issuetype: { name: s.JIRA_ISSUE_TYPE ?? "Task" },
          ...(description ? { description } : {}),
          ...(message.due_date ? { duedate: message.due_date } : {}),
        },
      }),
    };
  },
  parseResponse(answer, now) {
    const json = jsonOf(answer.body);
    const result = classifyAnswer(answer, now, failure("jira", answer.status, describe(json) ?? answer.body), str(json?.key) ?? str(json?.id));
    // Jira sends Retry-After; its X-RateLimit-Reset is an ISO timestamp, read here as a fallback.
    return withRetryAfter(result, secondsUntil(answer.headers.get("x-ratelimit-reset"), now));
  },
};

/**
 * Plain text as an Atlassian Document Format document (v3 takes no plain-text
 * description): one paragraph per non-empty line; undefined when there is no text.
 */
export function adf(text: string) {
  const lines = text.split(/\r?\n/).map((line) => line.trimEnd()).filter((line) => line.trim() !== "");
  if (lines.length === 0) return undefined;
  return {
    type: "doc",
    version: 1,
    content: lines.map((line) => ({ type: "paragraph", content: [{ type: "text", text: line }] })),
  };
}

/** errorMessages and per-field errors together: a 400 often carries only one of them. */
function describe(json: any): string | undefined {
  if (!json || typeof json !== "object") return undefined;
  const messages: string[] = Array.isArray(json.errorMessages) ? json.errorMessages.filter((m: unknown) => typeof m === "string") : [];
  const fields =
    json.errors && typeof json.errors === "object"
      ? Object.entries(json.errors as Record<string, unknown>).map(([field, msg]) => `${field}: ${String(msg)}`)
      : [];
  const all = [...messages, ...fields].join("; ");
  return all || str(json.message);
}
