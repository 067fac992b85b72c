import { type FieldProblem, fieldProblem } from "../errors";
import { checkTargetUrl } from "../security/ssrf";
import { BUILTIN_TEMPLATES } from "../templates/builtin";
import { validateTemplate } from "../templates/render";

/** Which fields of each action are templates, for validation on save. */
const TEMPLATE_FIELDS = {
  sms: ["to", "template"],
  email: ["to", "subject", "body"],
  task: ["title", "notes"],
  webhook: [],
} as const;

type Loose = Record<string, unknown> | undefined;
const isKnownType = (t: unknown): t is keyof typeof TEMPLATE_FIELDS => typeof t === "string" && t in TEMPLATE_FIELDS;

export interface CheckOptions {
  allowPrivateTargets: boolean;
  /** ALLOW_SIMULATOR: the `simulator` outbound platform may be configured. */
  allowSimulator?: boolean;
}

/** The problems of one list of actions (the follow-up's, or outbound calls' fallback), at `path`. */
function checkActions(list: unknown, path: readonly (string | number)[], templates: Record<string, Loose> | undefined, options: CheckOptions): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const actions = Array.isArray(list) ? (list as Loose[]) : [];
  actions.forEach((action, i) => {
    if (!action || !isKnownType(action.type)) return;
    const at = (field: string) => [...path, i, field];
    for (const field of TEMPLATE_FIELDS[action.type]) {
      const template = action[field];
      if (typeof template !== "string") continue;
      const result = validateTemplate(template);
      if (!result.ok) problems.push(fieldProblem(at(field), result.message));
    }
    const known = (name: string) => Object.hasOwn(BUILTIN_TEMPLATES, name) || (templates !== undefined && Object.hasOwn(templates, name));
    if (action.type === "email" && typeof action.body_template === "string" && !known(action.body_template)) {
      const available = [...Object.keys(BUILTIN_TEMPLATES), ...Object.keys(templates ?? {})];
      problems.push(fieldProblem(at("body_template"), `unknown template; available: ${available.join(", ")}`));
    }
    if (action.type === "webhook" && typeof action.url === "string" && URL.canParse(action.url)) {
      const target = checkTargetUrl(action.url, { allowPrivate: options.allowPrivateTargets });
      if (!target.ok) problems.push(fieldProblem(at("url"), target.reason));
    }
  });
  return problems;
}

/**
 * Checks what a schema cannot: templates name only known variables, built-in bodies exist,
 * webhook targets are not private addresses. It reads the config loosely, so that it can run
 * beside the schema and a user sees every problem of a config at once, each with its path.
 */
export function checkAgentConfig(config: unknown, options: CheckOptions): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const templates = (config as Loose)?.templates as Record<string, Loose> | undefined;
  for (const [name, template] of Object.entries(templates && typeof templates === "object" ? templates : {})) {
    for (const part of ["html", "text"] as const) {
      const source = template?.[part];
      if (typeof source !== "string") continue;
      const result = validateTemplate(source);
      if (!result.ok) problems.push(fieldProblem(["templates", name, part], result.message));
    }
  }
  const voiceTools = (config as Loose)?.voice_tools as Loose;
  const followUp = voiceTools?.post_call_follow_up as Loose;
  problems.push(...checkActions(followUp?.actions, ["voice_tools", "post_call_follow_up", "actions"], templates, options));
  const outbound = voiceTools?.outbound_calls as Loose;
  if (outbound) {
    const at = ["voice_tools", "outbound_calls"];
    problems.push(...checkActions(outbound.fallback_actions, [...at, "fallback_actions"], templates, options));
    const platform = outbound.platform as Loose;
    if (platform?.type === "simulator" && !options.allowSimulator) {
      problems.push(fieldProblem([...at, "platform", "type"], "the simulator places no real call: it is refused unless ALLOW_SIMULATOR=true"));
    }
    if (platform?.type === "http" && typeof platform.url === "string" && URL.canParse(platform.url)) {
      const target = checkTargetUrl(platform.url, { allowPrivate: options.allowPrivateTargets });
      if (!target.ok) problems.push(fieldProblem([...at, "platform", "url"], target.reason));
    }
  }
  return problems;
}
