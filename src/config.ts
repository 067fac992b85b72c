import { z } from "zod";
import { AppError } from "./errors";
import { countryCode } from "./lib/phone";
import { decodeSecret } from "./security/standard-webhooks";

const Flag = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((v) => v === "true" || v === "1");

const Secret = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== "" ? v.trim() : undefined));

/** A Standard Webhooks secret must decode to key bytes, or every signature would fail. */
const isSigningSecret = (secret: string) => {
  try {
    return decodeSecret(secret).length > 0;
  } catch {
    return false;
  }
};
/** Several signing secrets may be given, space- or comma-separated, for key rotation. */
const SecretList = Secret.transform((v) => (v ? v.split(/[\s,]+/).filter(Boolean) : [])).refine(
  (list) => list.every(isSigningSecret),
  "must be whsec_ followed by base64",
);

const PositiveInt = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) {
        ctx.addIssue({ code: "custom", message: "must be a positive integer" });
        return z.NEVER;
      }
      return n;
    });

/** An ISO 3166 alpha-2 country ("US", "gb"), for phone numbers written without +. */
const Country = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return undefined;
    const code = countryCode(v);
    if (!code) {
      ctx.addIssue({ code: "custom", message: "must be an ISO 3166 alpha-2 country code, e.g. US" });
      return z.NEVER;
    }
    return code;
  });

/**
 * The deployment's settings, read from Worker vars and secrets. A misconfigured
 * deployment answers a clear 503 naming the setting instead of failing deep inside a handler.
 */
const ConfigSchema = z.object({
  ADMIN_API_KEY: Secret,
  INGEST_API_KEY: Secret,
  INGEST_SIGNING_SECRET: SecretList,
  WEBHOOK_SIGNING_SECRET: SecretList,
  ALLOW_PRIVATE_TARGETS: Flag,
  MAX_BODY_BYTES: PositiveInt(1_048_576),
  WATCHDOG_SECONDS: PositiveInt(60),
  RETENTION_DAYS: PositiveInt(30),
  ALLOW_UNSIGNED_PLATFORM_WEBHOOKS: Flag,
  ALLOW_SIMULATOR: Flag,
  RETELL_ANALYSIS_WAIT_SECONDS: PositiveInt(600),
  DEFAULT_COUNTRY: Country,
  ALERT_WEBHOOK_URL: Secret.refine((v) => v === undefined || URL.canParse(v), "must be an http(s) URL").refine(
    (v) => v === undefined || /^https?:$/.test(new URL(v).protocol),
    "must be an http(s) URL",
  ),
  ALERT_EMAIL: Secret.refine((v) => v === undefined || /^[^\s@]+@[^\s@]+$/.test(v), "must be an email address"),
});

export interface Config {
  adminApiKey?: string;
  ingestApiKey?: string;
  ingestSigningSecrets: string[];
  /**
   * Sign outbound webhooks; every one adds its own `v1,` signature, so receivers can move to
   * a new secret without a gap. Empty: webhooks are held back, never sent unsigned.
   */
  webhookSigningSecrets: string[];
  allowPrivateTargets: boolean;
  maxBodyBytes: number;
  /** How long past its due time an action may go unheard-of before the ledger re-sends its job. */
  watchdogSeconds: number;
  /** How long a settled call's ledger, log rows and outbox rows are kept. */
  retentionDays: number;
  /** Development only: accept platform webhooks of a platform that has no secret set. */
  allowUnsignedPlatformWebhooks: boolean;
  /** Development only: the `simulator` outbound platform, which dials nobody, may be used. */
  allowSimulator: boolean;
  /** How long a Retell call waits for `call_analyzed` after `call_ended` before its actions run. */
  retellAnalysisWaitSeconds: number;
  /** The country of phone numbers written without + (ISO 3166 alpha-2); an agent's `default_country` wins. */
  defaultCountry?: string;
  /** Receives a signed notice when a delivery fails for good or goes `gone` (throttled per target). */
  alertWebhookUrl?: string;
  /** Receives the same notice by email, through the deployment's email provider. */
  alertEmail?: string;
}

const cache = new WeakMap<object, Config>();

export function readConfig(env: object): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => i.path.join(".")).join(", ");
    throw new AppError("misconfigured", `invalid setting(s): ${names}`);
  }
  const v = parsed.data;
  const config: Config = {
    adminApiKey: v.ADMIN_API_KEY,
    ingestApiKey: v.INGEST_API_KEY,
    ingestSigningSecrets: v.INGEST_SIGNING_SECRET,
    webhookSigningSecrets: v.WEBHOOK_SIGNING_SECRET,
    allowPrivateTargets: v.ALLOW_PRIVATE_TARGETS,
    maxBodyBytes: v.MAX_BODY_BYTES,
    watchdogSeconds: v.WATCHDOG_SECONDS,
    retentionDays: v.RETENTION_DAYS,
    allowUnsignedPlatformWebhooks: v.ALLOW_UNSIGNED_PLATFORM_WEBHOOKS,
    allowSimulator: v.ALLOW_SIMULATOR,
    retellAnalysisWaitSeconds: v.RETELL_ANALYSIS_WAIT_SECONDS,
    ...(v.DEFAULT_COUNTRY ? { defaultCountry: v.DEFAULT_COUNTRY } : {}),
    alertWebhookUrl: v.ALERT_WEBHOOK_URL,
    alertEmail: v.ALERT_EMAIL,
  };
  cache.set(env, config);
  return config;
}
