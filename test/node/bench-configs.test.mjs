// The bench runs the relay under configs derived from wrangler.toml by text transforms
// (bench/lib/configs.mjs). These check them against the project's own wrangler.toml, so a
// change to its layout fails here rather than as a bench run measuring the wrong thing.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { benchConfig, ingestOnlyConfig } from "../../bench/lib/configs.mjs";

const toml = readFileSync(path.join(import.meta.dirname, "..", "..", "wrangler.toml"), "utf8");
const consumers = (text) => [...text.matchAll(/^\[\[queues\.consumers\]\]\nqueue = "([^"]+)"/gm)].map((m) => m[1]);

test("the ingest-only config drops the actions consumer and nothing else", () => {
  assert.deepEqual(consumers(toml), ["actions", "actions-dlq"]);
  const changed = ingestOnlyConfig(toml);
  assert.deepEqual(consumers(changed), ["actions-dlq"]);
  // Producers stay: the relay still sends every call's job, to a queue nobody consumes.
  assert.match(changed, /^\[\[queues\.producers\]\]\nbinding = "ACTIONS"\nqueue = "actions"\n/m);
  // Exactly the block's lines go, up to the blank line that ends it.
  const start = toml.indexOf('[[queues.consumers]]\nqueue = "actions"\n');
  const block = toml.slice(start, toml.indexOf("\n\n", start) + 1);
  assert.match(block, /dead_letter_queue = "actions-dlq"\n$/);
  assert.equal(changed, toml.slice(0, start) + toml.slice(start + block.length));
});

test("the ingest-only config refuses a wrangler.toml without the actions consumer", () => {
  assert.throws(() => ingestOnlyConfig(ingestOnlyConfig(toml)), /could not find the actions consumer/);
});

test("the bench config raises the ingest rate limit out of reach, and refuses a limit it cannot find", () => {
  assert.match(toml, /^simple = \{ limit = 600, period = 60 \}$/m);
  assert.match(benchConfig(toml), /^simple = \{ limit = 1000000000, period = 60 \}$/m);
  assert.throws(() => benchConfig(toml.replace(/^simple = .*$/m, "simple = { period = 60, limit = 600 }")), /could not raise/);
});
