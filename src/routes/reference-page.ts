/**
 * The API reference at /docs: one HTML page rendered on the server from the OpenAPI document,
 * with inline styles, no script and no external request, so it works on a machine without
 * internet and cannot drift from /openapi.json.
 */

type Json = Record<string, unknown>;
type Schema = Json;

const METHODS = ["get", "put", "post", "patch", "delete", "head", "options"] as const;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const obj = (v: unknown): Json => (isObject(v) ? v : {});
const str = (v: unknown): string => (typeof v === "string" ? v : "");

function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Prose from the document: escaped, with `code` spans kept. */
function prose(text: unknown): string {
  return esc(str(text)).replace(/`([^`]+)`/g, "<code>$1</code>");
}

const anchor = (...parts: string[]) => parts.join("-").replace(/[^A-Za-z0-9_-]+/g, "-");
const refName = (ref: string) => ref.slice(ref.lastIndexOf("/") + 1);

/** A schema's type in one line, with links to named schemas. */
function typeOf(schema: unknown, depth = 0): string {
  const s = obj(schema);
  if (typeof s.$ref === "string") {
    const name = refName(s.$ref);
    return `<a href="#${anchor("schema", name)}">${esc(name)}</a>`;
  }
  if (depth > 4) return "…";
  for (const key of ["anyOf", "oneOf", "allOf"] as const) {
    const parts = s[key];
    if (Array.isArray(parts)) return parts.map((p) => typeOf(p, depth + 1)).join(key === "allOf" ? " &amp; " : " | ");
  }
  if (s.const !== undefined) return `<code>${esc(JSON.stringify(s.const))}</code>`;
  if (Array.isArray(s.enum)) return s.enum.map((v) => `<code>${esc(JSON.stringify(v))}</code>`).join(" | ");
  const types = Array.isArray(s.type) ? s.type.map(String) : typeof s.type === "string" ? [s.type] : [];
  const shown = types.map((t) => {
    if (t === "array") return `${typeOf(s.items, depth + 1)}[]`;
    if (t === "object" && isObject(s.additionalProperties) && !isObject(s.properties)) {
      return `map of ${typeOf(s.additionalProperties, depth + 1)}`;
    }
    if (t === "string" && typeof s.format === "string") return `string (${esc(s.format)})`;
    return esc(t);
  });
  return shown.length > 0 ? shown.join(" | ") : "any";
}

/** Limits worth knowing when writing a request, in a few words. */
function constraints(schema: Schema): string {
  const notes: string[] = [];
  const pairs: [string, string][] = [
    ["minLength", "min length"],
    ["maxLength", "max length"],
    ["minimum", "≥"],
    ["maximum", "≤"],
    ["minItems", "min items"],
    ["maxItems", "max items"],
    ["pattern", "pattern"],
    ["default", "default"],
  ];
  for (const [key, label] of pairs) {
    if (schema[key] !== undefined) notes.push(`${label} ${esc(typeof schema[key] === "string" ? schema[key] : JSON.stringify(schema[key]))}`);
  }
  return notes.length > 0 ? `<div class="muted">${notes.join("; ")}</div>` : "";
}

/** A table of an object schema's properties; empty for anything else. */
function propertiesTable(schema: unknown): string {
  const s = obj(schema);
  const props = obj(s.properties);
  const names = Object.keys(props);
  if (names.length === 0) return "";
  const required = new Set(Array.isArray(s.required) ? s.required.map(String) : []);
  const rows = names.map((name) => {
    const p = obj(props[name]);
    return (
      `<tr><td><code>${esc(name)}</code>${required.has(name) ? ' <span class="req">required</span>' : ""}</td>` +
      `<td>${typeOf(p)}</td><td>${prose(p.description)}${constraints(p)}</td></tr>`
    );
  });
  return `<table><thead><tr><th>Field</th><th>Type</th><th>Description</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function exampleBlock(example: unknown, label = "Example"): string {
  if (example === undefined) return "";
  return `<details><summary>${esc(label)}</summary><pre>${esc(JSON.stringify(example, null, 2))}</pre></details>`;
}

