import Mustache from "mustache";
import { TEMPLATE_VARIABLES } from "../schemas/agent";
import { DETAILS_LIST_FIELDS, OBJECT_VARIABLES, type TemplateContext } from "./context";

export type RenderMode = "html" | "text";

/** A template that cannot be parsed or rendered. */
export class TemplateError extends Error {
  override readonly name = "TemplateError";
}

// Explicit tags so nobody's change to the global `Mustache.tags` affects us.
const TAGS: [string, string] = ["{{", "}}"];

// Own writers without a template cache: mustache's default cache is unbounded
// and keyed by template text, which would grow for as long as the isolate lives.
const textWriter = createWriter();
const htmlWriter = createWriter();
// Caller data is never trusted markup, so in HTML `{{{x}}}` and `{{& x}}` are
// escaped as well; the override lives on this instance only.
htmlWriter.unescapedValue = function (token, context) {
  return this.escapedValue(token, context, { escape: escapeHtml });
};

function createWriter(): Mustache.Writer {
  // `templateCache` is a real Writer field that @types/mustache leaves out.
  const writer: Mustache.Writer & { templateCache?: Mustache.TemplateCache } = new Mustache.Writer();
  writer.templateCache = undefined;
  return writer;
}

/** Escapes the five HTML-significant characters; safe in text and quoted attributes. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c);
}

const HTML_ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

// Existing mustache tags are matched first and kept whole, so only a lone
// `{name}` / `{metadata.order_id}` outside any tag is rewritten.
const BRACES = /(\{\{\{[\s\S]*?\}\}\}|\{\{[\s\S]*?\}\})|(?<!\{)\{([A-Za-z_]\w*(?:\.[\w-]+)*)\}(?!\})/g;

/** `{agent_name}` → `{{agent_name}}`; other braces are left as written. */
export function normalizeBraces(template: string): string {
  return template.replace(BRACES, (match, tag: string | undefined, name: string | undefined) =>
    tag !== undefined || name === undefined ? match : `{{${name}}}`,
  );
}

/** Already-normalised template → mustache tokens, with parse errors as TemplateError. */
function parse(normalized: string): Mustache.TemplateSpans {
  try {
    return textWriter.parse(normalized, TAGS) as Mustache.TemplateSpans;
  } catch (err) {
    throw new TemplateError(`template syntax error: ${errorMessage(err)}`);
  }
}

/**
 * Renders with mustache. `text` never escapes (SMS, subjects, plain bodies);
 * `html` escapes every variable. Throws TemplateError only for syntax errors
 * (or, as a last resort, anything mustache throws for unvalidated input).
 */
export function renderTemplate(template: string, context: TemplateContext, mode: RenderMode): string {
  const normalized = normalizeBraces(template);
  const tokens = parse(normalized);
  const writer = mode === "html" ? htmlWriter : textWriter;
  // The per-call `escape` keeps concurrent renders independent of `Mustache.escape`.
  const config = { tags: TAGS, escape: mode === "html" ? escapeHtml : String };
  try {
    return writer.renderTokens(tokens as string[][], new Mustache.Context(context), undefined, normalized, config);
  } catch (err) {
    throw new TemplateError(`template could not be rendered: ${errorMessage(err)}`);
  }
}

type Token = Mustache.TemplateSpans[number];

const VALUE_TYPES = new Set(["name", "&", "{", "#", "^"]);

/** Every variable name the template uses, in order of first use, without `.`. */
export function referencedVariables(template: string): string[] {
  const names = new Set<string>();
  const walk = (tokens: Mustache.TemplateSpans): void => {
    for (const token of tokens) {
      const [type, value] = token;
      if (VALUE_TYPES.has(type) && value !== ".") names.add(value);
      const children = sectionChildren(token);
      if (children) walk(children);
    }
  };
  walk(parse(normalizeBraces(template)));
  return [...names];
}

