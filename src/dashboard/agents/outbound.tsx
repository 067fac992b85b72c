import { DIALER_TYPES, type DialerType, WEEKDAYS } from "../../schemas/outbound";
import { type AgentDraft, PLATFORM_FIELDS, idOf, isDialerType } from "./draft";
import { type FormView, Problems, SelectField, TextField } from "./fields";
import { FallbackActions } from "./follow-up";

const PLATFORM_LABELS: Record<DialerType, string> = {
  vapi: "Vapi",
  retell: "Retell",
  bland: "Bland",
  elevenlabs: "ElevenLabs",
  http: "Another dialer over HTTP",
  simulator: "Simulator (places no real call)",
};
const DAY_LABELS = { mon: "Monday", tue: "Tuesday", wed: "Wednesday", thu: "Thursday", fri: "Friday", sat: "Saturday", sun: "Sunday" } as const;

/**
 * Voice Settings → Outbound calls (voice_tools.outbound_calls): platform and ids, calling hours,
 * default country, re-dial and result timeout. Then the fallback actions, edited like the follow-up's.
 */
export function OutboundSection(props: { view: FormView; draft: AgentDraft; templates: string[] }) {
  const { view, draft } = props;
  const o = draft.outbound;
  const value = (key: string) => o[key] ?? "";
  const type = value("platform.type");
  const off = type === "";
  return (
    <section class="panel" id={idOf("outbound")} aria-labelledby="outbound-title">
      <h3 id="outbound-title">Outbound calls</h3>
      <p class="hint">How this agent places calls asked for through POST /outbound-calls and triggers.</p>
      <Problems view={view} field="outbound" />
      <fieldset id={idOf("outbound.platform")}>
        <legend>Platform</legend>
        <Problems view={view} field="outbound.platform" />
        <SelectField
          view={view}
          field="outbound.platform.type"
          label="Platform"
          value={type}
          options={[["", "Off: this agent places no calls"], ...DIALER_TYPES.map((t) => [t, PLATFORM_LABELS[t]] as const)]}
          hint="After choosing another platform, show its fields to fill them in. Turning outbound calls off removes these settings, fallback actions included."
        />
        <div class="actions">
          <button type="submit" class="secondary" name="op" value="refresh">
            Show this platform's fields
          </button>
        </div>
        {isDialerType(type)
          ? PLATFORM_FIELDS[type].map((spec) => (
              <TextField
                view={view}
                field={`outbound.platform.${spec.name}`}
                label={spec.label}
                value={value(`platform.${spec.name}`)}
                required={spec.required}
                multiline={spec.multiline}
                type={spec.kind === "url" ? "url" : "text"}
                hint={spec.hint}
              />
            ))
          : null}
      </fieldset>
      {off ? null : (
        <>
          <fieldset id={idOf("outbound.calling_hours")}>
            <legend>Calling hours</legend>
            <p class="hint">Leave them all empty to call at any hour. A call due outside them waits for the next opening.</p>
            <Problems view={view} field="outbound.calling_hours" />
            <TextField view={view} field="outbound.calling_hours.timezone" label="Time zone" value={value("calling_hours.timezone")} placeholder="America/New_York" />
            <fieldset id={idOf("outbound.calling_hours.days")} aria-describedby={view.problems.has("outbound.calling_hours.days") ? `${idOf("outbound.calling_hours.days")}-error` : undefined}>
              <legend>Days</legend>
              <div class="filters">
                {WEEKDAYS.map((day) => (
                  <label>
                    <input type="checkbox" name="outbound[calling_hours][days]" value={day} checked={draft.days.includes(day)} /> {DAY_LABELS[day]}
                  </label>
                ))}
              </div>
              <Problems view={view} field="outbound.calling_hours.days" />
            </fieldset>
            <div class="grid">
              <TextField view={view} field="outbound.calling_hours.start" label="Start (HH:MM, 24-hour)" value={value("calling_hours.start")} placeholder="09:00" />
              <TextField view={view} field="outbound.calling_hours.end" label="End (HH:MM, 24-hour)" value={value("calling_hours.end")} placeholder="20:00" />
            </div>
          </fieldset>
          <TextField
            view={view}
            field="outbound.default_country"
            label="Default country"
            value={value("default_country")}
            placeholder="US"
            hint="ISO 3166 code for numbers written without +; empty: the agent's, else the deployment's DEFAULT_COUNTRY."
          />
          <fieldset id={idOf("outbound.redial")}>
            <legend>Re-dial</legend>
            <Problems view={view} field="outbound.redial" />
            <TextField view={view} field="outbound.redial.on" label="Re-dial on outcomes" value={value("redial.on")} placeholder="no_answer, busy" hint="Comma-separated; empty: no_answer, busy." />
            <div class="grid">
              <TextField view={view} field="outbound.redial.max_attempts" label="Attempts in all" type="number" value={value("redial.max_attempts")} placeholder="1" hint="1 to 10; 1 never re-dials." />
              <TextField view={view} field="outbound.redial.interval_seconds" label="Wait before a re-dial (seconds)" type="number" value={value("redial.interval_seconds")} placeholder="3600" />
            </div>
          </fieldset>
          <TextField
            view={view}
            field="outbound.result_timeout_seconds"
            label="Result timeout (seconds)"
            type="number"
            value={value("result_timeout_seconds")}
            placeholder="3600"
            hint="A placed call with no call-ended event by then ends with outcome unknown (60 to 604800)."
          />
          <FallbackActions view={view} draft={props.draft} templates={props.templates} />
        </>
      )}
    </section>
  );
}
