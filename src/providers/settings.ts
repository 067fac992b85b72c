import { z } from "zod";
import type { Settings } from "./types";

/**
 * Each provider declares its settings as one zod object: which are required, which are
 * optional, and which are credentials. Choosing a provider, reading its settings and
 * redacting a preview all come from that one declaration.
 *
 * @example
 * const RESEND = z.object({ RESEND_API_KEY: secret(required()), EMAIL_FROM: required(), RESEND_BASE_URL: optional() });
 */
export type SettingsSchema = z.ZodObject;

/** A setting the provider cannot work without. Whitespace around it is dropped; blank counts as unset. */
export const required = () => z.string().trim().min(1, "not set");

/** A setting that may be left out; blank counts as unset, so an empty secret never becomes a value. */
export const optional = () =>
  z
    .string()
    .optional()
    .transform((value) => value?.trim() || undefined);

/** Marks a setting as a credential: preview removes its value from every request it shows. */
export const secret = <T extends z.ZodType>(schema: T): T => schema.meta({ secret: true });

const isSecret = (field: z.ZodType) => z.globalRegistry.get(field)?.secret === true;

/** The settings a schema cannot do without, in declaration order. */
export const requiredNames = (schema: SettingsSchema): string[] =>
  Object.entries(schema.shape)
    .filter(([, field]) => !field.safeParse(undefined).success)
    .map(([name]) => name);

/** The settings a schema marks as credentials. */
export const secretNames = (schema: SettingsSchema): string[] =>
  Object.entries(schema.shape)
    .filter(([, field]) => isSecret(field))
    .map(([name]) => name);

/** The settings that are unset or invalid in this deployment; empty when the schema is met. */
export function unmetSettings(schema: SettingsSchema, settings: Settings): string[] {
  const parsed = schema.safeParse(settings);
  if (parsed.success) return [];
  return [...new Set(parsed.error.issues.map((issue) => String(issue.path[0] ?? "(settings)")))];
}

/**
 * A provider's settings, typed and trimmed. Providers are only chosen when their schema is
 * met, so throwing here (a permanent failure naming what to set) is a last resort.
 */
export function readSettings<S extends SettingsSchema>(schema: S, settings: Settings): z.output<S> {
  const parsed = schema.safeParse(settings);
  if (parsed.success) return parsed.data;
  throw new Error(`not configured: set ${unmetSettings(schema, settings).join(", ")}`);
}

/**
 * The deployment's vars and secrets as strings. Bindings (D1, queues, send_email) are
 * objects and are left out: they are reached through the env, never as settings.
 */
export function settingsOf(env: object): Settings {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}

/** A switch that must be on ("true" or "1", as the deployment's other flags read) for a provider to be usable. */
export const switchedOn = () => z.string().trim().toLowerCase().pipe(z.enum(["true", "1"]));
