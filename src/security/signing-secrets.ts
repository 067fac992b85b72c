/**
 * Which secrets sign an agent's outbound webhooks. Pure: the store reads the rows, these
 * functions decide, so rotation and fallback are tested without a database.
 */

/** How long a replaced per-agent secret keeps signing beside its successor. */
export const ROTATION_OVERLAP_SECONDS = 24 * 60 * 60;

const SECRET_BYTES = 32;

/** A per-agent signing secret as stored: `expires_at` is set once a newer secret replaces it. */
export interface StoredSigningSecret {
  secret: string;
  created_at: string;
  expires_at: string | null;
}

export type SigningSecrets = { secrets: string[]; source: "agent" | "deployment" };

/** A fresh Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export function generateSigningSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

/** When a secret replaced at `now` stops signing. */
export function overlapEnd(now: Date): string {
  return new Date(now.getTime() + ROTATION_OVERLAP_SECONDS * 1000).toISOString();
}

/** The stored secrets still signing at `now`, newest first. */
export function activeSecrets(stored: readonly StoredSigningSecret[], now: Date): string[] {
  const at = now.toISOString();
  return stored
    .filter((s) => s.expires_at === null || s.expires_at > at)
    .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0))
    .map((s) => s.secret);
}

/**
 * An agent with secrets of its own signs with those only, so a receiver of one agent's
 * webhooks cannot forge another agent's; every other agent uses the deployment's secrets.
 *
 * @example
 * chooseSigningSecrets([], ["whsec_a"]) // { secrets: ["whsec_a"], source: "deployment" }
 */
export function chooseSigningSecrets(agentSecrets: readonly string[], deploymentSecrets: readonly string[]): SigningSecrets {
  return agentSecrets.length > 0
    ? { secrets: [...agentSecrets], source: "agent" }
    : { secrets: [...deploymentSecrets], source: "deployment" };
}