/** A body (request or response): each media type with its schema, fields and example. */
function content(content: unknown, schemas: Json): string {
  return Object.entries(obj(content))
    .map(([type, media]) => {
      const m = obj(media);
      const schema = obj(m.schema);
      const resolved = typeof schema.$ref === "string" ? obj(schemas[refName(schema.$ref)]) : schema;
      const example = m.example ?? resolved.example;
      const inline = typeof schema.$ref === "string" ? "" : propertiesTable(schema);
      return `<div class="media"><code>${esc(type)}</code>: ${typeOf(schema)}${inline}${exampleBlock(example)}</div>`;
    })
    .join("");
}

function parametersTable(parameters: unknown): string {
  if (!Array.isArray(parameters) || parameters.length === 0) return "";
  const rows = parameters.map((raw) => {
    const p = obj(raw);
    const schema = obj(p.schema);
    return (
      `<tr><td><code>${esc(p.name)}</code>${p.required ? ' <span class="req">required</span>' : ""}</td><td>${esc(p.in)}</td>` +
      `<td>${typeOf(schema)}</td><td>${prose(p.description ?? schema.description)}${constraints(schema)}</td></tr>`
    );
  });
  return `<h4>Parameters</h4><table><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function operation(id: string, method: string, title: string, op: Json, schemas: Json): string {
  const security = Array.isArray(op.security) ? op.security.flatMap((req) => Object.keys(obj(req))) : [];
  const body = obj(op.requestBody);
  const responses = Object.entries(obj(op.responses))
    .map(([status, raw]) => {
      const r = obj(raw);
      return `<li><span class="status s${esc(status.charAt(0))}">${esc(status)}</span> ${prose(r.description)}${content(r.content, schemas)}</li>`;
    })
    .join("");
  return (
    `<section class="op" id="${esc(id)}"><h3><span class="method ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(title)}</code></h3>` +
    `<p class="summary">${prose(op.summary)}</p>${op.description ? `<p>${prose(op.description)}</p>` : ""}` +
    (security.length > 0 ? `<p class="muted">Authentication: ${security.map((s) => `<a href="#${anchor("security", s)}">${esc(s)}</a>`).join(" or ")}</p>` : "") +
    parametersTable(op.parameters) +
    (Object.keys(body).length > 0
      ? `<h4>Request body${body.required ? "" : " (optional)"}</h4>${body.description ? `<p>${prose(body.description)}</p>` : ""}${content(body.content, schemas)}`
      : "") +
    `<h4>Responses</h4><ul class="responses">${responses}</ul></section>`
  );
}

interface Entry {
  id: string;
  method: string;
  title: string;
  op: Json;
}

function entries(items: unknown, prefix: string): Entry[] {
  return Object.entries(obj(items)).flatMap(([path, item]) =>
    METHODS.filter((m) => isObject(obj(item)[m])).map((method) => ({
      id: anchor(prefix, method, path),
      method,
      title: path,
      op: obj(obj(item)[method]),
    })),
  );
}

