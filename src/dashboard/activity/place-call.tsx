import type { Hono } from "hono";
import { AppError, type FieldProblem, zodProblems } from "../../errors";
import { zonedTimeToUtc } from "../../outbound/calling-hours";
import { fingerprintOf, requestOutboundCall } from "../../outbound/request-call";
import type { Agent } from "../../schemas/agent";
import { OutboundCallRequest } from "../../schemas/outbound";
import { AgentStore } from "../../store/agents";
import { randomToken } from "../session";
import type { DashboardEnv } from "../env";
import { Csrf, Page } from "../layout";
import { type DashboardContext, Field, agentsToOffer, described, formOf, problemsByInput, withNotice } from "./shared";

/** The inputs of the form, as typed. */
type PlaceCallForm = Partial<Record<"agent_id" | "phone_number" | "task" | "caller_name" | "webhook_url" | "at" | "timezone" | "delay_minutes", string>>;

/** Where a problem of the request (named as POST /outbound-calls names it) shows on the form. */
const INPUT_OF: Record<string, string> = { scheduled_at: "at", delay_seconds: "delay_minutes" };
const inputOf = (segments: string[]) => {
  const first = segments[0] ?? "";
  return INPUT_OF[first] ?? first;
};

function timeZones(): string[] {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return ["UTC", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Europe/London", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney"];
  }
}

const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

/**
 * The form as the body POST /outbound-calls takes: a `datetime-local` is read in the chosen
 * time zone (else the agent's calling-hours zone, else UTC) and becomes `scheduled_at`; a delay
 * in minutes becomes `delay_seconds`. Problems of the form itself are named like the API's.
 */
function requestBody(form: PlaceCallForm, agent: Agent | null): { body: Record<string, unknown>; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const text = (name: keyof PlaceCallForm) => {
    const value = form[name]?.trim();
    return value ? value : undefined;
  };
  const body: Record<string, unknown> = {
    agent_id: text("agent_id") ?? "",
    phone_number: form.phone_number ?? "",
    task: text("task"),
    caller_name: text("caller_name"),
    webhook_url: text("webhook_url"),
    timezone: text("timezone"),
  };
  const at = text("at");
  if (at) {
    const m = LOCAL_TIME.exec(at);
    const zone = text("timezone") ?? agent?.voice_tools.outbound_calls?.calling_hours?.timezone ?? "UTC";
    if (!m) problems.push({ path: "$.scheduled_at", pointer: "/scheduled_at", message: "a date and a time, e.g. 2026-03-12T10:30" });
    else {
      try {
        const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
        body.scheduled_at = new Date(zonedTimeToUtc(y, mo, d, h, mi, zone)).toISOString();
      } catch {
        // An unknown zone: the request's own check names it at `timezone`.
      }
    }
  }
  const delay = text("delay_minutes");
  if (delay) {
    const minutes = Number(delay);
    if (!Number.isFinite(minutes) || minutes < 0) problems.push({ path: "$.delay_seconds", pointer: "/delay_seconds", message: "a number of minutes, 0 or more" });
    else body.delay_seconds = Math.round(minutes * 60);
  }
  if (at && delay) problems.push({ path: "$.delay_seconds", pointer: "/delay_seconds", message: "give a time or a delay, not both" });
  return { body: Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)), problems };
}

