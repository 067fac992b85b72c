/**
 * What a person pastes into an automation tool: the trigger's URL and secret with copy buttons,
 * and each tool's settings, from the README's Triggers section.
 */

/** A value with a copy button (the page's script copies `data-copy`; without it, select the text). */
export function Copyable(props: { label: string; value: string; id: string }) {
  return (
    <div>
      <label for={props.id}>{props.label}</label>
      <div class="actions">
        <input id={props.id} type="text" readonly value={props.value} class="mono" />
        <button type="button" class="secondary" data-copy={props.value} aria-label={`Copy the ${props.label}`}>
          Copy
        </button>
      </div>
    </div>
  );
}

/** A newly issued secret: shown on this page only. */
export function SecretOnce(props: { url: string; secret: string; expires?: string | null }) {
  return (
    <section class="panel" aria-labelledby="secret-heading">
      <h2 id="secret-heading">Copy the secret now</h2>
      <p class="notice bad">This secret is shown once. It is not stored anywhere you can read it again: rotate it if it is lost.</p>
      <Copyable label="URL" id="issued-url" value={props.url} />
      <Copyable label="Secret" id="issued-secret" value={props.secret} />
      <Copyable label="Authorization header" id="issued-header" value={`Bearer ${props.secret}`} />
      {props.expires ? <p class="hint">The previous secret keeps working until {props.expires}; paste the new one before then.</p> : null}
    </section>
  );
}

type Row = [setting: string, value: string, copy?: string];

function Tool(props: { name: string; step: string; rows: Row[]; note: string }) {
  return (
    <div class="panel">
      <h3>{props.name}</h3>
      <p>{props.step}</p>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Setting</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map(([setting, value, copy]) => (
              <tr>
                <td>{setting}</td>
                <td>
                  <span class={copy ? "mono" : undefined}>{value}</span>{" "}
                  {copy ? (
                    <button type="button" class="secondary" data-copy={copy} aria-label={`Copy the ${props.name} ${setting}`}>
                      Copy
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="hint">{props.note}</p>
    </div>
  );
}

/** Ready-to-paste settings for Zapier, Make, n8n and Power Automate; the secret when it is known, else a placeholder. */
export function SetupSnippets(props: { url: string; secret?: string }) {
  const header = `Bearer ${props.secret ?? "<the trigger's secret>"}`;
  const headerCopy = props.secret ? header : undefined;
  return (
    <section aria-labelledby="setup-heading">
      <h2 id="setup-heading">Set up your automation tool</h2>
      <div class="grid">
        <Tool
          name="Zapier"
          step="Action Webhooks by Zapier, event POST."
          rows={[
            ["URL", props.url, props.url],
            ["Payload Type", "JSON"],
            ["Data", "one row per field: phone_number, task, caller_name, metadata__event_id … mapped from earlier steps"],
            ["Headers", `Authorization = ${header}`, headerCopy],
          ]}
          note="Values arrive as text. Zapier signs nothing itself: the header is the authentication. An action must finish within 30 s."
        />
        <Tool
          name="Make"
          step="Module HTTP – Make a request."
          rows={[
            ["URL", props.url, props.url],
            ["Method", "POST"],
            ["Headers", `Authorization = ${header}`, headerCopy],
            ["Body type", "Raw, content type JSON (application/json)"],
            ["Request content", "the JSON, with values mapped from earlier modules"],
            ["Evaluate all states as errors", "on"],
          ]}
          note="A mapped value holding a double quote or a line break makes the JSON invalid (400): map it into a field the trigger renders instead."
        />
        <Tool
          name="n8n"
          step="Node HTTP Request (version 4 or later)."
          rows={[
            ["Method", "POST"],
            ["URL", props.url, props.url],
            ["Send Headers", `on: Authorization = ${header} (or a Header Auth credential)`, headerCopy],
            ["Send Body", "on; Body Content Type JSON"],
            ["Specify Body", "Using Fields Below (metadata.event_id nests) or Using JSON (typed values)"],
          ]}
          note="Retry On Fail is off by default; turn it on only with a dedupe key."
        />
        <Tool
          name="Power Automate"
          step="Action HTTP."
          rows={[
            ["Method", "POST"],
            ["URI", props.url, props.url],
            ["Headers", "Content-Type = application/json"],
            ["Headers", `Authorization = ${header}`, headerCopy],
            ["Body", "the JSON object, with dynamic content"],
          ]}
          note="Its Default retry policy repeats a request up to 4 times: keep it only with a dedupe key, else set it to None."
        />
      </div>
    </section>
  );
}
