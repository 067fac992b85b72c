import { baseUrl, classifyAnswer, jsonOf, setting } from "../http";
import type { HttpProvider } from "../types";
import { failure, middayUtc, str } from "./shared";

/**
 * ClickUp, through API v2. Settings: CLICKUP_API_TOKEN (a personal "pk_" token, sent bare),
 * CLICKUP_LIST_ID; optional CLICKUP_BASE_URL.
 */
export const clickup: HttpProvider<"task"> = {
  name: "clickup",
  kind: "task",
  dedupes: false,
  requires: ["CLICKUP_API_TOKEN", "CLICKUP_LIST_ID"],
  buildRequest(message, { settings }) {
    const list = encodeURIComponent(setting(settings, "CLICKUP_LIST_ID").trim());
    return {
      method: "POST",
      url: `${baseUrl(settings, "clickup", "https://api.clickup.com")}/api/v2/list/${list}/task`,
      headers: { authorization: setting(settings, "CLICKUP_API_TOKEN").trim(), "content-type": "application/json" },
      body: JSON.stringify({
        name: message.title,
        ...(message.notes ? { description: message.notes } : {}),
        // Midday UTC rather than the start or end of the day: ClickUp shows the date in each
        // user's zone, and only midday lands on the same calendar day nearly everywhere.
        // due_date_time false marks it as a date with no time of day.
        ...(message.due_date ? { due_date: middayUtc(message.due_date), due_date_time: false } : {}),
      }),
    };
  },
  parseResponse(answer, now) {
    const json = jsonOf(answer.body);
    // Errors look like {"err": "Token invalid", "ECODE": "OAUTH_025"}.
    const err = str(json?.err);
    const code = str(json?.ECODE);
    const message = err ? `${err}${code ? ` [${code}]` : ""}` : answer.body;
    return classifyAnswer(answer, now, failure("clickup", answer.status, message), str(json?.id));
  },
};
