import { baseUrl, classifyAnswer, jsonOf, setting } from "../http";
import type { HttpProvider } from "../types";
import { failure, str } from "./shared";

/**
 * Asana. Settings: ASANA_ACCESS_TOKEN (personal access token or OAuth token), and
 * ASANA_PROJECT_ID or ASANA_WORKSPACE_ID; optional ASANA_ASSIGNEE (a user gid, an email
 * or "me"), ASANA_BASE_URL.
 */
export const asana: HttpProvider<"task"> = {
  name: "asana",
  kind: "task",
  dedupes: false,
  // The project is not listed: a workspace alone is enough, which buildRequest checks.
  requires: ["ASANA_ACCESS_TOKEN"],
  buildRequest(message, { settings }) {
    const project = settings.ASANA_PROJECT_ID?.trim();
    const workspace = settings.ASANA_WORKSPACE_ID?.trim();
    if (!project && !workspace) throw new Error("set ASANA_PROJECT_ID (or ASANA_WORKSPACE_ID) to say where tasks go");
    const assignee = settings.ASANA_ASSIGNEE?.trim();
    return {
      method: "POST",
      url: `${baseUrl(settings, "asana", "https://app.asana.com")}/api/1.0/tasks`,
      headers: {
        authorization: `Bearer ${setting(settings, "ASANA_ACCESS_TOKEN")}`,
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