/** The whole page for an OpenAPI 3.1 document. */
export function renderReference(document: unknown): string {
  const doc = obj(document);
  const info = obj(doc.info);
  const components = obj(doc.components);
  const schemas = obj(components.schemas);
  const operations = entries(doc.paths, "op");
  const webhooks = entries(doc.webhooks, "webhook");

  const byTag = new Map<string, Entry[]>();
  for (const e of operations) {
    const tag = Array.isArray(e.op.tags) && typeof e.op.tags[0] === "string" ? e.op.tags[0] : "other";
    byTag.set(tag, [...(byTag.get(tag) ?? []), e]);
  }
  const navItem = (e: Entry) => `<li><a href="#${esc(e.id)}"><span class="method ${esc(e.method)}">${esc(e.method.toUpperCase())}</span> ${esc(e.title)}</a></li>`;
  const nav =
    [...byTag].map(([tag, list]) => `<h2>${esc(tag)}</h2><ul>${list.map(navItem).join("")}</ul>`).join("") +
    (webhooks.length > 0 ? `<h2>webhooks</h2><ul>${webhooks.map(navItem).join("")}</ul>` : "") +
    `<h2><a href="#schemas">schemas</a></h2>`;

  const sections =
    [...byTag]
      .map(([tag, list]) => `<h2 id="${esc(anchor("tag", tag))}">${esc(tag)}</h2>${list.map((e) => operation(e.id, e.method, e.title, e.op, schemas)).join("")}`)
      .join("") +
    (webhooks.length > 0
      ? `<h2 id="webhooks">Webhooks the relay sends</h2>${webhooks.map((e) => operation(e.id, e.method, e.title, e.op, schemas)).join("")}`
      : "");

  const security = Object.entries(obj(components.securitySchemes))
    .map(([name, raw]) => {
      const s = obj(raw);
      const how = s.type === "http" ? `HTTP ${esc(s.scheme)}` : `${esc(s.type)} in ${esc(s.in)} <code>${esc(s.name)}</code>`;
      return `<li id="${esc(anchor("security", name))}"><code>${esc(name)}</code> (${how}): ${prose(s.description)}</li>`;
    })
    .join("");

  const schemaSections = Object.entries(schemas)
    .map(([name, raw]) => {
      const s = obj(raw);
      const table = propertiesTable(s);
      return (
        `<section class="schema" id="${esc(anchor("schema", name))}"><h3>${esc(name)}</h3>` +
        `${s.description ? `<p>${prose(s.description)}</p>` : ""}${table || `<p>${typeOf(s)}</p>`}${exampleBlock(s.example)}</section>`
      );
    })
    .join("");

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(info.title)} API reference</title>
<style>${STYLE}</style></head>
<body><nav><p class="brand">${esc(info.title)} <span class="muted">${esc(info.version)}</span></p>${nav}</nav>
<main><h1>${esc(info.title)} API reference</h1><p>${prose(info.description)}</p>
<p>The machine-readable document is <a href="/openapi.json">/openapi.json</a> (OpenAPI ${esc(doc.openapi)}).</p>
${security ? `<h2 id="security">Authentication</h2><ul>${security}</ul>` : ""}
${sections}
<h2 id="schemas">Schemas</h2>${schemaSections}
</main></body></html>`;
}

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;display:flex}
nav{position:sticky;top:0;height:100vh;overflow:auto;width:300px;flex:none;padding:16px;border-right:1px solid #d0d7de;background:#f6f8fa;font-size:13px}
nav h2{font-size:12px;text-transform:uppercase;color:#59636e;margin:16px 0 4px}nav ul{list-style:none;margin:0;padding:0}nav li{margin:2px 0}
nav a{color:inherit;text-decoration:none}nav a:hover{text-decoration:underline}.brand{font-weight:600;font-size:16px;margin:0}
main{flex:1;min-width:0;padding:24px 40px;max-width:1100px}h1{margin-top:0}h2{border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:40px}
.op,.schema{border:1px solid #d0d7de;border-radius:6px;padding:12px 16px;margin:16px 0}h3{margin:0 0 4px;font-size:16px}h4{margin:12px 0 4px}
.summary{font-weight:600;margin:4px 0}.muted{color:#59636e;font-size:13px}code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace;background:#eff1f3;padding:1px 4px;border-radius:4px}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:8px;overflow:auto;font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
table{border-collapse:collapse;width:100%;margin:6px 0;font-size:14px}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa}
.method{display:inline-block;min-width:52px;text-align:center;border-radius:4px;color:#fff;font:600 11px ui-monospace,monospace;padding:2px 4px;background:#59636e}
.get{background:#0969da}.post{background:#1a7f37}.put{background:#9a6700}.patch{background:#8250df}.delete{background:#cf222e}
.req{color:#cf222e;font-size:11px}.responses{list-style:none;padding:0}.responses li{margin:6px 0}.media{margin:4px 0 4px 16px}
.status{font:600 12px ui-monospace,monospace;padding:1px 5px;border-radius:4px;background:#eff1f3}.s2{background:#dafbe1}.s4,.s5{background:#ffebe9}
details summary{cursor:pointer;color:#0969da;font-size:13px}
@media (max-width:800px){body{display:block}nav{position:static;width:auto;height:auto}main{padding:16px}}
`;
