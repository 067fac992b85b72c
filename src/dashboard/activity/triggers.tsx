import type { Hono } from "hono";
import { AppError, problemBody } from "../../errors";
import type { OutboundCall } from "../../schemas/outbound";
import { OutboundCallIndex } from "../../store/outbound-calls";
import { type StoredTrigger, TriggerStore } from "../../store/triggers";
import { fireTrigger } from "../../triggers/fire-trigger";
import type { DashboardEnv } from "../env";
import { Csrf, Page, StatusBadge } from "../layout";
import { AgentLink, type DashboardContext, When, agentsToOffer, formOf, noticeOf, pretty, problemsByInput } from "./shared";
import { type TriggerForm, TriggerFormFields, checkedTrigger, triggerCandidate, triggerFormOf, triggerInputOf } from "./trigger-form";
import { Copyable, SecretOnce, SetupSnippets } from "./trigger-setup";

/** The URL to paste into the automation tool, as the API shows it: this request's origin. */
const hookUrl = (c: DashboardContext, id: string) => `${new URL(c.req.url).origin}/hooks/${id}`;
const triggerPath = (id: string) => `/dashboard/triggers/${encodeURIComponent(id)}`;

/** The seed's payload, with an event id of its own and the simulator's outcome, for "Send test event". */
export function samplePayload() {
  return {
    phone_number: "+14155551234",
    task: "Confirm the appointment for Dental cleaning on March 12 at 10:30. If they cannot come, offer to reschedule.",
    caller_name: "Ana Silva",
    metadata: { event_id: `test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`, simulate_outcome: "completed" },
  };
}

/** What POST /hooks/{id} would have answered the tool, with the status it would carry. */
interface TestAnswer {
  payload: unknown;
  status: number;
  body: unknown;
  call?: OutboundCall;
}

async function sendTestEvent(c: DashboardContext, trigger: StoredTrigger): Promise<TestAnswer> {
  const payload = samplePayload();
  try {
    const outcome = await fireTrigger(c.env, trigger, payload, { now: Date.now(), origin: new URL(c.req.url).origin });
    switch (outcome.kind) {
      case "filtered":
        return { payload, status: 200, body: { status: "filtered", reason: outcome.reason } };
      case "duplicate":
        return { payload, status: 200, body: { status: "duplicate", id: outcome.call.id }, call: outcome.call };
      case "conflict":
      case "replayed":
        return { payload, status: 409, body: { detail: "this event met an earlier request with the same key" } };
      default:
        return { payload, status: 202, body: outcome.call, call: outcome.call };
    }
  } catch (err) {
    if (err instanceof AppError) return { payload, status: err.status, body: problemBody(err) };
    throw err;
  }
}

function TriggerSummary(props: { trigger: StoredTrigger }) {
  const t = props.trigger;
  const schedule = !t.schedule ? "now" : "delay_seconds" in t.schedule ? `after ${t.schedule.delay_seconds} s` : `at ${t.schedule.at} ${t.schedule.offset_seconds >= 0 ? "+" : ""}${t.schedule.offset_seconds} s`;
  return (
    <dl class="grid">
      <div>
        <dt class="muted">Agent</dt>
        <dd>
          <AgentLink id={t.agent_id} />
        </dd>
      </div>
      <div>
        <dt class="muted">Enabled</dt>
        <dd>{t.enabled ? <span class="badge ok">enabled</span> : <span class="badge">disabled</span>}</dd>
      </div>
      <div>
        <dt class="muted">Schedule</dt>
        <dd>{schedule}</dd>
      </div>
      <div>
        <dt class="muted">Dedupe key</dt>
        <dd class="mono">{t.dedupe_key ?? "none: every post places a call"}</dd>
      </div>
    </dl>
  );
}

