/**
 * The voice platforms whose webhooks `POST /calls/ended/{platform}` accepts, by name, and
 * the steps every platform route shares: reading its secrets and parsing its body.
 */
import { type FieldProblem, fieldProblem } from "../errors";
import { PLATFORM_NAMES, type PlatformName } from "../schemas/platform-event";
import { bland } from "./bland";
import { elevenlabs } from "./elevenlabs";
import { retell } from "./retell";
import { readSecrets } from "./signature";
import type { PlatformAdapter } from "./types";
import { vapi } from "./vapi";

export { resolveOutcome } from "./outcome";
export type { AgentOutcomeRule, ResolvedOutcome } from "./outcome";
export type * from "./types";

export const PLATFORMS: Readonly<Record<PlatformName, PlatformAdapter>> = { vapi, retell, bland, elevenlabs };

const isPlatformName = (name: string): name is PlatformName => (PLATFORM_NAMES as readonly string[]).includes(name);

/** The adapter for a platform named in a URL, or undefined for an unknown name. */
export function platformFor(name: string): PlatformAdapter | undefined {
  return isPlatformName(name) ? PLATFORMS[name] : undefined;
}

/**
 * The secrets a platform's webhooks are verified with, and which setting they came from;
 * `setting` is null when none is set (the route then answers 503 naming `candidates`).
 *
 * @example
 * platformSecrets(retell, env) // { secrets: ["key_1"], setting: "RETELL_API_KEY", candidates: ["RETELL_WEBHOOK_KEY", "RETELL_API_KEY"] }
 */
export function platformSecrets(
  platform: PlatformAdapter,
  settings: Readonly<Record<string, unknown>>,
): { secrets: string[]; setting: string | null; candidates: readonly string[] } {
  return { ...readSecrets(settings, platform.secretSetting), candidates: platform.secretSetting };
}

/**
 * The verified raw body as JSON. Parsed only after `verify`, so nothing unverified is
 * trusted; a body that is not JSON is a problem to answer with 400, not an exception.
 */
export function parsePlatformBody(rawBody: string): { ok: true; payload: unknown } | { ok: false; problem: FieldProblem } {
  try {
    return { ok: true, payload: JSON.parse(rawBody) };
  } catch (err) {
    return { ok: false, problem: fieldProblem([], `the body is not JSON: ${err instanceof Error ? err.message : String(err)}`) };
  }
}
