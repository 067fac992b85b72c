import type { Hono } from "hono";
import { readConfig } from "../../config";
import { DIALERS } from "../../outbound/dialers";
import { PLATFORMS, platformSecrets } from "../../platforms";
import { providerReadiness } from "../../providers/registry";
import { settingsOf } from "../../providers/settings";
import type { DashboardEnv } from "../env";
import { Page } from "../layout";

/** A secret's id: the first hex digits of its SHA-256, enough to tell secrets apart, useless to forge one. */
async function secretId(secret: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret)));
  return [...digest.slice(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const KINDS = ["email", "sms", "task"] as const;

/** GET /dashboard/settings: what this deployment has configured, by name only, never a value. */
export function registerSettingsPage(dashboard: Hono<DashboardEnv>) {
  dashboard.get("/settings", async (c) => {
    const env = c.env;
    const config = readConfig(env);
    const settings = settingsOf(env);
    const record = env as unknown as Record<string, unknown>;
    const webhookIds = await Promise.all(config.webhookSigningSecrets.map(secretId));
    const ingestIds = await Promise.all(config.ingestSigningSecrets.map(secretId));
    return c.html(
      <Page title="Settings" section="settings" nonce={c.var.nonce} csrf={c.var.csrf}>
        <h1>Settings</h1>
        <p class="muted">What this deployment has configured. Names only: no value is ever shown. Change them with `wrangler secret put` and redeploy.</p>
        <h2>Email, SMS and task providers</h2>
        <div class="grid">
          {KINDS.map((kind) => (
            <div class="panel">
              <h3>{kind}</h3>
              <ul>
                {providerReadiness(kind, settings, env).map((p) => (
                  <li>
                    {p.name}:{" "}
                    {p.missing.length === 0 ? <span class="badge ok">configured</span> : <span class="muted">needs {p.missing.join(", ")}</span>}
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </div>
        <h2>Voice platforms</h2>
        <div class="panel table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Platform</th>
                <th scope="col">Webhooks verified with</th>
                <th scope="col">Places calls with</th>
              </tr>
            </thead>
            <tbody>
              {Object.values(PLATFORMS).map((platform) => {
                const { setting, candidates } = platformSecrets(platform, record);
                const dialer = DIALERS[platform.name];
                const key = dialer.apiKeySetting;
                const keySet = key !== null && typeof record[key] === "string" && String(record[key]).trim() !== "";
                return (
                  <tr>
                    <td>{platform.name}</td>
                    <td>{setting ? <span class="badge ok">{setting}</span> : <span class="muted">not set ({candidates.join(" or ")})</span>}</td>
                    <td>{keySet ? <span class="badge ok">{key}</span> : <span class="muted">not set ({key})</span>}</td>
                  </tr>
                );
              })}
              <tr>
                <td>simulator</td>
                <td class="muted">n/a</td>
                <td>{config.allowSimulator ? <span class="badge warn">ALLOW_SIMULATOR=true</span> : <span class="muted">refused</span>}</td>
              </tr>
            </tbody>
          </table>
        </div>
        <h2>Signing secrets</h2>
        <div class="panel">
          <p>
            Outbound webhooks (WEBHOOK_SIGNING_SECRET):{" "}
            {webhookIds.length > 0 ? webhookIds.map((id) => <code class="badge">{id}</code>) : <span class="badge bad">not set: webhooks are held back</span>}
          </p>
          <p>
            Signed ingest (INGEST_SIGNING_SECRET): {ingestIds.length > 0 ? ingestIds.map((id) => <code class="badge">{id}</code>) : <span class="muted">not set</span>}
          </p>
          <p class="hint">Each id is the start of the secret's SHA-256: two ids during a rotation, one after.</p>
        </div>
        <h2>Retention and limits</h2>
        <div class="panel">
          <ul>
            <li>Calls, deliveries and outbox messages are kept {config.retentionDays} days (RETENTION_DAYS).</li>
            <li>Watchdog: a job unheard-of {config.watchdogSeconds} s past its due time is sent again (WATCHDOG_SECONDS).</li>
            <li>Largest request body: {config.maxBodyBytes} bytes (MAX_BODY_BYTES).</li>
            <li>Private webhook targets: {config.allowPrivateTargets ? "allowed (development)" : "refused"} (ALLOW_PRIVATE_TARGETS).</li>
            <li>Outbox: {record.OUTBOX === "true" || record.OUTBOX === "1" ? "on (development)" : "off"} (OUTBOX).</li>
          </ul>
        </div>
      </Page>,
    );
  });
}
