// Run with: node --test scripts/lib/
// The wrangler outputs below were captured from wrangler 4.86.0 (run against a stand-in
// Cloudflare API, so the ids are made up but the formatting is wrangler's own).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  changedLines,
  findD1DatabaseId,
  findKvNamespaceId,
  generateApiKey,
  generateSigningSecret,
  parseD1CreateOutput,
  parseKvCreateOutput,
  setBindingValue,
  setResourceIds,
} from "./cloudflare-setup.mjs";

const BANNER = `
 ⛅️ wrangler 4.86.0 (update available 4.164.0)
──────────────────────────────────────────────
`;

const D1_CREATE_TOML = `${BANNER}✅ Successfully created DB 'callrelay' in region WNAM
Created your new D1 database.

To access your new D1 Database in your Worker, add the following snippet to your configuration file:
[[d1_databases]]
binding = "callrelay"
database_name = "callrelay"
database_id = "5bd1c7a2-3f7e-4b8a-9c21-0d6e8f4a1b23"

`;

const D1_CREATE_JSON = `${BANNER}✅ Successfully created DB 'callrelay' in region WNAM
Created your new D1 database.

To access your new D1 Database in your Worker, add the following snippet to your configuration file:
{
  "d1_databases": [
    {
      "binding": "callrelay",
      "database_name": "callrelay",
      "database_id": "5bd1c7a2-3f7e-4b8a-9c21-0d6e8f4a1b23"
    }
  ]
}
? Would you like Wrangler to add it on your behalf?
🤖 Using fallback value in non-interactive context: no
`;

const D1_ALREADY_EXISTS_STDERR =
  "\u001b[31m✘ \u001b[41;31m[\u001b[41;97mERROR\u001b[41;31m]\u001b[0m \u001b[1mA database with that name already exists\u001b[0m\n\n\n" +
  '🪵  Logs were written to "~/.config/.wrangler/logs/wrangler-2026-11-21_18-18-51_922.log"\n';

const D1_LIST_JSON = `[
  {
    "uuid": "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6",
    "name": "callrelay-staging",
    "version": "production",
    "created_at": "2026-01-02T10:00:00.000Z",
    "num_tables": 3,
    "file_size": 61440,
    "jurisdiction": null
  },
  {
    "uuid": "5bd1c7a2-3f7e-4b8a-9c21-0d6e8f4a1b23",
    "name": "callrelay",
    "version": "production",
    "created_at": "2026-11-21T18:15:54.553Z",
    "created_in_region": "WNAM",
    "num_tables": 0,
    "file_size": 12288,
    "jurisdiction": null
  }
]
`;

const KV_CREATE_TOML = `${BANNER}Resource location: remote 

🌀 Creating namespace with title "CONFIG_CACHE"
✨ Success!
To access your new KV Namespace in your Worker, add the following snippet to your configuration file:
[[kv_namespaces]]
binding = "CONFIG_CACHE"
id = "9f3c2a7b1e4d4c6a8b0e2f1d3c5a7b9e"

`;

const KV_CREATE_JSON = `${BANNER}Resource location: remote 

🌀 Creating namespace with title "CONFIG_CACHE"
✨ Success!
To access your new KV Namespace in your Worker, add the following snippet to your configuration file:
{
  "kv_namespaces": [
    {
      "binding": "CONFIG_CACHE",
      "id": "9f3c2a7b1e4d4c6a8b0e2f1d3c5a7b9e"
    }
  ]
}
? Would you like Wrangler to add it on your behalf?
🤖 Using fallback value in non-interactive context: no
`;

const KV_LIST = `[
  {
    "id": "0123456789abcdef0123456789abcdef",
    "title": "callrelay-CONFIG_CACHE",
    "supports_url_encoding": true
  },
  {
    "id": "9f3c2a7b1e4d4c6a8b0e2f1d3c5a7b9e",
    "title": "CONFIG_CACHE",
    "supports_url_encoding": true
  }
]
`;

const WRANGLER_TOML = `name = "callrelay"
main = "src/index.ts"

[[d1_databases]]
binding = "DB"
database_name = "callrelay"
database_id = "00000000-0000-0000-0000-000000000000"
migrations_dir = "migrations"

[[kv_namespaces]]
binding = "CONFIG_CACHE"
id = "00000000000000000000000000000000"

[[queues.producers]]
binding = "ACTIONS"
queue = "actions"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["CallLedger"]
`;

const IDS = {
  d1Binding: "DB",
  databaseId: "5bd1c7a2-3f7e-4b8a-9c21-0d6e8f4a1b23",
  kvBinding: "CONFIG_CACHE",
  kvNamespaceId: "9f3c2a7b1e4d4c6a8b0e2f1d3c5a7b9e",
};

describe("parseD1CreateOutput", () => {
  it("reads the database_id from the TOML snippet", () => {
    assert.equal(parseD1CreateOutput(D1_CREATE_TOML), "5bd1c7a2-3f7e-4b8a-9c21-0d6e8f4a1b23");
  });

  it("reads the database_id from the JSON snippet printed for wrangler.json projects", () => {
    assert.equal(parseD1CreateOutput(D1_CREATE_JSON), "5bd1c7a2-3f7e-4b8a-9c21-0d6e8f4a1b23");
  });

  it("finds nothing when the database already exists", () => {
    assert.equal(parseD1CreateOutput(BANNER + D1_ALREADY_EXISTS_STDERR), null);
  });

  it("reads through colour codes", () => {
    const coloured = D1_CREATE_TOML.replace('"5bd1', '"\u001b[32m5bd1').replace('1b23"', '1b23\u001b[39m"');
    assert.equal(parseD1CreateOutput(coloured), "5bd1c7a2-3f7e-4b8a-9c21-0d6e8f4a1b23");
  });
});

