import { EMAIL_PROVIDERS } from "./email";
import { outboxProvider } from "./outbox";
import { requiredNames, secretNames, unmetSettings } from "./settings";
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

/** Every provider setting declared secret, across all kinds: what preview must never show. */
export const SECRET_SETTINGS: readonly string[] = [
  ...new Set(Object.values(CATALOGUE).flatMap((providers) => providers.flatMap((p) => secretNames(p.settings)))),
];

/** The settings a provider still lacks in this deployment; empty when it is usable. */
export function missingSettings<K extends MessageKind>(provider: Provider<K>, settings: Settings, env: CloudflareBindings): string[] {
  const missing = unmetSettings(provider.settings, settings);
  if ("available" in provider && provider.available && !provider.available(env)) missing.push("(binding)");
  return missing;
}

/** Every provider of a kind and the settings it still lacks here (empty: usable), outbox first. */
export function providerReadiness(kind: MessageKind, settings: Settings, env: CloudflareBindings): { name: string; missing: string[] }[] {
  return [outboxProvider(kind) as Provider<MessageKind>, ...(CATALOGUE[kind] as readonly Provider<MessageKind>[])].map((provider) => ({
    name: provider.name,
    missing: missingSettings(provider, settings, env),
  }));
}

/**
 * What to set when no provider of a kind is: each provider's first required credential
 * (the rest of its settings are in the README), or the outbox for local development.
 */
export function noProviderError(kind: MessageKind): string {
  const keys = CATALOGUE[kind].flatMap((p) => {
    const secrets = secretNames(p.settings);
    return requiredNames(p.settings).filter((name) => secrets.includes(name)).slice(0, 1);
  });
  return `no ${kind} provider configured: set ${keys.join(", ")} (with that provider's other settings; see the README) or OUTBOX=true for local development`;
}

export type Choice<K extends MessageKind> = { ok: true; provider: Provider<K>; why: string } | { ok: false; error: string };

/**
 * Which provider sends an action: the one the action names; else the deployment default
 * (`EMAIL_PROVIDER`, `SMS_PROVIDER`, `TASK_PROVIDER`); else the first whose settings are
 * met; else the outbox, only where OUTBOX=true. A provider named but not configured, or
 * none at all in a deployment without the outbox, is an error rather than a silent
 * fall-back, so a production text is never quietly parked in the outbox.
 */
export function chooseProvider<K extends MessageKind>(
  kind: K,
  named: string | undefined,
  settings: Settings,
  env: CloudflareBindings,
): Choice<K> {
  const catalogue = CATALOGUE[kind] as readonly Provider<K>[];
  const outbox = outboxProvider(kind);
  const pick = (name: string, why: string): Choice<K> => {
    const provider = name === "outbox" ? outbox : catalogue.find((p) => p.name === name);
    if (!provider) return { ok: false, error: `unknown ${kind} provider "${name}"; known: ${providerNames(kind).join(", ")}` };
    const missing = missingSettings(provider, settings, env);
    if (missing.length === 0) return { ok: true, provider, why };
    if (provider === outbox) return { ok: false, error: `outbox is ${why} but is for local development only: set OUTBOX=true to use it` };
    return { ok: false, error: `${name} is ${why} but not configured: set ${missing.join(", ")}` };
  };
  if (named) return pick(named, "named by the action");
  const fallback = settings[DEFAULT_SETTING[kind]]?.trim().toLowerCase();
  if (fallback) return pick(fallback, `the ${DEFAULT_SETTING[kind]} default`);
  const configured = catalogue.find((p) => missingSettings(p, settings, env).length === 0);
  if (configured) return { ok: true, provider: configured, why: "the one whose credentials are set" };
  if (missingSettings(outbox, settings, env).length === 0) return { ok: true, provider: outbox, why: `no ${kind} provider is configured` };
  return { ok: false, error: noProviderError(kind) };
}
