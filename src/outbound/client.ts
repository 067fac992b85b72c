import { countRequests } from "../lib/meter";
import type { CallEndedEvent } from "../schemas/call-event";
import type { OutboundCall } from "../schemas/outbound";
import type { CreateOptions, CreateResult, NewCall, OutboundCallObject } from "./outbound-call";
import type { OutboundState } from "./state";

/** Our outbound call ids: `oc_` and 24 hex digits. */
export const OUTBOUND_CALL_ID = /^oc_[0-9a-f]{24}$/;
export const isOutboundCallId = (value: unknown): value is string => typeof value === "string" && OUTBOUND_CALL_ID.test(value);

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
  constructor(readonly stub: DurableObjectStub<OutboundCallObject>) {}

  async create(input: NewCall, dueAt: number, options: CreateOptions): Promise<CreateResult> {
    return (await this.stub.create(input as never, dueAt, options)) as CreateResult;
  }

  async inspect(): Promise<OutboundState | null> {
    return (await this.stub.inspect()) as OutboundState | null;
  }

  async cancel(): Promise<{ ok: true; call: OutboundCall } | { ok: false; reason: string } | null> {
    return (await this.stub.cancel()) as { ok: true; call: OutboundCall } | { ok: false; reason: string } | null;
  }

  async ended(event: CallEndedEvent, provisionalUntil?: number): Promise<void> {
    await this.stub.ended(event as never, provisionalUntil);
  }
}

/** The object of one outbound call. Typed from the class itself, not from Env, to keep types acyclic. */
export function outboundCall(env: CloudflareBindings, id: string): OutboundCallClient {
  const ns = env.OUTBOUND_CALLS as unknown as DurableObjectNamespace<OutboundCallObject>;
  return new OutboundCallClient(countRequests(env, ns.get(ns.idFromName(id))));
}
