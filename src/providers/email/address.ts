import { required } from "../settings";
import type { EmailMessage, HttpAnswer } from "../types";

/** An address split from its display name. */
export interface Mailbox {
  email: string;
  name?: string;
}

/** Sent with every email API call, so a provider's support can tell whose traffic it is. */
export const USER_AGENT = "callrelay/1";

/**
 * Splits `Name <addr>`, `"Name, Inc." <addr>` or a bare `addr` into its parts.
 * Providers with a structured sender field (SendGrid) and MIME headers need them apart.
 */
export function parseMailbox(value: string): Mailbox {
  const trimmed = value.trim();
  const match = /^(.*?)\s*<([^<>\s]+)>$/.exec(trimmed);
  if (!match) return { email: trimmed };
  const email = match[2] ?? "";
  let name = (match[1] ?? "").trim();
  if (name.length >= 2 && name.startsWith('"') && name.endsWith('"')) name = name.slice(1, -1).replace(/\\(.)/g, "$1");
  return name ? { email, name } : { email };
}

/** Every email provider needs a sender: "Name <address>" or a bare address. */
export const EMAIL_FROM = required();

/**
 * The sender: the message's own (rendered from EMAIL_FROM), else EMAIL_FROM itself.
 * Throwing makes the attempt a permanent failure that says what to set.
 */
export function senderOf(message: EmailMessage, emailFrom: string | undefined): string {
  const from = message.from?.trim() || emailFrom?.trim();
  if (!from) throw new Error("no sender address: set EMAIL_FROM");
  return from;
}

/** The fall-back error text when a provider's body is not its documented error shape. */
export function plainError(provider: string, answer: HttpAnswer): string {
  const excerpt = answer.body.trim().slice(0, 200);
  return `${provider} HTTP ${answer.status}${excerpt ? `: ${excerpt}` : ""}`;
}
