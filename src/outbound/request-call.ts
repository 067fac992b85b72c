import { readConfig } from "../config";
import { AppError, type FieldProblem, fieldProblem, validationFailed } from "../errors";
import { ledgerFor } from "../ledger/client";
import { normalisePhone } from "../lib/phone";
import type { DialerType, OutboundCall, OutboundCallFields } from "../schemas/outbound";
import { checkTargetUrl } from "../security/ssrf";
import { AgentStore } from "../store/agents";
import { outboundCall, outboundCallId } from "./client";
import { DEDUPE_WINDOW_MS } from "./state";
import { dialerFor, missingSetting } from "./dialers";
import type { CreateResult } from "./outbound-call";

/** How far ahead a call may be scheduled: an alarm has no limit, but a call a year out is a mistake more often than a plan. */
const MAX_HORIZON_MS = 366 * 86_400_000;

export interface CallRequest {
  agent_id: string;
  trigger_id: string | null;
  fields: OutboundCallFields;
  /** The relay's origin as this request reached it (for platforms that take a webhook URL per call). */
  origin: string;
  /** When the call is due (epoch ms), before calling hours are applied. */
  dueAt: number;
  /** Identifies the request's content: an Idempotency-Key repeat must match it. */
  fingerprint: string;
  /** Makes repeats meet: an Idempotency-Key (replayed) or a trigger's rendered dedupe key (duplicate). */
  key?: { kind: "idempotency"; value: string } | { kind: "dedupe"; value: string };
  /** Where a field's problem points: `phone_number` in an API body, `call.phone_number` for a trigger's mapping. */
  pathOf?: (field: string) => (string | number)[];
  /** Where a due time too far ahead points: `scheduled_at` in an API body, `schedule` for a trigger. */
  schedulePath?: (string | number)[];
}

/**
 * The one way an outbound call is requested, from `POST /outbound-calls` and from every
 * trigger: checks what the agent's settings and the deployment allow, normalises the number,
 * and creates the call's object (or meets the earlier request with the same key).
 */
export async function requestOutboundCall(env: CloudflareBindings, input: CallRequest): Promise<CreateResult> {
  const config = readConfig(env);
  const pathOf = input.pathOf ?? ((field: string) => [field]);
  const agent = await new AgentStore(env.DB, env.CONFIG_CACHE).get(input.agent_id);
  if (!agent && input.trigger_id) {
    // Nothing the event's sender can fix: the trigger names an agent deleted since.
    throw new AppError("conflict", `the trigger's agent "${input.agent_id}" no longer exists: point the trigger at another agent or disable it (PATCH /triggers/${input.trigger_id})`);
  }
  if (!agent) throw validationFailed("unknown agent", [fieldProblem(["agent_id"], `no agent "${input.agent_id}"`)]);
  const settings = agent.voice_tools.outbound_calls;
  if (!settings) {
    throw validationFailed("the agent places no calls", [
      fieldProblem(["agent_id"], `agent "${agent.id}" has no voice_tools.outbound_calls: set its platform first (PATCH /agents/${agent.id})`),
    ]);
  }
  checkPlatformReady(env, settings.platform.type, config.allowSimulator);

  const problems: FieldProblem[] = [];
  const country = settings.default_country ?? agent.default_country ?? config.defaultCountry;
  const phone = normalisePhone(input.fields.phone_number, country);
  if (!phone.ok) problems.push(fieldProblem(pathOf("phone_number"), `not a number the platform can call: ${phone.reason}`));
  const webhookUrl = input.fields.webhook_url;
  if (webhookUrl) {
    const target = checkTargetUrl(webhookUrl, { allowPrivate: config.allowPrivateTargets });
    if (!target.ok) problems.push(fieldProblem(pathOf("webhook_url"), target.reason));
  }
  if (input.dueAt > Date.now() + MAX_HORIZON_MS) {
    problems.push(fieldProblem(input.schedulePath ?? ["scheduled_at"], "more than a year ahead: calls are scheduled at most 366 days out"));
  }
  if (!phone.ok || problems.length > 0) throw validationFailed("the call cannot be placed", problems);

  const id = await outboundCallId(input.key ? `${input.key.kind}\n${input.key.value}` : undefined);
  const now = new Date().toISOString();
  return outboundCall(env, id).create(
    {
      id,
      agent_id: agent.id,
      trigger_id: input.trigger_id,
      fingerprint: input.fingerprint,
      relay_origin: input.origin,
      agent,
      settings,
      requested_at: now,
      request: {
        phone_number: phone.e164,
        task: input.fields.task ?? null,
        caller_name: input.fields.caller_name ?? null,
        webhook_url: webhookUrl ?? null,
        metadata: input.fields.metadata ?? {},
        timezone: input.fields.timezone ?? null,
      },
    },
    input.dueAt,
    { repeat: input.key?.kind === "dedupe" ? "dedupe" : "idempotent", dedupeWindowMs: DEDUPE_WINDOW_MS },
  );
}

/** A platform without its API key, or the simulator where it is not allowed, is a deployment problem (503). */
function checkPlatformReady(env: CloudflareBindings, type: DialerType, allowSimulator: boolean): void {
  if (type === "simulator") {
    if (!allowSimulator) throw new AppError("misconfigured", "the simulator platform places no real call and is refused unless ALLOW_SIMULATOR=true");
    return;
  }
  const adapter = dialerFor(type);
  const setting = adapter && missingSetting(adapter, env as unknown as Record<string, unknown>);
  if (setting) {
    throw new AppError("misconfigured", `${type} calls need ${setting}: set it with \`wrangler secret put ${setting}\``);
  }
}

/** SHA-256 of a value's JSON, hex: what identifies a request's content. */
export async function fingerprintOf(value: unknown): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(value)));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The call with its callback's delivery, read from the delivery ledger that runs it: the
 * first action of the hand-over when there is a webhook_url, the rest the fallback.
 */
export async function withDeliveries(env: CloudflareBindings, call: OutboundCall, handedActions: number): Promise<OutboundCall> {
  if (handedActions === 0) return call;
  const snapshot = await ledgerFor(env, call.agent_id, call.id).snapshot();
  if (!snapshot) return call;
  const [first, ...rest] = snapshot.actions;
  const callback =
    call.webhook_url && first
      ? { delivery_id: first.id, status: first.status, attempts: first.attempts, last_status: first.last_status, last_error: first.last_error }
      : null;
  const fallback = (call.webhook_url ? rest : snapshot.actions).map((a) => a.id);
  return { ...call, callback, fallback_delivery_ids: fallback };
}
