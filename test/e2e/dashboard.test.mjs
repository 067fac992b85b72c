// The dashboard in a real browser: Debian's Chromium, driven by playwright-core, against a
// relay under `wrangler dev`. It walks what an operator does (sign in, set up follow-up,
// watch a call go through, replay a failure, set up a trigger, read the stats) and saves a
// screenshot of every page at phone and desktop widths, light and dark, in test-artifacts/e2e/.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CHROMIUM, chromiumPresent, screenshots, startReceiver, startRelay } from "./harness.mjs";

const present = chromiumPresent();
if (!present) {
  const line = "=".repeat(78);
  console.error(`\n${line}\nSKIPPED: the dashboard's browser test needs Chromium at ${CHROMIUM}.\nInstall it with \`apt-get install -y chromium\` (.ci/run does, as root).\n${line}\n`);
}

let relay;
let receiver;
let browser;
let page;

before(async () => {
  if (!present) return;
  const { chromium } = await import("playwright-core");
  [relay, receiver] = await Promise.all([startRelay(), startReceiver()]);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});

after(async () => {
  await browser?.close();
  await relay?.stop();
  await receiver?.close();
});

/** Polls `check` until it holds, reloading the page between tries (deliveries run in the background). */
async function eventually(check, { reload = true, timeoutMs = 30_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail("timed out waiting for the page to show it");
    await new Promise((r) => setTimeout(r, 500));
    if (reload) await page.reload();
  }
}

test("an operator's day in the dashboard", { skip: !present && "Chromium is not installed" }, async () => {
  const agentId = "agent_e2e";
  const url = (path) => `${relay.origin}${path}`;

  // The agent exists with a webhook to the receiver, which refuses everything for now.
  receiver.state.status = 400;
  const saved = await relay.api("PUT", `/agents/${agentId}`, {
    name: "E2E Dental",
    voice_tools: {
      post_call_follow_up: { enabled: false, actions: [{ type: "webhook", url: `${receiver.origin}/crm` }] },
      outbound_calls: { platform: { type: "simulator" } },
    },
  });
  assert.equal(saved.status, 201, await saved.text());

  // Sign in.
  await page.goto(url("/dashboard"));
  assert.match(page.url(), /\/dashboard\/sign-in$/);
  await screenshots(page, "sign-in");
  await page.getByLabel("Admin key").fill(relay.secrets.ADMIN_API_KEY);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(url("/dashboard"));
  await screenshots(page, "overview-before");

  // Enable follow-up, add an SMS action, preview it, save.
  await page.goto(url("/dashboard/agents"));
  await screenshots(page, "agents");
  await page.getByRole("link", { name: "E2E Dental" }).click();
  await page.getByLabel("Enable post-call follow-up").check();
  await page.getByLabel("New action").selectOption("sms");
  await page.getByRole("button", { name: "Add action" }).click();
  await page.locator('textarea[name="actions[1][template]"]').fill("Thanks for calling {{agent_name}}, {{caller_name}}!");
  await page.getByRole("button", { name: "Preview" }).first().click();
  await page.getByText("Thanks for calling E2E Dental, ").first().waitFor();
  await screenshots(page, "agent-preview");
  await page.getByRole("button", { name: "Save" }).first().click();
  await page.getByText("Saved").first().waitFor();
  const agent = await (await relay.api("GET", `/agents/${agentId}`)).json();
  assert.equal(agent.voice_tools.post_call_follow_up.enabled, true);
  assert.deepEqual(agent.voice_tools.post_call_follow_up.actions.map((a) => a.type), ["webhook", "sms"]);
  await screenshots(page, "agent");

  // A call ends, through the API.
  const callId = `call_e2e_${Date.now()}`;
  const posted = await relay.api(
    "POST",
    "/calls/ended",
    { call_id: callId, agent_id: agentId, caller_number: "+14155551234", summary: "Booked a cleaning.", metadata: { caller_name: "<script>alert(1)</script>" } },
    relay.secrets.INGEST_API_KEY,
  );
  assert.equal(posted.status, 202, await posted.text());

  // The deliveries appear in the log: the SMS delivered (outbox), the webhook failed.
  await page.goto(url(`/dashboard/deliveries?agent_id=${agentId}`));
  // Badges, not bare text: the status filter's options name every status before any row exists.
  const badge = (status) => page.locator(".badge", { hasText: status });
  await eventually(async () => (await badge("delivered").count()) > 0 && (await badge("failed").count()) > 0);
  await screenshots(page, "deliveries");

  // The call's timeline; the caller's name shows as text, never as markup.
  const dialogs = [];
  page.on("dialog", (dialog) => {
    // The dashboard asks before acting (confirm): say yes. Anything else would be injected script.
    if (dialog.type() === "confirm") return void dialog.accept();
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.getByRole("link", { name: /^dlv_/ }).first().click();
  await page.getByText(callId).first().waitFor();
  await page.getByText("<script>alert(1)</script>").first().waitFor();
  assert.deepEqual(dialogs, []);
  await screenshots(page, "call-timeline");

  // Replay the failed webhook once the receiver accepts.
  receiver.state.status = 200;
  await page.getByRole("button", { name: /replay/i }).first().click();
  await eventually(async () => receiver.received.filter((r) => r.url === "/crm").length >= 2, { reload: false });
  await eventually(async () => (await page.getByRole("heading", { name: /webhook delivered/ }).count()) === 1);
  await screenshots(page, "call-replayed");

  // Create a trigger and send its test event.
  await page.goto(url("/dashboard/triggers"));
  await screenshots(page, "triggers");
  await page.getByRole("link", { name: "New trigger" }).click();
  await page.getByLabel("Name", { exact: true }).fill("E2E confirmations");
  await page.getByLabel("Agent").selectOption(agentId);
  await page.getByRole("button", { name: "Create the trigger" }).click();
  await page.getByText("/hooks/trg_").first().waitFor();
  await screenshots(page, "trigger-created");
  await page.getByRole("button", { name: /send test event/i }).first().click();
  await page.getByRole("heading", { name: "Test event: answered 202" }).waitFor();
  await screenshots(page, "trigger-test-event");

  // The outbound call shows up, and completes through the simulator.
  await page.goto(url("/dashboard/outbound-calls"));
  await eventually(async () => (await badge("completed").count()) > 0);
  await screenshots(page, "outbound-calls");
  await page.locator("a", { hasText: /^oc_[0-9a-f]{24}$/ }).first().click();
  await page.getByText("Callback").first().waitFor();
  await screenshots(page, "outbound-call");

  // The calls list, the outbox and the settings.
  await page.goto(url("/dashboard/calls"));
  await page.getByText(callId).first().waitFor();
  await screenshots(page, "calls");
  await page.goto(url("/dashboard/outbox"));
  await page.getByText("Thanks for calling E2E Dental").first().waitFor();
  await screenshots(page, "outbox");
  await page.goto(url("/dashboard/settings"));
  await screenshots(page, "settings");

  // The stats moved: the overview counts the deliveries that settled and the outbound call.
  await page.goto(url("/dashboard"));
  await eventually(async () => (await page.locator(".metric").first().innerText()) !== "—" && (await page.getByRole("link", { name: /^trg_/ }).count()) > 0);
  const stats = await (await relay.api("GET", "/stats?group_by=trigger")).json();
  assert.equal(stats.outbound_calls.total.final, 1);
  assert.equal(stats.deliveries.total.by_status.delivered >= 2, true);
  await screenshots(page, "overview");
});
