import { z } from "zod";
import { baseUrl, classifyAnswer, jsonOf } from "../http";
import { optional, readSettings, required, secret } from "../settings";
import type { HttpProvider } from "../types";
import { failure, middayUtc, str, withRetryAfter } from "./shared";

export const TRELLO_SETTINGS = z.object({
  TRELLO_API_KEY: secret(required()),
  TRELLO_TOKEN: secret(required()),
  TRELLO_LIST_ID: required(),
  TRELLO_BASE_URL: optional(),
});

/**
 * Trello cards. Settings: TRELLO_API_KEY, TRELLO_TOKEN, TRELLO_LIST_ID (the list new cards
 * go to); optional TRELLO_BASE_URL.
 */
export const trello: HttpProvider<"task"> = {
  name: "trello",
  kind: "task",
  dedupes: false,
  settings: TRELLO_SETTINGS,
  buildRequest(message, { settings }) {
    const s = readSettings(TRELLO_SETTINGS, settings);
    const key = s.TRELLO_API_KEY;
    const token = s.TRELLO_TOKEN;
    return {
      method: "POST",
      url: `${baseUrl(s.TRELLO_BASE_URL, "https://api.trello.com")}/1/cards`,
      headers: {
        // Trello's documented alternative to ?key=&token=: keeps the token out of URLs and logs.
        authorization: `OAuth oauth_consumer_key="${key}", oauth_token="${token}"`,
        "content-type": "application/json",
        accept: "application/json",
      },
      body: JSON.stringify({
        idList: s.TRELLO_LIST_ID,
        name: message.title,
        ...(message.notes ? { desc: message.notes } : {}),
        // Midday UTC keeps the card on the intended day in nearly every user's time zone.
        ...(message.due_date ? { due: new Date(middayUtc(message.due_date)).toISOString() } : {}),
      }),
    };
  },
  parseResponse(answer, now) {
    const json = jsonOf(answer.body);
    // Most errors are plain text ("invalid key"); rate limiting answers JSON {error, message}.
    const message = json && typeof json === "object" ? (str(json.message) ?? str(json.error)) : answer.body;
    const result = classifyAnswer(answer, now, failure("trello", answer.status, message), str(json?.id));
    // The window headers come with every answer; they only say how long to wait on a 429.
    return answer.status === 429 ? withRetryAfter(result, windowSeconds(answer.headers)) : result;
  },
};

/** Trello sends no reset time, only the length of its rate-limit windows (10 s). */
function windowSeconds(headers: Headers): number | undefined {
  const windows = ["x-rate-limit-api-token-interval-ms", "x-rate-limit-api-key-interval-ms"]
    .map((name) => Number(headers.get(name) ?? Number.NaN))
    .filter((ms) => Number.isFinite(ms) && ms > 0);
  return windows.length > 0 ? Math.ceil(Math.max(...windows) / 1000) : undefined;
}
