import { EMAIL_PROVIDERS } from "./email";
import { outboxProvider } from "./outbox";
import { SMS_PROVIDERS } from "./sms";
import { TASK_PROVIDERS } from "./task";
import type { MessageKind, Provider, Settings } from "./types";

const CATALOGUE: { [K in MessageKind]: readonly Provider<K>[] } = {
  email: EMAIL_PROVIDERS,
  sms: SMS_PROVIDERS,
  task: TASK_PROVIDERS,
};

/** The deployment-wide default per kind of action, e.g. EMAIL_PROVIDER=postmark. */
const DEFAULT_SETTING: Record<MessageKind, string> = { email: "EMAIL_PROVIDER", sms: "SMS_PROVIDER", task: "TASK_PROVIDER" };

/** Names an action may give in `provider`, per kind. */
export function providerNames(kind: MessageKind): string[] {
  return ["outbox", ...CATALOGUE[kind].map((p) => p.name)];
}

/** The settings a provider still lacks in this deployment; empty when it is usable. */
export function missingSettings<K extends MessageKind>(provider: Provider<K>, settings: Settings, env: CloudflareBindings): string[] {
  const missing = provider.requires.filter((name) => !settings[name]);
  if ("available" in provider && provider.available && !provider.available(env)) missing.push("(binding)");
  return missing;
}

export type Choice<K extends MessageKind> = { ok: true; provider: Provider<K>; why: string } | { ok: false; error: string };

/**
 * Which provider sends an action: the one the action names; else the deployment default
 * (`EMAIL_PROVIDER`, `SMS_PROVIDER`, `TASK_PROVIDER`); else the first whose credentials are
 * set; else the outbox. A provider named explicitly but not configured is an error rather
 * than a silent fall-back, so a production text is never quietly parked in the outbox.
 */
export function chooseProvider<K extends MessageKind>(
  kind: K,
  named: string | undefined,
  settings: Settings,
  env: CloudflareBindings,
): Choice<K> {
  const catalogue = CATALOGUE[kind] as readonly Provider<K>[];
  const pick = (name: string, why: string): Choice<K> => {
    if (name === "outbox") return { ok: true, provider: outboxProvider(kind), why };
    const provider = catalogue.find((p) => p.name === name);
    if (!provider) return { ok: false, error: `unknown ${kind} provider "${name}"; known: ${providerNames(kind).join(", ")}` };
    const missing = missingSettings(provider, settings, env);
    if (missing.length > 0) return { ok: false, error: `${name} is ${why} but not configured: set ${missing.join(", ")}` };
    return { ok: true, provider, why };
  };
  if (named) return pick(named, "named by the action");
  const fallback = settings[DEFAULT_SETTING[kind]]?.trim().toLowerCase();
  if (fallback) return pick(fallback, `the ${DEFAULT_SETTING[kind]} default`);
  const configured = catalogue.find((p) => missingSettings(p, settings, env).length === 0);
  if (configured) return { ok: true, provider: configured, why: "the one whose credentials are set" };
  return { ok: true, provider: outboxProvider(kind), why: `no ${kind} provider is configured` };
}
