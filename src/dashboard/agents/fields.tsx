import type { Child } from "hono/jsx";
import { TEMPLATE_VARIABLES } from "../../schemas/agent";
import { idOf, nameOf } from "./draft";
import type { PlacedProblem } from "./problems";

/** What every field of the agent form reads besides its own value: the problems, by key. */
export interface FormView {
  problems: Map<string, PlacedProblem[]>;
}

const problemsAt = (view: FormView, field: string) => view.problems.get(field) ?? [];

/** The problems placed on a key, under its input; its id is what the input's aria-describedby names. */
export function Problems(props: { view: FormView; field: string }) {
  const list = problemsAt(props.view, props.field);
  if (list.length === 0) return null;
  return (
    <p class="error" id={`${idOf(props.field)}-error`}>
      {list.map((problem, i) => (
        <>
          {i > 0 ? <br /> : null}
          {problem.onGroup ? `${problem.path}: ` : ""}
          {problem.message}
        </>
      ))}
    </p>
  );
}

/** The ids an input is described by: its hint, then its problems. */
function describedBy(view: FormView, field: string, hint: boolean): string | undefined {
  const ids = [hint ? `${idOf(field)}-hint` : "", problemsAt(view, field).length > 0 ? `${idOf(field)}-error` : ""].filter(Boolean);
  return ids.length > 0 ? ids.join(" ") : undefined;
}

interface FieldProps {
  view: FormView;
  field: string;
  label: string;
  value: string;
  hint?: Child;
  required?: boolean;
}

const Label = (props: { field: string; label: string; required?: boolean }) => (
  <label for={idOf(props.field)}>
    {props.label}
    {props.required ? <span class="muted"> (required)</span> : null}
  </label>
);

const Hint = (props: { field: string; hint?: Child }) =>
  props.hint ? (
    <p class="hint" id={`${idOf(props.field)}-hint`}>
      {props.hint}
    </p>
  ) : null;

/** A labelled one-line input or textarea, with its hint and its problems under it. */
export function TextField(props: FieldProps & { multiline?: boolean; type?: "text" | "url" | "number"; placeholder?: string }) {
  const invalid = problemsAt(props.view, props.field).length > 0;
  const common = {
    id: idOf(props.field),
    name: nameOf(props.field),
    placeholder: props.placeholder,
    "aria-describedby": describedBy(props.view, props.field, props.hint !== undefined),
    "aria-invalid": invalid ? "true" : undefined,
  };
  return (
    <div>
      <Label field={props.field} label={props.label} required={props.required} />
      {/* A textarea drops one leading newline, so one is given: what was typed comes back whole. */}
      {props.multiline ? <textarea {...common}>{`\n${props.value}`}</textarea> : <input type={props.type ?? "text"} value={props.value} {...common} />}
      <Hint field={props.field} hint={props.hint} />
      <Problems view={props.view} field={props.field} />
    </div>
  );
}

/** A labelled select; a value that is not among the options is kept as one, so nothing typed is lost. */
export function SelectField(props: FieldProps & { options: readonly (readonly [string, string])[] }) {
  const options = props.options.some(([value]) => value === props.value) ? props.options : [...props.options, [props.value, props.value] as const];
  return (
    <div>
      <Label field={props.field} label={props.label} required={props.required} />
      <select
        id={idOf(props.field)}
        name={nameOf(props.field)}
        aria-describedby={describedBy(props.view, props.field, props.hint !== undefined)}
        aria-invalid={problemsAt(props.view, props.field).length > 0 ? "true" : undefined}
      >
        {options.map(([value, label]) => (
          <option value={value} selected={value === props.value}>
            {label}
          </option>
        ))}
      </select>
      <Hint field={props.field} hint={props.hint} />
      <Problems view={props.view} field={props.field} />
    </div>
  );
}

/** A checkbox inside its label; "on" when checked. */
export function CheckboxField(props: FieldProps) {
  return (
    <div>
      <label>
        <input
          type="checkbox"
          id={idOf(props.field)}
          name={nameOf(props.field)}
          checked={props.value === "on"}
          aria-describedby={describedBy(props.view, props.field, props.hint !== undefined)}
        />{" "}
        {props.label}
      </label>
      <Hint field={props.field} hint={props.hint} />
      <Problems view={props.view} field={props.field} />
    </div>
  );
}

/** The variables a template may use, listed beside each template field. */
export const TemplateVariables = () => (
  <>
    Variables:{" "}
    {TEMPLATE_VARIABLES.map((name, i) => (
      <>
        {i > 0 ? ", " : ""}
        <code>{`{{${name}}}`}</code>
      </>
    ))}
    . <code>{"{{metadata.<key>}}"}</code> and <code>{"{{details.<key>}}"}</code> reach the call's own keys.
  </>
);
