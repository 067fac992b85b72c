import { createApp } from "./app";
import { readConfig } from "./config";
import { consumeActions, consumeDeadLetters } from "./pipeline/consumer";
import { sweepExpired } from "./store/retention";

export { CallLedger } from "./ledger/call-ledger";

const app = createApp();

// Annotated rather than inferred: the generated Env type refers back to this module, and an
// inferred type here would make every route's types circular.
const worker: ExportedHandler<CloudflareBindings> = {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  async queue(batch, env) {
    if (batch.queue.startsWith("actions-dlq")) return consumeDeadLetters(batch, env);
    return consumeActions(batch, env, { fetch: (input, init) => fetch(input, init) });
  },
  async scheduled(controller, env) {
    await sweepExpired(env.DB, readConfig(env).retentionDays, controller.scheduledTime);
  },
};

export default worker;
