import { ACTION_TYPES, PROVIDER_NAMES, TEMPLATE_HELP } from "../../schemas/agent";
import { BUILTIN_TEMPLATES } from "../../templates/builtin";
import { ACTION_FIELDS, ACTION_LABELS, type ActionDraft, type AgentDraft, type FieldSpec, idOf, isActionType } from "./draft";
import { CheckboxField, type FormView, Problems, SelectField, TemplateVariables, TextField } from "./fields";

const DEFAULT_PROVIDER = {
  sms: "Default: SMS_PROVIDER, else the one configured",
  email: "Default: EMAIL_PROVIDER, else the one configured",
  task: "Default: TASK_PROVIDER, else the one configured",
} as const;

/** One field of an action, as its kind asks. */
function ActionField(props: { view: FormView; index: number; action: ActionDraft; spec: FieldSpec; templates: string[] }) {
  const { spec, action } = props;
  const field = `actions.${props.index}.${spec.name}`;
  const value = action.values[spec.name] ?? "";
  const common = { view: props.view, field, label: spec.label, value, required: spec.required };
  switch (spec.kind) {
    case "checkbox":
      return <CheckboxField {...common} hint={spec.hint} />;
    case "provider": {
      const kind = action.type as keyof typeof PROVIDER_NAMES;
      return <SelectField {...common} options={[["", DEFAULT_PROVIDER[kind]], ...PROVIDER_NAMES[kind].map((name) => [name, name] as const)]} hint={spec.hint} />;
    }
    case "body_template": {
      const names = [...Object.keys(BUILTIN_TEMPLATES).map((name) => [name, `${name} (built-in)`] as const), ...props.templates.map((name) => [name, name] as const)];
      return <SelectField {...common} options={[["", "None: use the plain-text body"], ...names]} hint={spec.hint} />;
    }
    case "template":
      return (
        <TextField
          {...common}
          multiline={spec.multiline}
          hint={
            <>
              {spec.hint ? `${spec.hint} ` : ""}
              <TemplateVariables />
            </>
          }
        />
      );
    default:
      return <TextField {...common} type={spec.kind === "url" ? "url" : spec.kind === "number" ? "number" : "text"} hint={spec.hint} />;
  }
}

/** One action: its fields, and the buttons that move or remove it. */
function ActionFieldset(props: { view: FormView; index: number; count: number; action: ActionDraft; templates: string[] }) {
  const { index, action } = props;
  const n = index + 1;
  const label = isActionType(action.type) ? ACTION_LABELS[action.type] : `unknown type "${action.type}"`;
  return (
    <fieldset class="panel" id={idOf(`actions.${index}`)}>
      <legend>
        Action {n}: {label}
      </legend>
      <input type="hidden" name={`actions[${index}][type]`} value={action.type} />
      <Problems view={props.view} field={`actions.${index}`} />
      <Problems view={props.view} field={`actions.${index}.type`} />
      {isActionType(action.type)
        ? ACTION_FIELDS[action.type].map((spec) => <ActionField view={props.view} index={index} action={action} spec={spec} templates={props.templates} />)
        : null}
      <div class="actions">
        <button type="submit" class="secondary" name="op" value={`up:${index}`} disabled={index === 0} aria-label={`Move action ${n} up`}>
          Move up
        </button>
        <button type="submit" class="secondary" name="op" value={`down:${index}`} disabled={index === props.count - 1} aria-label={`Move action ${n} down`}>
          Move down
        </button>
        <button type="submit" class="danger" name="op" value={`remove:${index}`} aria-label={`Remove action ${n}`}>
          Remove
        </button>
      </div>
    </fieldset>
  );
}

/** Voice Settings → Post-Call Follow-Up: the toggle, every action, and a row that adds one. */
export function FollowUpSection(props: { view: FormView; draft: AgentDraft; templates: string[] }) {
  const { draft, view } = props;
  return (
    <section class="panel" id={idOf("actions")} aria-labelledby="follow-up-title">
      <h3 id="follow-up-title">Post-Call Follow-Up</h3>
      <CheckboxField
        view={view}
        field="enabled"
        label="Enable post-call follow-up"
        value={draft.enabled ? "on" : ""}
        hint="When on, the actions below run after each call this agent ends, in this order. When off, none runs."
      />
      <p class="hint">{TEMPLATE_HELP}</p>
      <Problems view={view} field="actions" />
      {draft.actions.length === 0 ? <p class="muted">No actions yet: add one below.</p> : null}
      {draft.actions.map((action, index) => (
        <ActionFieldset view={view} index={index} count={draft.actions.length} action={action} templates={props.templates} />
      ))}
      <div class="filters">
        <div>
          <label for="new-type">New action</label>
          <select id="new-type" name="new_type">
            {ACTION_TYPES.map((type) => (
              <option value={type}>{ACTION_LABELS[type]}</option>
            ))}
          </select>
        </div>
        <div>
          <button type="submit" class="secondary" name="op" value="add">
            Add action
          </button>
        </div>
      </div>
    </section>
  );
}
