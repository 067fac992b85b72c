import { z } from "zod";
import { baseUrl, classifyAnswer, jsonOf } from "../http";
import { optional, readSettings, required, secret } from "../settings";
import type { HttpProvider } from "../types";
import { failure, middayUtc, str } from "./shared";

export const CLICKUP_SETTINGS = z.object({
  CLICKUP_API_TOKEN: secret(required()),
  CLICKUP_LIST_ID: required(),
  CLICKUP_BASE_URL: optional(),
});

/**
 * ClickUp, through API v2. Settings: CLICKUP_API_TOKEN (a personal "pk_" token, sent bare),
 * CLICKUP_LIST_ID; optional CLICKUP_BASE_URL.
 */
export const clickup: HttpProvider<"task"> = {
  name: "clickup",
  kind: "task",
  dedupes: false,
  settings: CLICKUP_SETTINGS,
  buildRequest(message, { settings }) {
    const s = readSettings(CLICKUP_SETTINGS, settings);
    const list = encodeURIComponent(s.CLICKUP_LIST_ID);
    return {
      method: "POST",
      url: `${baseUrl(s.CLICKUP_BASE_URL, "https://api.clickup.com")}/api/v2/list/${list}/task`,
      headers: { authorization: s.CLICKUP_API_TOKEN, "content-type": "application/json" },
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
