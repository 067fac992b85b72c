import { countRequests } from "../lib/meter";
import type { Agent } from "../schemas/agent";
import type { CallEndedEvent } from "../schemas/call-event";
import type { AttemptRecord, IngestResult } from "../schemas/delivery";
import type { AcceptOptions, CallLedger, Claim, Erased, LedgerSnapshot } from "./call-ledger";

/** The Durable Object of one call. Typed from the class itself, not from Env, to keep types acyclic. */
export function ledgerStub(env: CloudflareBindings, agentId: string, callId: string): DurableObjectStub<CallLedger> {
  const ns = env.CALL_LEDGER as unknown as DurableObjectNamespace<CallLedger>;
  return countRequests(env, ns.get(ns.idFromName(`${agentId}\n${callId}`)));
}

/**
 * A typed client for one call's ledger. RPC stubs blur discriminated unions and class
 * types; the ledger's own method types are the contract, so the casts live here once.
 */
export class LedgerClient {
  constructor(readonly stub: DurableObjectStub<CallLedger>) {}

  async accept(event: CallEndedEvent, agent: Agent | null, receivedAt: string, options: AcceptOptions = {}): Promise<IngestResult> {
    return (await this.stub.accept(event, agent, receivedAt, options)) as IngestResult;
  }

  async claim(index: number, generation: number): Promise<Claim> {
    return (await this.stub.claim(index, generation)) as Claim;
  }

  async claimAll(jobs: { index: number; generation: number }[]): Promise<Claim[]> {
    return (await this.stub.claimAll(jobs)) as Claim[];
  }

  recordAll(results: { index: number; token: number; attempt: AttemptRecord }[]): Promise<boolean[]> {
    return this.stub.recordAll(results);
  }

  beginSend(index: number, token: number, provider: string): Promise<boolean> {
    return this.stub.beginSend(index, token, provider);
  }

  crashed(index: number, token: number, error: string): Promise<void> {
    return this.stub.crashed(index, token, error);
  }

  deadLetter(index: number, generation: number, reason: string): Promise<void> {
    return this.stub.deadLetter(index, generation, reason);
  }

  async replay(index: number): Promise<{ ok: true } | { ok: false; reason: string }> {
    return (await this.stub.replay(index)) as { ok: true } | { ok: false; reason: string };
  }

  async rerun(agent: Agent | null): Promise<{ ok: true; result: IngestResult } | { ok: false; reason: string }> {
    return (await this.stub.rerun(agent)) as { ok: true; result: IngestResult } | { ok: false; reason: string };
  }

  async erase(): Promise<Erased | null> {
    return (await this.stub.erase()) as Erased | null;
  }

  bringForward(index: number): Promise<boolean> {
    return this.stub.bringForward(index);
  }

  async snapshot(): Promise<LedgerSnapshot | null> {
    return (await this.stub.snapshot()) as LedgerSnapshot | null;
  }
}

export const ledgerFor = (env: CloudflareBindings, agentId: string, callId: string) =>
  new LedgerClient(ledgerStub(env, agentId, callId));
