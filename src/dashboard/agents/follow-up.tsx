import { ACTION_TYPES, PROVIDER_NAMES, TEMPLATE_HELP } from "../../schemas/agent";
import { BUILTIN_TEMPLATES } from "../../templates/builtin";
import { ACTION_FIELDS, ACTION_LABELS, type ActionDraft, type ActionList, type AgentDraft, type FieldSpec, idOf, isActionType } from "./draft";
import { CheckboxField, type FormView, Problems, SelectField, TemplateVariables, TextField } from "./fields";

const DEFAULT_PROVIDER = {
  sms: "Default: SMS_PROVIDER, else the one configured",
  email: "Default: EMAIL_PROVIDER, else the one configured",
  task: "Default: TASK_PROVIDER, else the one configured",
} as const;

/** One field of an action, as its kind asks. */
function ActionField(props: { view: FormView; list: ActionList; index: number; action: ActionDraft; spec: FieldSpec; templates: string[] }) {
  const { spec, action } = props;
  const field = `${props.list}.${props.index}.${spec.name}`;
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

/** What each list's actions are called on the page, and the prefix of their buttons' ops. */
const LISTS: Record<ActionList, { noun: string; op: string }> = {
  actions: { noun: "Action", op: "" },
  fallback: { noun: "Fallback action", op: "fallback-" },
};

/** One action: its fields, and the buttons that move or remove it. */
function ActionFieldset(props: { view: FormView; list: ActionList; index: number; count: number; action: ActionDraft; templates: string[] }) {
  const { index, action, list } = props;
  const { noun, op } = LISTS[list];
  const n = index + 1;
  const label = isActionType(action.type) ? ACTION_LABELS[action.type] : `unknown type "${action.type}"`;
  return (
    <fieldset class="panel" id={idOf(`${list}.${index}`)}>
      <legend>
        {noun} {n}: {label}
      </legend>
      <input type="hidden" name={`${list}[${index}][type]`} value={action.type} />
      <Problems view={props.view} field={`${list}.${index}`} />
      <Problems view={props.view} field={`${list}.${index}.type`} />
      {isActionType(action.type)
        ? ACTION_FIELDS[action.type].map((spec) => <ActionField view={props.view} list={list} index={index} action={action} spec={spec} templates={props.templates} />)
        : null}
      <div class="actions">
        <button type="submit" class="secondary" name="op" value={`${op}up:${index}`} disabled={index === 0} aria-label={`Move ${noun.toLowerCase()} ${n} up`}>
          Move up
        </button>
        <button type="submit" class="secondary" name="op" value={`${op}down:${index}`} disabled={index === props.count - 1} aria-label={`Move ${noun.toLowerCase()} ${n} down`}>
          Move down
        </button>
        <button type="submit" class="danger" name="op" value={`${op}remove:${index}`} aria-label={`Remove ${noun.toLowerCase()} ${n}`}>
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
        <ActionFieldset view={view} list="actions" index={index} count={draft.actions.length} action={action} templates={props.templates} />
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

/**
 * Outbound calls' fallback actions: the same editor, run once when a call's final outcome is
 * one that re-dials or failed. Each type has its own add button, as the follow-up's select
 * belongs to that list.
 */
export function FallbackActions(props: { view: FormView; draft: AgentDraft; templates: string[] }) {
  const { draft, view } = props;
  return (
    <div id={idOf("fallback")}>
      <h4>Fallback actions</h4>
      <p class="hint">
        Run once when the final outcome is one of the re-dial outcomes, or failed (an action with "Run for outcomes": only for those).
        Their templates see caller_name, caller_number (the number called), outcome, and metadata.* with metadata.task and
        metadata.phone_number.
      </p>
      <Problems view={view} field="fallback" />
      {draft.fallback.length === 0 ? <p class="muted">None.</p> : null}
      {draft.fallback.map((action, index) => (
        <ActionFieldset view={view} list="fallback" index={index} count={draft.fallback.length} action={action} templates={props.templates} />
      ))}
      <div class="actions">
        {ACTION_TYPES.map((type) => (
          <button type="submit" class="secondary" name="op" value={`fallback-add:${type}`}>
            Add a fallback {ACTION_LABELS[type]}
          </button>
        ))}
      </div>
    </div>
  );
}
