/** What one attempt at one action came to; the pipeline turns it into ack / retry / dead-letter. */
export interface SendResult {
  outcome: "delivered" | "retry" | "failed" | "gone" | "skipped";
  status_code?: number;
  error?: string;
  /** The first KiB of the response, for the log. */
  response_body?: string;
  retry_after_seconds?: number;
  /** The provider's own id for what it created (message, task), when it gives one. */
  provider_id?: string;
}

export interface EmailMessage {
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

/** Who is sending what, for providers that log or key idempotency on it. */
export interface SendContext {
  delivery_id: string;
  call_id: string;
  agent_id: string;
  env: CloudflareBindings;
  fetch: typeof fetch;
}

/**
 * A way to deliver one kind of message (an email service, an SMS gateway, a task tool).
 * Each provider is one module; it classifies its own responses into a SendResult.
 */
export interface Provider<K extends MessageKind> {
  readonly name: string;
  send(message: Outgoing[K], ctx: SendContext): Promise<SendResult>;
}
