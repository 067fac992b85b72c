import { formFields } from "../form";
import type { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Child } from "hono/jsx";
import type { FieldProblem } from "../../errors";
import type { Agent } from "../../schemas/agent";
import { inStoredYears } from "../../routes/listing";
import { AgentStore } from "../../store/agents";
import type { DashboardEnv } from "../env";
import { Csrf } from "../layout";

/**
 * What the activity pages share: notices carried across a redirect, time and filter inputs,
 * field errors, paging, and the Replay button.
 */

export type DashboardContext = Context<DashboardEnv>;

/** A posted form's fields as strings (the last of a repeated name). */
export const formOf = (c: DashboardContext): Promise<Record<string, string>> => formFields(c.req.raw);

/** The one-line message a redirect carried in `?notice=` (and `&bad` when it reports a failure). */
export function noticeOf(c: DashboardContext): { text: string; bad?: boolean } | undefined {
  const text = c.req.query("notice");
  return text ? { text: text.slice(0, 500), bad: c.req.query("bad") !== undefined } : undefined;
}

/** `path` with a notice for the page it leads to. */
export function withNotice(path: string, text: string, bad = false): string {
  const url = new URL(path, "https://dashboard.invalid");
  url.searchParams.set("notice", text);
  if (bad) url.searchParams.set("bad", "");
  else url.searchParams.delete("bad");
  return `${url.pathname}${url.search}${url.hash}`;
}

/**
 * Where a form asked to go back to: a dashboard path only, so a crafted form cannot turn
 * the redirect into an open one (`//evil.example` or `/\evil.example` are refused). The path
 * is judged as a URL parser resolves it, since the parser drops tabs and line breaks and
 * resolves `..`: `/dashboard/../\t/evil.example` would otherwise come out as `//evil.example`.
 */
export function backTo(value: string | undefined, fallback: string): string {
  if (!value?.startsWith("/dashboard/") || /\/\/|\\|[\t\r\n]/.test(value)) return fallback;
  const url = new URL(value, "https://dashboard.invalid");
  if (url.origin !== "https://dashboard.invalid" || !url.pathname.startsWith("/dashboard/")) return fallback;
  return `${url.pathname}${url.search}${url.hash}`;
}

/** The path and query of the request: what a form on this page names as its way back. */
export const here = (c: DashboardContext) => {
  const url = new URL(c.req.url);
  url.searchParams.delete("notice");
  url.searchParams.delete("bad");
  return `${url.pathname}${url.search}`;
};