function TriggerPage(props: { c: DashboardContext; trigger: StoredTrigger; calls: OutboundCall[]; issued?: { secret: string; expires: string | null }; test?: TestAnswer }) {
  const { c, trigger } = props;
  const url = hookUrl(c, trigger.id);
  const path = triggerPath(trigger.id);
  return (
    <Page title={`Trigger ${trigger.name}`} section="triggers" nonce={c.var.nonce} csrf={c.var.csrf} notice={noticeOf(c)}>
      <p>
        <a href="/dashboard/triggers">← Triggers</a>
      </p>
      <h1>{trigger.name}</h1>
      {props.issued ? <SecretOnce url={url} secret={props.issued.secret} expires={props.issued.expires} /> : null}
      <div class="panel">
        <TriggerSummary trigger={trigger} />
        <Copyable label="URL" id="trigger-url" value={url} />
        <p class="hint">The secret is shown only when the trigger is created and when it is rotated.</p>
        <details>
          <summary>Mapping and filter</summary>
          <pre>{pretty({ call: trigger.call ?? null, filter: trigger.filter ?? null, schedule: trigger.schedule ?? null })}</pre>
        </details>
        <div class="actions">
          <a class="button secondary" href={`${path}/edit`}>
            Edit
          </a>
          <form method="post" action={`${path}/delete`} data-confirm="Delete this trigger? Its URL stops working at once.">
            <Csrf token={c.var.csrf} />
            <button type="submit" class="danger">
              Delete
            </button>
          </form>
          <form method="post" action={`${path}/rotate`} data-confirm="Issue a new secret? The current one keeps working for 24 hours.">
            <Csrf token={c.var.csrf} />
            <button type="submit" class="secondary">
              Rotate the secret
            </button>
          </form>
          <form method="post" action={`${path}/test`} data-confirm="Send a test event? It places a call (use an agent on the simulator to dial nobody).">
            <Csrf token={c.var.csrf} />
            <button type="submit">Send test event</button>
          </form>
        </div>
      </div>
      {props.test ? (
        <section class="panel" aria-labelledby="test-heading">
          <h2 id="test-heading">Test event: answered {props.test.status}</h2>
          {props.test.call ? (
            <p>
              Outbound call <a href={`/dashboard/outbound-calls/${props.test.call.id}`}>{props.test.call.id}</a> <StatusBadge status={props.test.call.status} />
            </p>
          ) : null}
          <div class="grid">
            <div>
              <h3>Sent</h3>
              <pre>{pretty(props.test.payload)}</pre>
            </div>
            <div>
              <h3>Answer</h3>
              <pre>{pretty(props.test.body)}</pre>
            </div>
          </div>
        </section>
      ) : (
        <details class="panel">
          <summary>The test event's payload</summary>
          <pre>{pretty({ ...samplePayload(), metadata: { event_id: "test_<random>", simulate_outcome: "completed" } })}</pre>
        </details>
      )}
      <SetupSnippets url={url} secret={props.issued?.secret} />
      <h2>Recent calls</h2>
      <div class="panel">
        {props.calls.length === 0 ? (
          <p class="muted">No call yet.</p>
        ) : (
          <ul>
            {props.calls.map((call) => (
              <li>
                <When at={call.requested_at} /> <a href={`/dashboard/outbound-calls/${call.id}`}>{call.id}</a> <StatusBadge status={call.status} /> {call.outcome ?? ""}
              </li>
            ))}
          </ul>
        )}
        <p>
          <a href={`/dashboard/outbound-calls?trigger_id=${encodeURIComponent(trigger.id)}`}>Every call of this trigger</a>
        </p>
      </div>
    </Page>
  );
}

async function found(env: CloudflareBindings, id: string): Promise<StoredTrigger> {
  const trigger = id.length <= 128 ? await new TriggerStore(env.DB).get(id) : null;
  if (!trigger) throw new AppError("not_found", `no trigger "${id}"`);
  return trigger;
}

const recentCalls = async (env: CloudflareBindings, triggerId: string) => (await new OutboundCallIndex(env.DB).list({ trigger_id: triggerId, limit: 10 }))?.calls ?? [];

