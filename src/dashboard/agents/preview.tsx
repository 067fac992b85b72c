import type { ActionPreview } from "../../pipeline/preview";
import type { EmailMessage, HttpCall, SmsMessage, TaskMessage } from "../../providers/types";
import { SAMPLE_CALL } from "../../templates/sample-call";
import { StatusBadge } from "../layout";
import { ACTION_LABELS } from "./draft";

/** A request's body as indented JSON when it is JSON, else as it is. */
function prettyJson(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/** What one action would send: an SMS as its text, an email's subject and text body, a task, a webhook's JSON. */
function Rendered(props: { preview: ActionPreview }) {
  const { preview } = props;
  if (preview.type === "webhook") {
    const request = preview.request as HttpCall | undefined;
    if (!request) return null;
    return (
      <>
        <p>
          {request.method} <code>{request.url}</code>
        </p>
        <pre>{prettyJson(request.body)}</pre>
      </>
    );
  }
  if (preview.message === undefined) return null;
  if (preview.type === "sms") {
    const sms = preview.message as SmsMessage;
    return (
      <>
        <p>
          To <code>{sms.to}</code>
        </p>
        <div class="bubble">{sms.body}</div>
        {preview.sms ? <p class="hint">{preview.sms.summary}</p> : null}
      </>
    );
  }
  if (preview.type === "email") {
    const email = preview.message as EmailMessage;
    return (
      <>
        <p>
          To <code>{email.to}</code>
        </p>
        <p>
          <strong>Subject:</strong> {email.subject}
        </p>
        <pre>{email.text}</pre>
      </>
    );
  }
  const task = preview.message as TaskMessage;
  return (
    <>
      <p>
        <strong>Title:</strong> {task.title}
      </p>
      {task.notes ? <pre>{task.notes}</pre> : null}
      {task.due_date ? <p>Due {task.due_date}</p> : null}
    </>
  );
}

/** The preview under the form: each action rendered against the built-in sample call. */
export function PreviewSection(props: { previews: ActionPreview[] }) {
  return (
    <section class="panel" id="preview" aria-labelledby="preview-title">
      <h2 id="preview-title">Preview</h2>
      <p class="hint">
        The form as it stands (not yet saved), rendered against the built-in sample call <code>{SAMPLE_CALL.call_id}</code> (outcome {SAMPLE_CALL.outcome}). Nothing was
        sent.
      </p>
      {props.previews.length === 0 ? <p class="muted">No actions to preview.</p> : null}
      {props.previews.map((preview) => (
        <article>
          <h3>
            Action {preview.index + 1}: {ACTION_LABELS[preview.type]} <StatusBadge status={preview.status} />
          </h3>
          {preview.reason ? <p class="muted">{preview.reason}</p> : null}
          {preview.provider ? (
            <p class="hint">
              Via {preview.provider}
              {preview.provider_choice ? ` (${preview.provider_choice})` : ""}
            </p>
          ) : null}
          <Rendered preview={preview} />
        </article>
      ))}
    </section>
  );
}