/** A stored ISO time as people read it, in UTC, with the exact value for machines. */
export function When(props: { at: string | null | undefined }) {
  if (!props.at) return <span class="muted">—</span>;
  const ms = Date.parse(props.at);
  if (Number.isNaN(ms)) return <span>{props.at}</span>;
  return <time datetime={new Date(ms).toISOString()}>{new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC</time>;
}

/** Milliseconds as a short duration. */
export const millis = (ms: number | null | undefined) => (ms === null || ms === undefined ? "—" : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

/** `datetime-local` without an offset is read as UTC, as the filter's label says. */
const LOCAL_INPUT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?$/;
const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/** A time-range bound typed into a filter: UTC ISO 8601, or null when it is not a time. */
export function timeBoundOf(raw: string): string | null {
  const ms = LOCAL_INPUT.test(raw) ? Date.parse(`${raw}Z`) : WITH_OFFSET.test(raw) ? Date.parse(raw) : Number.NaN;
  return Number.isNaN(ms) || !inStoredYears(ms) ? null : new Date(ms).toISOString();
}

/** A bound as a `datetime-local` input shows it again. */
const asLocalInput = (raw: string | undefined) => {
  if (!raw) return undefined;
  const iso = timeBoundOf(raw);
  return iso ? iso.slice(0, 16) : raw;
};

/**
 * Reads a list page's filters from its query with the API's own schemas: an empty field is no
 * filter, a value the schema refuses is dropped and named, so the page still lists something.
 * `since` and `until` are time bounds.
 */
export function readFilters<S extends Record<string, z.ZodType>>(
  c: DashboardContext,
  shape: S,
): { values: { [K in keyof S]?: z.infer<S[K]> } & { since?: string; until?: string }; raw: Record<string, string>; problems: string[] } {
  const raw: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const name of [...Object.keys(shape), "since", "until"]) {
    const value = c.req.query(name)?.trim();
    if (!value) continue;
    raw[name] = value;
    if (name === "since" || name === "until") {
      const bound = timeBoundOf(value);
      if (bound) values[name] = bound;
      else problems.push(`${name}: not a time`);
      continue;
    }
    const parsed = shape[name]!.safeParse(value);
    if (parsed.success) values[name] = parsed.data;
    else problems.push(`${name}: ${parsed.error.issues[0]?.message ?? "not valid"}`);
  }
  return { values: values as { [K in keyof S]?: z.infer<S[K]> } & { since?: string; until?: string }, raw, problems };
}

/** The notice of a list page: what the redirect carried, else the filters it could not read. */
export function listNotice(c: DashboardContext, problems: string[]) {
  return noticeOf(c) ?? (problems.length > 0 ? { text: `Ignored: ${problems.join("; ")}`, bad: true } : undefined);
}

/** A query string from the non-empty values. */
export function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** A select of fixed options, "any" first. */
export function SelectFilter(props: { name: string; label: string; options: readonly string[]; value?: string }) {
  return (
    <div>
      <label for={`f-${props.name}`}>{props.label}</label>
      <select id={`f-${props.name}`} name={props.name}>
        <option value="">any</option>
        {props.options.map((option) => (
          <option value={option} selected={option === props.value}>
            {option}
          </option>
        ))}
      </select>
    </div>
  );
}

/** An agent filter: free text, suggesting the agents there are. */
export function AgentFilter(props: { agents: Agent[]; value?: string }) {
  return (
    <div>
      <label for="f-agent_id">Agent</label>
      <input id="f-agent_id" name="agent_id" type="text" list="agent-ids" value={props.value} autocomplete="off" />
      <datalist id="agent-ids">
        {props.agents.map((a) => (
          <option value={a.id}>{a.name}</option>
        ))}
      </datalist>
    </div>
  );
}

/** The time-range inputs of a list, read as UTC. */
export function TimeRange(props: { since?: string; until?: string; what: string }) {
  return (
    <>
      <div>
        <label for="f-since">{props.what} from (UTC)</label>
        <input id="f-since" name="since" type="datetime-local" value={asLocalInput(props.since)} />
      </div>
      <div>
        <label for="f-until">{props.what} before (UTC)</label>
        <input id="f-until" name="until" type="datetime-local" value={asLocalInput(props.until)} />
      </div>
    </>
  );
}

/** A GET form of filters, with its buttons. */
export function Filters(props: { action: string; children?: Child }) {
  return (
    <form class="panel filters" method="get" action={props.action} aria-label="Filters">
      {props.children}
      <div class="actions">
        <button type="submit">Filter</button>
        <a class="button secondary" href={props.action}>
          Clear
        </a>
      </div>
    </form>
  );
}

/** The link to the next page of a keyset-paginated list, keeping the filters. */
export function Pager(props: { path: string; filters: Record<string, string>; nextCursor: string | null; paged: boolean }) {
  if (!props.nextCursor && !props.paged) return null;
  return (
    <nav class="actions" aria-label="Pages">
      {props.paged ? (
        <a class="button secondary" href={`${props.path}${query(props.filters)}`}>
          Newest
        </a>
      ) : null}
      {props.nextCursor ? (
        <a class="button secondary" href={`${props.path}${query({ ...props.filters, cursor: props.nextCursor })}`}>
          Older
        </a>
      ) : null}
    </nav>
  );
}

/** POST /dashboard/deliveries/{id}/retry, coming back to `back`. */
export function ReplayButton(props: { deliveryId: string; csrf: string; back: string }) {
  return (
    <form class="inline" method="post" action={`/dashboard/deliveries/${encodeURIComponent(props.deliveryId)}/retry`}>
      <Csrf token={props.csrf} />
      <input type="hidden" name="back" value={props.back} />
      <button type="submit" class="secondary" aria-label={`Replay delivery ${props.deliveryId}`}>
        Replay
      </button>
    </form>
  );
}

/** Deliveries in these states show a Replay button. */
export const REPLAYABLE = new Set(["failed", "gone"]);

/** An agent's id, linking to its page. */
export const AgentLink = (props: { id: string }) => (
  <a class="mono" href={`/dashboard/agents/${encodeURIComponent(props.id)}`}>
    {props.id}
  </a>
);

/** A call's timeline page. */
export const callPath = (callId: string, agentId: string) => `/dashboard/calls/${encodeURIComponent(callId)}?agent_id=${encodeURIComponent(agentId)}`;

/** Up to this many agents are offered in selects and suggestions. */
const AGENTS_LISTED = 200;

/** The agents to offer, through the store the API lists them with. */
export async function agentsToOffer(env: CloudflareBindings): Promise<Agent[]> {
  return (await new AgentStore(env.DB, env.CONFIG_CACHE).list(AGENTS_LISTED)).agents;
}

/**
 * Field problems by the input they belong to. `inputOf` names the input of a problem's
 * pointer segments; problems it cannot place go under "".
 */
export function problemsByInput(problems: FieldProblem[], inputOf: (segments: string[]) => string): Record<string, string[]> {
  const byInput: Record<string, string[]> = {};
  for (const problem of problems) {
    const segments = problem.pointer.split("/").slice(1).map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
    const input = inputOf(segments);
    const depth = input === "" ? 0 : input.split(".").length;
    // A problem deeper than its input (filter[0].op) says where inside it.
    const message = segments.length > depth ? `${problem.path.replace(/^\$\.?/, "")}: ${problem.message}` : problem.message;
    byInput[input] = [...(byInput[input] ?? []), message];
  }
  return byInput;
}

/** A form field: its label, the control, a hint, and its errors, tied together for screen readers. */
export function Field(props: { id: string; label: string; hint?: string; errors?: string[]; children: Child }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint ? (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {props.errors?.length ? (
        <div class="error" id={`${props.id}-error`} role="alert">
          {props.errors.map((message) => (
            <p>{message}</p>
          ))}
        </div>
      ) : null}
    </div>
  );
}

/** The aria attributes of a control whose Field has a hint or errors. */
export const described = (id: string, hint: boolean, errors: string[] | undefined) => ({
  "aria-describedby": [hint ? `${id}-hint` : "", errors?.length ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined,
  "aria-invalid": errors?.length ? "true" : undefined,
});

/** A value as indented JSON, for a `<pre>`. */
export const pretty = (value: unknown) => JSON.stringify(value, null, 2);