function sectionChildren(token: Token): Mustache.TemplateSpans | undefined {
  return (token[0] === "#" || token[0] === "^") && Array.isArray(token[4]) ? token[4] : undefined;
}

// Names that would reach Object.prototype or corrupt mustache's lookup cache
// (a view key "hasOwnProperty" breaks every later lookup), so render could throw.
const RESERVED_SEGMENTS = new Set([...Object.getOwnPropertyNames(Object.prototype), "prototype"]);

const ALLOWED_ROOTS = new Set(TEMPLATE_VARIABLES);
const FREE_SECTION_ROOTS = new Set(OBJECT_VARIABLES);
const MAX_LISTED = 10;

/** The allowed names as shown to a user: object roots as `metadata.*`. */
export function allowedVariablesText(): string {
  const plain = TEMPLATE_VARIABLES.filter((n) => !FREE_SECTION_ROOTS.has(n));
  return [...plain, ...OBJECT_VARIABLES.map((n) => `${n}.*`)].join(", ");
}

/**
 * Checks syntax and names. Names inside `{{#metadata}}`/`{{#details}}` (or a
 * dotted child of them) are relative to that data and free; inside
 * `{{#details_list}}` the row fields `label` and `value` are added.
 * Partials and delimiter changes are refused.
 */
export function validateTemplate(template: string): { ok: true } | { ok: false; message: string } {
  let tokens: Mustache.TemplateSpans;
  try {
    tokens = parse(normalizeBraces(template));
  } catch (err) {
    return { ok: false, message: errorMessage(err) };
  }

  const unknown = new Set<string>();
  const reserved = new Set<string>();
  const problems: string[] = [];

  const walk = (spans: Mustache.TemplateSpans, free: boolean, extra: ReadonlySet<string>): void => {
    for (const token of spans) {
      const [type, name] = token;
      if (type === ">") {
        problems.push(`partials are not supported ("{{> ${clip(name)}}}")`);
        continue;
      }
      if (type === "=") {
        problems.push("changing delimiters is not supported");
        continue;
      }
      if (!VALUE_TYPES.has(type) || name === ".") {
        // Text and comments have no name; `.` is the current item.
      } else if (name.split(".").some((s) => RESERVED_SEGMENTS.has(s))) {
        reserved.add(name);
      } else if (!free && !ALLOWED_ROOTS.has(rootOf(name)) && !extra.has(name)) {
        unknown.add(name);
      }
      const children = sectionChildren(token);
      if (!children) continue;
      // Only `#` pushes its value as the lookup scope; `^` renders in the outer one.
      const opensFree = type === "#" && FREE_SECTION_ROOTS.has(rootOf(name));
      const rows = type === "#" && name === "details_list" ? new Set([...extra, ...DETAILS_LIST_FIELDS]) : extra;
      walk(children, free || opensFree, rows);
    }
  };
  walk(tokens, false, new Set());

  if (reserved.size > 0) problems.unshift(`reserved variable ${quoteList(reserved)}`);
  if (unknown.size > 0) {
    const noun = unknown.size === 1 ? "variable" : "variables";
    problems.unshift(`unknown ${noun} ${quoteList(unknown)}; allowed: ${allowedVariablesText()}`);
  }
  return problems.length === 0 ? { ok: true } : { ok: false, message: [...new Set(problems)].join("; ") };
}

function rootOf(name: string): string {
  const dot = name.indexOf(".");
  return dot === -1 ? name : name.slice(0, dot);
}

function clip(name: string): string {
  return name.length > 64 ? `${name.slice(0, 64)}…` : name;
}

function quoteList(names: ReadonlySet<string>): string {
  const all = [...names];
  const shown = all.slice(0, MAX_LISTED).map((n) => `"${clip(n)}"`);
  if (all.length > MAX_LISTED) shown.push(`and ${all.length - MAX_LISTED} more`);
  return shown.join(", ");
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
