import { createApp } from "./app";
import { readConfig } from "./config";
import { count, meterBatch, metered } from "./lib/meter";
import { consumeActions, consumeDeadLetters } from "./pipeline/consumer";
import { sweepExpired } from "./store/retention";

export { OutboundCall } from "./ingest/outbound-call-object";
export { CallLedger } from "./ledger/call-ledger";

const app = createApp();

// Annotated rather than inferred: the generated Env type refers back to this module, and an
// inferred type here would make every route's types circular.
const worker: ExportedHandler<CloudflareBindings> = {
  fetch(request, env, ctx) {
    count(env, "worker_invocations");
    return app.fetch(request, metered(env), ctx);
  },
  async queue(batch, env) {
    count(env, "worker_invocations");
    if (batch.queue.startsWith("actions-dlq")) return consumeDeadLetters(meterBatch(env, batch), metered(env));
    return consumeActions(meterBatch(env, batch), metered(env), { fetch: (input, init) => fetch(input, init) });
  },
  async scheduled(controller, env) {
    count(env, "worker_invocations");
    await sweepExpired(metered(env).DB, readConfig(env).retentionDays, controller.scheduledTime);
  },
};

export default worker;
