import { z } from "zod";
import { baseUrl, classifyAnswer, jsonOf } from "../http";
import { optional, readSettings, required, secret } from "../settings";
import type { HttpProvider } from "../types";
import { failure, str } from "./shared";

export const ASANA_SETTINGS = z.object({
  ASANA_ACCESS_TOKEN: secret(required()),
  // Neither is required on its own: a workspace alone is enough, which buildRequest checks.
  ASANA_PROJECT_ID: optional(),
  ASANA_WORKSPACE_ID: optional(),
  ASANA_ASSIGNEE: optional(),
  ASANA_BASE_URL: optional(),
});

/**
 * Asana. Settings: ASANA_ACCESS_TOKEN (personal access token or OAuth token), and
 * ASANA_PROJECT_ID or ASANA_WORKSPACE_ID; optional ASANA_ASSIGNEE (a user gid, an email
 * or "me"), ASANA_BASE_URL.
 */
export const asana: HttpProvider<"task"> = {
  name: "asana",
  kind: "task",
  dedupes: false,
  settings: ASANA_SETTINGS,
  buildRequest(message, { settings }) {
    const s = readSettings(ASANA_SETTINGS, settings);
    const project = s.ASANA_PROJECT_ID;
    const workspace = s.ASANA_WORKSPACE_ID;
    if (!project && !workspace) throw new Error("set ASANA_PROJECT_ID (or ASANA_WORKSPACE_ID) to say where tasks go");
    const assignee = s.ASANA_ASSIGNEE;
    return {
      method: "POST",
      url: `${baseUrl(s.ASANA_BASE_URL, "https://app.asana.com")}/api/1.0/tasks`,
      headers: {
        authorization: `Bearer ${s.ASANA_ACCESS_TOKEN}`,
        "content-type": "application/json",
        accept: "application/json",
      },
      body: JSON.stringify({
        data: {
          name: message.title,
          ...(message.notes ? { notes: message.notes } : {}),
          ...(message.due_date ? { due_on: message.due_date } : {}),
          // A project implies its workspace; Asana wants one or the other.
          ...(project ? { projects: [project] } : { workspace }),
          ...(assignee ? { assignee } : {}),
        },
      }),
    };
  },
  parseResponse(answer, now) {
    const json = jsonOf(answer.body);
    const errors: any[] = Array.isArray(json?.errors) ? json.errors : [];
    const message = errors
      .map((e) => [str(e?.message), str(e?.help)].filter(Boolean).join(" — "))
      .filter(Boolean)
      .join("; ");
    return classifyAnswer(answer, now, failure("asana", answer.status, message || answer.body), str(json?.data?.gid));
  },
};
