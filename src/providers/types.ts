import type { SettingsSchema } from "./settings";

/** What one attempt at one action came to; the pipeline turns it into ack / retry / dead-letter. */
export interface SendResult {
  outcome: "delivered" | "retry" | "failed" | "gone" | "skipped" | "unknown";
  status_code?: number;
  /**
   * The request may have reached the provider, and no answer says what it did with it (a
   * timeout, a connection lost, a gateway timeout): sending it again could deliver twice.
   */
  may_have_arrived?: boolean;
  /** Human-readable reason, with the provider's own error code when it gives one. */
  error?: string;
  /** The first KiB of the response, for the log. */
  response_body?: string;
  retry_after_seconds?: number;
  /** The provider's own id for what it created (message, task), when it gives one. */
  provider_id?: string;
  /** A short fact worth keeping in the log, e.g. "2 segments (GSM-7)". */
  detail?: string;
  /** Which provider handled the attempt. */
  provider?: string;
}

export interface EmailMessage {
  /** Sender, "Name <address>" or a bare address; from EMAIL_FROM when the action does not say. */
  from?: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface SmsMessage {
  to: string;
  body: string;
}

export interface TaskMessage {
  title: string;
  notes?: string;
  /** YYYY-MM-DD */
  due_date?: string;
}

export interface Outgoing {
  email: EmailMessage;
  sms: SmsMessage;
  task: TaskMessage;
}
export type MessageKind = keyof Outgoing;

/** The deployment's vars and secrets, read as plain strings. */
export type Settings = Readonly<Record<string, string | undefined>>;

/** Who is sending what, for providers that key idempotency or logs on it. */
export interface SendContext {
  delivery_id: string;
  /** The same across every retry of a delivery, new after a replay: what providers dedupe on. */
  idempotency_key: string;
  call_id: string;
  agent_id: string;
  env: CloudflareBindings;
  settings: Settings;
  fetch: typeof fetch;
}

export type RequestContext = Pick<SendContext, "delivery_id" | "idempotency_key" | "settings">;

/** An HTTP request a provider wants made; also what `POST /agents/{id}/preview` shows. */
export interface HttpCall {
  method: "POST" | "PUT" | "GET";
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** The response body as text (cut at 64 KiB). */
  body: string;
}

/**
 * A service reached over its documented HTTP API. Building the request and reading the
 * answer are pure, so both are tested directly and preview can show the request unsent.
 */
export interface HttpProvider<K extends MessageKind> {
  readonly name: string;
  readonly kind: K;
  /**
   * True when the provider drops a repeated request carrying the same idempotency key, so a
   * retry after a lost answer cannot deliver twice. When false, an attempt cut off mid-send is
   * recorded as `unknown` and not sent again (unless the action sets resend_on_unknown).
   */
  readonly dedupes: boolean;
  /** How long the provider remembers an idempotency key; no attempt with a key is sent after it. */
  readonly idempotencyWindowSeconds?: number;
  /** Its settings: the required ones must all be set for it to be usable; secrets are marked. */
  readonly settings: SettingsSchema;
  buildRequest(message: Outgoing[K], ctx: RequestContext): HttpCall | Promise<HttpCall>;
  parseResponse(answer: HttpAnswer, now: number): SendResult;
}

/**
 * A provider that is not plain HTTP (the outbox, Cloudflare's send_email binding).
 * `describe` is what preview shows in place of an HTTP request.
 */
export interface DirectProvider<K extends MessageKind> {
  readonly name: string;
  readonly kind: K;
  /**
   * True when the provider drops a repeated request carrying the same idempotency key, so a
   * retry after a lost answer cannot deliver twice. When false, an attempt cut off mid-send is
   * recorded as `unknown` and not sent again (unless the action sets resend_on_unknown).
   */
  readonly dedupes: boolean;
  /** How long the provider remembers an idempotency key; no attempt with a key is sent after it. */
  readonly idempotencyWindowSeconds?: number;
  /** Its settings: the required ones must all be set for it to be usable; secrets are marked. */
  readonly settings: SettingsSchema;
  /** True when the deployment can use it (beyond its settings, e.g. a binding exists). */
  available?(env: CloudflareBindings): boolean;
  describe(message: Outgoing[K]): Record<string, unknown>;
  send(message: Outgoing[K], ctx: SendContext): Promise<SendResult>;
}

export type Provider<K extends MessageKind> = HttpProvider<K> | DirectProvider<K>;

export const isHttpProvider = <K extends MessageKind>(p: Provider<K>): p is HttpProvider<K> => "buildRequest" in p;