function PlaceCallPage(props: {
  c: DashboardContext;
  agents: Agent[];
  form: PlaceCallForm;
  errors: Record<string, string[]>;
  notice?: { text: string; bad?: boolean };
}) {
  const { c, form, errors } = props;
  const callers = props.agents.filter((a) => a.voice_tools.outbound_calls);
  const zones = timeZones();
  const input = (name: keyof PlaceCallForm, hint: boolean) => ({ id: `p-${name}`, name, ...described(`p-${name}`, hint, errors[name]) });
  return (
    <Page title="Place a call" section="outbound" nonce={c.var.nonce} csrf={c.var.csrf} notice={props.notice}>
      <p>
        <a href="/dashboard/outbound-calls">← Outbound calls</a>
      </p>
      <h1>Place a call</h1>
      <form class="panel" method="post" action="/dashboard/outbound-calls" novalidate>
        <Csrf token={c.var.csrf} />
        {/* One key per form: submitting it twice places one call (as an Idempotency-Key does). */}
        <input type="hidden" name="idempotency_key" value={`dashboard-${randomToken()}`} />
        {errors[""] ? (
          <div class="error" role="alert">
            {errors[""].map((m) => (
              <p>{m}</p>
            ))}
          </div>
        ) : null}
        <Field id="p-agent_id" label="Agent" hint="Agents with an outbound platform (voice_tools.outbound_calls)." errors={errors.agent_id}>
          <select {...input("agent_id", true)} required>
            <option value="">Choose an agent</option>
            {callers.map((a) => (
              <option value={a.id} selected={a.id === form.agent_id}>
                {a.name} ({a.id}, {a.voice_tools.outbound_calls?.platform.type})
              </option>
            ))}
          </select>
        </Field>
        <Field id="p-phone_number" label="Phone number" hint="E.164 (+14155551234), or a national number in the agent's country." errors={errors.phone_number}>
          <input {...input("phone_number", true)} type="tel" autocomplete="off" required value={form.phone_number} />
        </Field>
        <Field id="p-caller_name" label="Name of the person called" errors={errors.caller_name}>
          <input {...input("caller_name", false)} type="text" value={form.caller_name} />
        </Field>
        <Field id="p-task" label="Task" hint="What the agent should do on the call." errors={errors.task}>
          <textarea {...input("task", true)}>{form.task ?? ""}</textarea>
        </Field>
        <Field id="p-webhook_url" label="Callback URL (optional)" hint="Receives the signed outcome once the call is final." errors={errors.webhook_url}>
          <input {...input("webhook_url", true)} type="url" value={form.webhook_url} />
        </Field>
        <fieldset>
          <legend>When</legend>
          <p class="hint">Leave both empty to call now. Calling hours still apply.</p>
          <Field id="p-at" label="At" hint="Read in the time zone below." errors={errors.at}>
            <input {...input("at", true)} type="datetime-local" value={form.at} />
          </Field>
          <Field
            id="p-timezone"
            label="Callee's time zone"
            hint="Reads the time above and the agent's calling hours; empty: the calling hours' own zone (UTC without one)."
            errors={errors.timezone}
          >
            <select {...input("timezone", true)}>
              <option value="">The agent's calling-hours zone</option>
              {zones.map((zone) => (
                <option value={zone} selected={zone === form.timezone}>
                  {zone}
                </option>
              ))}
            </select>
          </Field>
          <Field id="p-delay_minutes" label="Or after a delay (minutes)" errors={errors.delay_minutes}>
            <input {...input("delay_minutes", false)} type="number" min="0" step="1" value={form.delay_minutes} />
          </Field>
        </fieldset>
        <div class="actions">
          <button type="submit">Place the call</button>
        </div>
      </form>
    </Page>
  );
}

/** The Place a call form, which requests the call exactly as POST /outbound-calls does. */
export function registerPlaceCallPages(dashboard: Hono<DashboardEnv>) {
  dashboard.get("/outbound-calls/new", async (c) => {
    const agentId = c.req.query("agent_id");
    return c.html(<PlaceCallPage c={c} agents={await agentsToOffer(c.env)} form={{ agent_id: agentId }} errors={{}} />);
  });

  dashboard.post("/outbound-calls", async (c) => {
    const fields = await formOf(c);
    const form: PlaceCallForm = fields;
    const again = async (problems: FieldProblem[], notice: { text: string; bad: true }, status: 409 | 422 | 503) =>
      c.html(<PlaceCallPage c={c} agents={await agentsToOffer(c.env)} form={form} errors={problemsByInput(problems, inputOf)} notice={notice} />, status);

    const agentId = form.agent_id?.trim();
    const agent = agentId ? await new AgentStore(c.env.DB, c.env.CONFIG_CACHE).get(agentId) : null;
    const { body, problems } = requestBody(form, agent);
    const parsed = OutboundCallRequest.safeParse(body);
    const all = [...problems, ...(parsed.success ? [] : zodProblems(parsed.error))];
    if (!parsed.success || all.length > 0) return again(all, { text: "The call cannot be placed: see the fields below.", bad: true }, 422);

    // From here, the steps of POST /outbound-calls.
    const request = parsed.data;
    const now = Date.now();
    const dueAt = request.scheduled_at ? Date.parse(request.scheduled_at) : now + (request.delay_seconds ?? 0) * 1000;
    const { agent_id, scheduled_at: _at, delay_seconds: _delay, ...callFields } = request;
    const key = fields.idempotency_key?.trim();
    try {
      const result = await requestOutboundCall(c.env, {
        agent_id,
        trigger_id: null,
        origin: new URL(c.req.url).origin,
        fields: callFields,
        dueAt,
        fingerprint: await fingerprintOf(request),
        ...(key && key.length <= 255 ? { key: { kind: "idempotency" as const, value: key } } : {}),
      });
      if (result.kind === "conflict") {
        return again([], { text: "This form already placed another call: it has been reset, submit it again to place this one.", bad: true }, 409);
      }
      const when = result.call.status === "scheduled" && result.call.scheduled_for ? `scheduled for ${result.call.scheduled_for}` : result.call.status;
      const text = result.kind === "replayed" ? `Already requested: ${when}.` : `Call requested: ${when}.`;
      return c.redirect(withNotice(`/dashboard/outbound-calls/${result.call.id}`, text), 303);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      if (err.code === "validation_failed") return again(err.errors, { text: "The call cannot be placed: see the fields below.", bad: true }, 422);
      if (err.code === "misconfigured") return again([], { text: err.message, bad: true }, 503);
      throw err;
    }
  });
}