/** Triggers: the list, the create form, one trigger with its secret's rotation, setup and test event. */
export function registerTriggerPages(dashboard: Hono<DashboardEnv>) {
  dashboard.get("/triggers", async (c) => {
    const triggers = await new TriggerStore(c.env.DB).list();
    return c.html(
      <Page title="Triggers" section="triggers" nonce={c.var.nonce} csrf={c.var.csrf} notice={noticeOf(c)}>
        <h1>Triggers</h1>
        <p class="muted">A trigger is a URL Zapier, Make, n8n or Power Automate posts to; each event becomes an outbound call.</p>
        <div class="actions">
          <a class="button" href="/dashboard/triggers/new">
            New trigger
          </a>
        </div>
        <div class="panel table-wrap">
          {triggers.length === 0 ? (
            <p class="muted">No trigger yet.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Agent</th>
                  <th scope="col">State</th>
                  <th scope="col">URL</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {triggers.map((t) => (
                  <tr>
                    <td>
                      <a href={triggerPath(t.id)}>{t.name}</a>
                      <div class="hint mono">{t.id}</div>
                    </td>
                    <td>
                      <AgentLink id={t.agent_id} />
                    </td>
                    <td>{t.enabled ? <span class="badge ok">enabled</span> : <span class="badge">disabled</span>}</td>
                    <td>
                      <span class="mono">{hookUrl(c, t.id)}</span>{" "}
                      <button type="button" class="secondary" data-copy={hookUrl(c, t.id)} aria-label={`Copy the URL of ${t.name}`}>
                        Copy
                      </button>
                    </td>
                    <td>
                      <When at={t.created_at} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </Page>,
    );
  });

  dashboard.get("/triggers/new", async (c) => {
    const agents = await agentsToOffer(c.env);
    return c.html(
      <Page title="New trigger" section="triggers" nonce={c.var.nonce} csrf={c.var.csrf}>
        <p>
          <a href="/dashboard/triggers">← Triggers</a>
        </p>
        <h1>New trigger</h1>
        <TriggerFormFields form={{ enabled: "on", agent_id: c.req.query("agent_id") }} errors={{}} agents={agents} csrf={c.var.csrf} />
      </Page>,
    );
  });

  // As POST /triggers: the same checks, then the store issues the URL and the secret, shown here once.
  dashboard.post("/triggers", async (c) => {
    const form = (await formOf(c)) as TriggerForm;
    const { candidate, problems } = triggerCandidate(form);
    const checked = await checkedTrigger(c.env, candidate, problems);
    if (Array.isArray(checked)) {
      return c.html(
        <Page title="New trigger" section="triggers" nonce={c.var.nonce} csrf={c.var.csrf} notice={{ text: "The trigger is invalid: see the fields below.", bad: true }}>
          <p>
            <a href="/dashboard/triggers">← Triggers</a>
          </p>
          <h1>New trigger</h1>
          <TriggerFormFields form={form} errors={problemsByInput(checked, triggerInputOf)} agents={await agentsToOffer(c.env)} csrf={c.var.csrf} />
        </Page>,
        422,
      );
    }
    const { trigger, secret } = await new TriggerStore(c.env.DB).create(checked, new Date());
    return c.html(<TriggerPage c={c} trigger={trigger} calls={[]} issued={{ secret, expires: null }} />, 201);
  });

  dashboard.get("/triggers/:id", async (c) => {
    const trigger = await found(c.env, c.req.param("id"));
    return c.html(<TriggerPage c={c} trigger={trigger} calls={await recentCalls(c.env, trigger.id)} />);
  });

  // As POST /triggers/{id}/rotate-secret: the new secret, shown on this answer only.
  dashboard.post("/triggers/:id/rotate", async (c) => {
    const trigger = await found(c.env, c.req.param("id"));
    const issued = await new TriggerStore(c.env.DB).rotate(trigger.id, new Date());
    if (!issued) throw new AppError("not_found", `no trigger "${trigger.id}"`);
    return c.html(
      <TriggerPage c={c} trigger={trigger} calls={await recentCalls(c.env, trigger.id)} issued={{ secret: issued.secret, expires: issued.previous_secret_expires_at }} />,
    );
  });

  // Editing replaces the whole config, which is what PATCH /triggers/{id} does with every field
  // given: the same checks, the same store; the URL and the secret stay.
  const editPage = (c: DashboardContext, id: string, form: TriggerForm, errors: Record<string, string[]>, agents: Awaited<ReturnType<typeof agentsToOffer>>) => (
    <Page
      title="Edit trigger"
      section="triggers"
      nonce={c.var.nonce}
      csrf={c.var.csrf}
      notice={Object.keys(errors).length > 0 ? { text: "The trigger is invalid: see the fields below.", bad: true } : undefined}
    >
      <p>
        <a href={triggerPath(id)}>← The trigger</a>
      </p>
      <h1>Edit trigger</h1>
      <TriggerFormFields form={form} errors={errors} agents={agents} csrf={c.var.csrf} action={`${triggerPath(id)}/edit`} submit="Save the trigger" />
    </Page>
  );

  dashboard.get("/triggers/:id/edit", async (c) => {
    const trigger = await found(c.env, c.req.param("id"));
    return c.html(editPage(c, trigger.id, triggerFormOf(trigger), {}, await agentsToOffer(c.env)));
  });

  dashboard.post("/triggers/:id/edit", async (c) => {
    const trigger = await found(c.env, c.req.param("id"));
    const form = (await formOf(c)) as TriggerForm;
    const { candidate, problems } = triggerCandidate(form);
    const checked = await checkedTrigger(c.env, candidate, problems);
    if (Array.isArray(checked)) return c.html(editPage(c, trigger.id, form, problemsByInput(checked, triggerInputOf), await agentsToOffer(c.env)), 422);
    await new TriggerStore(c.env.DB).update(trigger.id, checked, new Date());
    return c.redirect(`${triggerPath(trigger.id)}?notice=${encodeURIComponent("Saved")}`, 303);
  });

  dashboard.post("/triggers/:id/delete", async (c) => {
    const trigger = await found(c.env, c.req.param("id"));
    await new TriggerStore(c.env.DB).delete(trigger.id);
    return c.redirect(`/dashboard/triggers?notice=${encodeURIComponent(`Deleted ${trigger.name}`)}`, 303);
  });

  // The sample payload through fireTrigger, as POST /hooks/{id} runs an event; the answer is shown.
  dashboard.post("/triggers/:id/test", async (c) => {
    const trigger = await found(c.env, c.req.param("id"));
    const test = await sendTestEvent(c, trigger);
    return c.html(<TriggerPage c={c} trigger={trigger} calls={await recentCalls(c.env, trigger.id)} test={test} />);
  });
}
