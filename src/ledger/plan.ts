import type { Action, Agent } from "../schemas/agent";

/** A queue message: a reference to one action of one call, never the call's data itself. */
export interface Job {
  delivery_id: string;
  agent_id: string;
  call_id: string;
  action_index: number;
  /** Bumped whenever the ledger re-sends a job, so a stale copy can be told apart and dropped. */
  generation: number;
}

/**
 * What one queue message carries: a job, or the jobs of one call that fall due together (a
 * call's actions at acceptance). A three-action call then costs one message, one claim and one
 * record instead of three of each; each action is still claimed, sent and recorded on its own.
 */
export type JobMessage = Job | Job[];

/** The jobs in a message, or null for a body nothing here sends. */
export function jobsIn(body: unknown): Job[] | null {
  const jobs: unknown[] = Array.isArray(body) ? body : [body];
  if (jobs.length === 0 || !jobs.every(isJob)) return null;
  const [first] = jobs;
  return jobs.every((j) => j.agent_id === first!.agent_id && j.call_id === first!.call_id) ? jobs : null;
}

function isJob(body: unknown): body is Job {
  const j = body as Partial<Job> | null;
  return (
    typeof j === "object" && j !== null &&
    typeof j.agent_id === "string" && typeof j.call_id === "string" &&
    typeof j.action_index === "number" && typeof j.generation === "number"
  );
}

/**
 * Packs jobs into messages: those due at the same moment share one (a single job travels as
 * itself, as every job did before messages could carry several).
 */
export function packJobs(jobs: { job: Job; delaySeconds: number }[]): { body: JobMessage; delaySeconds: number }[] {
  const byDelay = new Map<number, Job[]>();
  for (const { job, delaySeconds } of jobs) {
    const group = byDelay.get(delaySeconds);
    if (group) group.push(job);
    else byDelay.set(delaySeconds, [job]);
  }
  return [...byDelay].map(([delaySeconds, group]) => ({ body: group.length === 1 ? group[0]! : group, delaySeconds }));
}

/** accepted: actions planned; unrouted: no such agent; disabled: its follow-up is off; no_actions: it has none. */
export type CallStatus = "accepted" | "unrouted" | "disabled" | "no_actions";

export interface FollowUpPlan {
  status: CallStatus;
  /** Every configured action; those with `skip` are recorded as skipped and never sent. */
  actions: { action: Action; skip?: string }[];
  /** Why nothing will run, when nothing will. */
  reason: string | null;
}

/** Outcomes of a call that never connected: actions without `when` do not run for them. */
export const NOT_CONNECTED: ReadonlySet<string> = new Set(["no_answer", "busy", "failed"]);

/** Why an action does not run for a call with this outcome, or undefined when it does. */
export function skipReason(action: Action, outcome: string | null | undefined): string | undefined {
  if (action.when) {
    if (outcome && action.when.includes(outcome)) return undefined;
    return `outcome ${outcome ? `"${outcome}"` : "unknown"} is not one of when: ${action.when.join(", ")}`;
  }
  if (outcome && NOT_CONNECTED.has(outcome)) {
    return `the call did not connect (outcome "${outcome}"); list the outcome in "when" to run for it`;
  }
  return undefined;
}

/** Decides which actions a call-ended event runs, from the agent's config at acceptance. */
export function planFollowUp(agent: Agent | null, outcome?: string | null): FollowUpPlan {
  if (!agent) return { status: "unrouted", actions: [], reason: "unknown agent" };
  const followUp = agent.voice_tools.post_call_follow_up;
  if (!followUp.enabled) return { status: "disabled", actions: [], reason: "post-call follow-up is disabled" };
  if (followUp.actions.length === 0) return { status: "no_actions", actions: [], reason: "no actions configured" };
  return {
    status: "accepted",
    actions: followUp.actions.map((action) => {
      const skip = skipReason(action, outcome);
      return skip ? { action, skip } : { action };
    }),
    reason: null,
  };
}

/** A plan of given actions, each run whatever the outcome (an outbound call's callback and fallback). */
export function explicitPlan(actions: readonly Action[]): FollowUpPlan {
  if (actions.length === 0) return { status: "no_actions", actions: [], reason: "no actions" };
  return { status: "accepted", actions: actions.map((action) => ({ action })), reason: null };
}

/**
 * A webhook whose body is given rather than built from the call: an outbound call's callback.
 * Never configured by users (the agent schema refuses `payload`); the ledger stores it as is.
 */
export type CallbackAction = Extract<Action, { type: "webhook" }> & { payload: unknown };

/**
 * A delivery id derived from what it delivers, so the same action of the same call always
 * has the same id (the outbound `webhook-id`) however often its job is sent.
 */
export async function deliveryId(agentId: string, callId: string, index: number): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${agentId}\n${callId}\n${index}`));
  const hex = [...new Uint8Array(digest).slice(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `dlv_${hex}`;
}

/**
 * The provider an action is planned for: webhooks are their own, others the one they name.
 * Unnamed ones are chosen at send time (from the deployment's settings) and logged then.
 */
export function providerFor(action: Action): string | null {
  if (action.type === "webhook") return "webhook";
  return action.provider ?? null;
}

/** What the log shows as an action's target: never a secret, never a rendered message. */
export function targetOf(action: Action): string | null {
  switch (action.type) {
    case "webhook":
      return action.url;
    case "email":
    case "sms":
      return action.to ?? null;
    case "task":
      return null;
  }
}