describe("parseKvCreateOutput", () => {
  it("reads the id from the TOML snippet", () => {
    assert.equal(parseKvCreateOutput(KV_CREATE_TOML), "9f3c2a7b1e4d4c6a8b0e2f1d3c5a7b9e");
  });

  it("reads the id from the JSON snippet", () => {
    assert.equal(parseKvCreateOutput(KV_CREATE_JSON), "9f3c2a7b1e4d4c6a8b0e2f1d3c5a7b9e");
  });

  it("does not mistake a D1 database_id for a KV id", () => {
    assert.equal(parseKvCreateOutput(D1_CREATE_TOML), null);
  });
});

describe("lookups after 'already exists'", () => {
  it("finds the database by exact name in `wrangler d1 list --json`", () => {
    assert.equal(findD1DatabaseId(D1_LIST_JSON, "callrelay"), "5bd1c7a2-3f7e-4b8a-9c21-0d6e8f4a1b23");
    assert.equal(findD1DatabaseId(D1_LIST_JSON, "missing"), null);
  });

  it("tolerates a warning printed before the JSON", () => {
    const noisy = `▲ [WARNING] Processing wrangler.toml configuration: something\n\n${D1_LIST_JSON}`;
    assert.equal(findD1DatabaseId(noisy, "callrelay"), "5bd1c7a2-3f7e-4b8a-9c21-0d6e8f4a1b23");
  });

  it("finds the namespace by exact title in `wrangler kv namespace list`", () => {
    assert.equal(findKvNamespaceId(KV_LIST, "CONFIG_CACHE"), "9f3c2a7b1e4d4c6a8b0e2f1d3c5a7b9e");
    assert.equal(findKvNamespaceId(KV_LIST, "OTHER"), null);
  });

  it("returns null for output that is not JSON", () => {
    assert.equal(findD1DatabaseId("You are not authenticated.", "callrelay"), null);
    assert.equal(findKvNamespaceId("", "CONFIG_CACHE"), null);
  });
});

describe("setResourceIds", () => {
  it("changes exactly the database_id and the KV id lines", () => {
    const after = setResourceIds(WRANGLER_TOML, IDS);
    assert.deepEqual(
      changedLines(WRANGLER_TOML, after).map((c) => c.after),
      ['database_id = "5bd1c7a2-3f7e-4b8a-9c21-0d6e8f4a1b23"', 'id = "9f3c2a7b1e4d4c6a8b0e2f1d3c5a7b9e"'],
    );
  });

  it("is idempotent", () => {
    const once = setResourceIds(WRANGLER_TOML, IDS);
    assert.equal(setResourceIds(once, IDS), once);
  });

  it("picks the block by binding and keeps comments on the line", () => {
    const toml = `[[kv_namespaces]]
binding = "OTHER"
id = "11111111111111111111111111111111"

[[kv_namespaces]]
id = "00000000000000000000000000000000" # filled in by setup
binding = "CONFIG_CACHE"
`;
    const after = setBindingValue(toml, { table: "kv_namespaces", binding: "CONFIG_CACHE", key: "id", value: "abc" });
    assert.match(after, /^id = "11111111111111111111111111111111"$/m);
    assert.match(after, /^id = "abc" # filled in by setup$/m);
  });

  it("keeps Windows line endings", () => {
    const crlf = WRANGLER_TOML.replaceAll("\n", "\r\n");
    const after = setResourceIds(crlf, IDS);
    assert.equal(after.replaceAll("\r\n", "").includes("\n"), false);
    assert.match(after, /database_id = "5bd1c7a2-3f7e-4b8a-9c21-0d6e8f4a1b23"\r\n/);
  });

  it("refuses a config without the binding instead of skipping it", () => {
    assert.throws(() => setResourceIds(WRANGLER_TOML.replace('binding = "DB"', 'binding = "OTHER"'), IDS), /binding = "DB"/);
  });

  it("refuses a block without the key", () => {
    const toml = WRANGLER_TOML.replace(/^id = .*$/m, "");
    assert.throws(() => setResourceIds(toml, IDS), /no id line/);
  });

  it("applies to the project's own wrangler.toml", () => {
    const real = readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8");
    assert.equal(changedLines(real, setResourceIds(real, IDS)).length <= 2, true);
    const after = setResourceIds(real, IDS);
    assert.match(after, /database_id = "5bd1c7a2-3f7e-4b8a-9c21-0d6e8f4a1b23"/);
    assert.match(after, /^id = "9f3c2a7b1e4d4c6a8b0e2f1d3c5a7b9e"/m);
  });
});

describe("suggested secrets", () => {
  it("API keys are 32 random bytes in base64url", () => {
    const key = generateApiKey();
    assert.match(key, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(key, "base64url").length, 32);
    assert.notEqual(generateApiKey(), key);
  });

  it("signing secrets are whsec_ + base64 of 32 random bytes", () => {
    const secret = generateSigningSecret();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(secret.slice("whsec_".length), "base64").length, 32);
  });
});
