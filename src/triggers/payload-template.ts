/**
 * Mustache over an automation tool's payload: the templates of a trigger's call mapping,
 * schedule and dedupe key. Mustache only parses; rendering is done here, so a name is looked up
 * in the payload's own properties and nothing else (no prototypes, no functions, no partials),
 * and the work a payload can cause is bounded.
 */
import Mustache from "mustache";
import { TemplateError } from "../templates/render";

// Explicit tags so nobody's change to the global `Mustache.tags` affects us.
const TAGS: [string, string] = ["{{", "}}"];
/** The rendered text stops here: trigger fields are a few KiB at most. */
const MAX_OUTPUT = 1_000_000;
/** Token visits per render: sections nested over long lists could otherwise multiply without end. */
const MAX_STEPS = 250_000;

/** A list index as written in a path: no sign, no leading zero. */
const INDEX = /^(0|[1-9]\d{0,8})$/;

// A Writer without a template cache: mustache's default cache is unbounded and keyed by
// template text, which would grow for as long as the isolate lives.
const parser: Mustache.Writer & { templateCache?: Mustache.TemplateCache } = new Mustache.Writer();
parser.templateCache = undefined;

type Spans = Mustache.TemplateSpans;

/**
 * The value at a dotted path of the payload's own properties; a list is entered only by a
 * plain index (`items.0`). Undefined when any step is missing.
 *
 * @example
 * payloadValue({ attendee: { phones: ["+14155550100"] } }, "attendee.phones.0") // "+14155550100"
 * payloadValue({}, "constructor") // undefined
 */
export function payloadValue(payload: unknown, path: string): unknown {
  let current = payload;
  for (const key of path.split(".")) {
    if (Array.isArray(current)) {
      current = INDEX.test(key) ? current[Number(key)] : undefined;
    } else if (typeof current === "object" && current !== null && Object.hasOwn(current, key)) {
      current = (current as Record<string, unknown>)[key];
    } else {
      return undefined;
    }
  }
  return current;
}

/** Syntax check with partials and delimiter changes refused; the tokens otherwise. */
function parse(template: string): Spans {
  let spans: Spans;
  try {
    spans = parser.parse(template, TAGS) as Spans;
  } catch (err) {
    throw new TemplateError(`template syntax error: ${err instanceof Error ? err.message : String(err)}`);
  }
  const check = (tokens: Spans): void => {
    for (const token of tokens) {
      if (token[0] === ">") throw new TemplateError(`partials are not supported ("{{> ${token[1].slice(0, 64)}}}")`);
      if (token[0] === "=") throw new TemplateError("changing delimiters is not supported");
      if (Array.isArray(token[4])) check(token[4]);
    }
  };
  check(spans);
  return spans;
}

/** A name looked up from the innermost section outwards, as mustache does; `.` is the innermost. */
function lookup(stack: readonly unknown[], name: string): unknown {
  if (name === ".") return stack[stack.length - 1];
  for (let i = stack.length - 1; i >= 0; i--) {
    const value = payloadValue(stack[i], name);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** A value as text: objects and lists as their JSON, absent and non-JSON values as "". */
function display(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return "";
}

const JSON_TYPES: ReadonlySet<string> = new Set(["string", "number", "boolean", "object"]);

/** Mustache's idea of false: a section over it renders nothing (and `{{^x}}` renders). */
function isFalsy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0;
  return !value || !JSON_TYPES.has(typeof value);
}

class Output {
  text = "";
  private steps = 0;
  step(): void {
    if (++this.steps > MAX_STEPS) throw new TemplateError(`template could not be rendered: more than ${MAX_STEPS} steps`);
  }
  add(text: string): void {
    this.text += text;
    if (this.text.length > MAX_OUTPUT) throw new TemplateError(`template could not be rendered: longer than ${MAX_OUTPUT} characters`);
  }
}

function renderSpans(spans: Spans, stack: readonly unknown[], out: Output): void {
  for (const token of spans) {
    out.step();
    const [type, name] = token;
    if (type === "text") out.add(name);
    // `{{{x}}}` parses as `&`; without HTML escaping both forms mean the same.
    else if (type === "name" || type === "&") out.add(display(lookup(stack, name)));
    else if (type === "#" || type === "^") {
      const value = lookup(stack, name);
      const children = Array.isArray(token[4]) ? token[4] : [];
      if (type === "^") {
        if (isFalsy(value)) renderSpans(children, stack, out);
      } else if (Array.isArray(value)) {
        for (const item of value) {
          out.step(); // an empty section over a long list still costs a step per item
          renderSpans(children, [...stack, item], out);
        }
      } else if (!isFalsy(value)) {
        // As in mustache: `true` keeps the scope; any other value becomes the innermost.
        renderSpans(children, value === true ? stack : [...stack, value], out);
      }
    }
    // Comments ("!") render nothing; partials and delimiters were refused by parse.
  }
}

/**
 * Renders a mustache template over an arbitrary JSON payload, without HTML escaping.
 * `{{a.b}}` reaches nested keys and `{{items.0}}` list items; an object or list rendered bare
 * becomes its JSON; a name that is not the payload's own (`{{constructor}}`) renders "".
 * Throws TemplateError for a syntax error, a partial, a delimiter change, or a render too
 * large to be a field.
 *
 * @example
 * renderPayloadTemplate("Hi {{attendee.name}}, {{tags}}", { attendee: { name: "Ana" }, tags: ["a"] }) // 'Hi Ana, ["a"]'
 */
export function renderPayloadTemplate(template: string, payload: unknown): string {
  const out = new Output();
  renderSpans(parse(template), [payload], out);
  return out.text;
}
