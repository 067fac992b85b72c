import { countRequests } from "../lib/meter";
import type { CallEndedEvent } from "../schemas/call-event";
import type { OutboundCall } from "../schemas/outbound";
import type { CreateOptions, CreateResult, NewCall, OutboundCallObject } from "./outbound-call";
import type { OutboundState } from "./state";

/**
 * Our outbound call ids: `oc_` and 24 hex digits, then `-g2`, `-g3`… for a key's later calls
 * (see `generationId`).
 */
export const OUTBOUND_CALL_ID = /^oc_[0-9a-f]{24}(?:-g[1-9][0-9]{0,5})?$/;
export const isOutboundCallId = (value: unknown): value is string => typeof value === "string" && OUTBOUND_CALL_ID.test(value);

/**
 * The id of a key's `generation`th call. A dedupe key reused once its window has passed makes
 * a new call in the same object; the new call needs an id of its own, because the delivery
 * ledger, the D1 index and the stats know a call by its id and would take the new call's
 * hand-over and rows for the old call's.
 *
 * @example
 * generationId("oc_5f2c9a1e7b3d4c6a8e0f1b2c", 1) // "oc_5f2c9a1e7b3d4c6a8e0f1b2c"
 * generationId("oc_5f2c9a1e7b3d4c6a8e0f1b2c", 2) // "oc_5f2c9a1e7b3d4c6a8e0f1b2c-g2"
 */
export const generationId = (id: string, generation: number) => (generation > 1 ? `${objectNameOf(id)}-g${generation}` : objectNameOf(id));

/** The name of the object a call lives in: every generation of a key's calls shares its first call's. */
export const objectNameOf = (id: string) => id.split("-g")[0]!;

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

/**
 * A new outbound call's id. Derived from `key` when there is one (an Idempotency-Key, a
 * trigger's dedupe key), so every repeat of a request meets the same object; random otherwise.
 */
export async function outboundCallId(key?: string): Promise<string> {
  if (key === undefined) return `oc_${hex(crypto.getRandomValues(new Uint8Array(12)))}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  return `oc_${hex(new Uint8Array(digest).slice(0, 12))}`;
}

/**
 * A typed client for one outbound call's object. RPC stubs blur types that hold free-form
 * JSON (metadata, details); the object's own method types are the contract, so the casts
 * live here once.
 */
export class OutboundCallClient {
  constructor(
    readonly id: string,
    readonly stub: DurableObjectStub<OutboundCallObject>,
  ) {}

  async create(input: NewCall, dueAt: number, options: CreateOptions): Promise<CreateResult> {
    return (await this.stub.create(input as never, dueAt, options)) as CreateResult;
  }

  /** The call's state; null when the object holds no call of this id (never created, or an earlier generation). */
  async inspect(): Promise<OutboundState | null> {
    return (await this.stub.inspect(this.id)) as OutboundState | null;
  }

  async cancel(): Promise<{ ok: true; call: OutboundCall } | { ok: false; reason: string } | null> {
    return (await this.stub.cancel(this.id)) as { ok: true; call: OutboundCall } | { ok: false; reason: string } | null;
  }

  async ended(event: CallEndedEvent, provisionalUntil?: number): Promise<void> {
    await this.stub.ended(event as never, provisionalUntil, this.id);
  }
}

/**
 * The object of one outbound call, reached by the call's id (of any generation). Typed from
 * the class itself, not from Env, to keep types acyclic.
 */
export function outboundCall(env: CloudflareBindings, id: string): OutboundCallClient {
  const ns = env.OUTBOUND_CALLS as unknown as DurableObjectNamespace<OutboundCallObject>;
  return new OutboundCallClient(id, countRequests(env, ns.get(ns.idFromName(objectNameOf(id)))));
}
