import { describe, expect, it } from "vitest";
import { readBodyUpTo } from "../../src/providers/http";
import { classifyAnswer, errorMessageOf } from "../../src/outbound/dialers/answer";
import { callVariables } from "../../src/outbound/dialers/common";
import { callIdAt, renderHeaderValue } from "../../src/outbound/dialers/http";
import { DIALERS, MAX_ANSWER_BYTES, dialerFor, missingSetting, placeCall } from "../../src/outbound/dialers";
import type { DialRequest, DialerAdapter, DialerSettings, PlaceCallRequest } from "../../src/outbound/dialers/types";

const REQUEST: DialRequest = {
  outbound_call_id: "oc_5f2c9a1e7b3d4c6a8e0f1b2c",
  attempt: 2,
  agent_id: "agent_abc123",
  phone_number: "+14155551234",
  task: "Confirm the appointment for Dental cleaning on 2026-03-12 at 10:30.",
  caller_name: "Ana Silva",
  metadata: { event_id: "evt_123", slot: { day: "Tue", hour: 10 }, vip: true, note: null },
  relay_origin: "https://relay.example.com",
};

/** The correlation keys every platform carries, as metadata. */
const CORRELATION = { outbound_call_id: "oc_5f2c9a1e7b3d4c6a8e0f1b2c", relay_agent_id: "agent_abc123", attempt: 2 };
/** The same keys and the request's fields as flat prompt variables. */
const VARIABLES = {
  event_id: "evt_123",
  slot: '{"day":"Tue","hour":10}',
  vip: true,
  note: "",
  task: REQUEST.task,
  caller_name: "Ana Silva",
  ...CORRELATION,
};

const JSON_HEADERS = { "content-type": "application/json", accept: "application/json" };

const VAPI: DialerSettings<"vapi"> = { type: "vapi", assistant_id: "asst_5d2e1a", phone_number_id: "pn_77" };
const RETELL: DialerSettings<"retell"> = { type: "retell", from_number: "+14155550100", agent_id: "agent_retell_1" };
const BLAND: DialerSettings<"bland"> = { type: "bland", from: "+14155550100" };
const ELEVENLABS: DialerSettings<"elevenlabs"> = { type: "elevenlabs", agent_id: "agent_7101k2x", agent_phone_number_id: "phnum_456" };
const HTTP: DialerSettings<"http"> = {
  type: "http",
  url: "https://dialer.example.com/v1/calls",
  headers: { Authorization: "Bearer {{secret.DIALER_TOKEN}}", "X-Source": "callrelay" },
  body: {
    to: "{{phone_number}}",
    prompt: "Hi {{caller_name}}: {{task}}",
    reference: "{{outbound_call_id}}#{{attempt}}",
    agent: "{{agent_id}}",
    day: "{{metadata.slot.day}}",
    slot: "{{metadata.slot}}",
    context: "{{metadata}}",
    options: { record: true, retries: 0, tags: ["{{metadata.event_id}}", null] },
  },
  call_id_path: "data.call.id",
};

const ENV = {
  VAPI_API_KEY: " vapi-secret-key-123 ",
  RETELL_API_KEY: "key_retell_abcdef",
  BLAND_API_KEY: "sk-bland-abcdef",
  ELEVENLABS_API_KEY: "sk_eleven_abcdef",
  DIALER_TOKEN: "dialer-token-xyz",
  ALLOW_PRIVATE_TARGETS: "false",
};

function built<S>(adapter: DialerAdapter<S>, settings: S, env: Record<string, unknown> = ENV, request = REQUEST): PlaceCallRequest {
  const result = adapter.build(settings, request, env);
  if (!result.ok) throw new Error(`expected a request, got ${result.error}`);
  return result.request;
}

function buildError<S>(adapter: DialerAdapter<S>, settings: S, env: Record<string, unknown> = ENV, request = REQUEST): string {
  const result = adapter.build(settings, request, env);
  if (result.ok) throw new Error("expected a build error");
  return result.error;
}

interface Seen {
  url: string;
  init: RequestInit;
}

/** A fetch that answers every request with `response()` and records what it was sent. */
function answering(response: () => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    seen.push({ url: String(input), init: init ?? {} });
    return response();
  }) as typeof fetch;
  return { fetchFn, seen };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

/** A fetch that never answers but gives up when its signal does, as the real one does. */
const hanging = (async (_input: RequestInfo | URL, init?: RequestInit) =>
  new Promise<Response>((_resolve, reject) => {
    init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
  })) as typeof fetch;

const throwing = (async () => {
  throw new Error("Network connection lost.");
}) as typeof fetch;

/** The answers every platform must read the same way. */
function commonAnswers<S extends { type: string }>(adapter: DialerAdapter<S>, settings: S, label: string) {
  it("reads a 429 with Retry-After as retry", async () => {
    const { fetchFn } = answering(() => json(429, { message: "Too many requests" }, { "retry-after": "30" }));
    expect(await placeCall(adapter, settings, REQUEST, ENV, fetchFn)).toEqual({
      kind: "retry",
      status: 429,
      error: `${label} answered HTTP 429: Too many requests`,
      retry_after_seconds: 30,
      http_status: 429,
    });
  });

  it("reads a 500 as retry, without a Retry-After", async () => {
    const { fetchFn } = answering(() => new Response("<html>Internal Server Error</html>", { status: 500 }));
    expect(await placeCall(adapter, settings, REQUEST, ENV, fetchFn)).toEqual({
      kind: "retry",
      status: 500,
      error: `${label} answered HTTP 500`,
      http_status: 500,
    });
  });

  it("reads a thrown fetch and a timeout as unknown", async () => {
    const reset = await placeCall(adapter, settings, REQUEST, ENV, throwing);
    expect(reset).toEqual({ kind: "unknown", error: expect.stringContaining("Network connection lost.") });
    expect(reset.kind === "unknown" && reset.error).toMatch(/may or may not have been placed$/);
    expect(await placeCall(adapter, settings, REQUEST, ENV, hanging, 20)).toEqual({
      kind: "unknown",
      error: "no answer within 0.02 s; the call may or may not have been placed",
    });
  });

  it("sends the request once, as a POST, without following redirects", async () => {
    const { fetchFn, seen } = answering(() => new Response(null, { status: 302, headers: { location: "https://elsewhere.test/" } }));
    const result = await placeCall(adapter, settings, REQUEST, ENV, fetchFn);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.init).toMatchObject({ method: "POST", redirect: "manual" });
    expect(seen[0]!.init.signal).toBeInstanceOf(AbortSignal);
    expect(result).toEqual({ kind: "refused", status: 302, error: `${label} answered HTTP 302, a redirect, which is not followed: check the base URL`, http_status: 302 });
  });
}

describe("vapi dialer", () => {
  it("builds POST /call with the assistant, the number, the customer and the overrides", () => {
    const request = built(DIALERS.vapi, VAPI);
    expect(request.url).toBe("https://api.vapi.ai/call");
    expect(request.headers).toEqual({ authorization: "Bearer vapi-secret-key-123", ...JSON_HEADERS });
    expect(JSON.parse(request.body)).toEqual({
      assistantId: "asst_5d2e1a",
      phoneNumberId: "pn_77",
      customer: { number: "+14155551234", name: "Ana Silva" },
      assistantOverrides: {
        variableValues: VARIABLES,
        metadata: { event_id: "evt_123", slot: { day: "Tue", hour: 10 }, vip: true, note: null, ...CORRELATION },
      },
    });
  });

  it("clips the customer name to Vapi's 40 characters, leaves it out when there is none, and honours VAPI_BASE_URL", () => {
    const long = { ...REQUEST, caller_name: `${"A".repeat(39)} Lopez` };
    const body = JSON.parse(built(DIALERS.vapi, VAPI, ENV, long).body);
    expect(body.customer.name).toBe("A".repeat(39));
    expect(body.assistantOverrides.variableValues.caller_name).toBe(long.caller_name);
    const none = JSON.parse(built(DIALERS.vapi, VAPI, ENV, { ...REQUEST, caller_name: null, task: null }).body);
    expect(none.customer).toEqual({ number: "+14155551234" });
    expect(none.assistantOverrides.variableValues).toMatchObject({ task: "", caller_name: "" });
    expect(built(DIALERS.vapi, VAPI, { ...ENV, VAPI_BASE_URL: " https://vapi.double.test/ " }).url).toBe("https://vapi.double.test/call");
  });

  it("reads the call id from a 201", async () => {
    const { fetchFn } = answering(() => json(201, { id: "73a6da0f-c455", status: "queued", orgId: "org_1" }));
    expect(await placeCall(DIALERS.vapi, VAPI, REQUEST, ENV, fetchFn)).toEqual({ kind: "placed", platform_call_id: "73a6da0f-c455", http_status: 201 });
  });

  it("refuses on a 400 with Vapi's messages, and on a 2xx without an id", async () => {
    const bad = answering(() => json(400, { message: ["customer.number must be a valid phone number in the E.164 format."], error: "Bad Request", statusCode: 400 }));
    expect(await placeCall(DIALERS.vapi, VAPI, REQUEST, ENV, bad.fetchFn)).toEqual({
      kind: "refused",
      status: 400,
      error: "Vapi answered HTTP 400: customer.number must be a valid phone number in the E.164 format.",
      http_status: 400,
    });
    const noId = answering(() => json(201, { status: "queued" }));
    expect(await placeCall(DIALERS.vapi, VAPI, REQUEST, ENV, noId.fetchFn)).toMatchObject({
      kind: "refused",
      status: 201,
      error: "Vapi answered HTTP 201 without a call id (id)",
    });
  });

  it("names the key setting on a 401, and never shows the key", async () => {
    const { fetchFn } = answering(() => json(401, { message: "Invalid Key. Hot tip, you may be using the public key instead of the private key: vapi-secret-key-123" }));
    const result = await placeCall(DIALERS.vapi, VAPI, REQUEST, ENV, fetchFn);
    expect(result).toMatchObject({ kind: "refused", status: 401 });
    expect(result.kind === "refused" && result.error).toBe(
      "Vapi answered HTTP 401 (check VAPI_API_KEY): Invalid Key. Hot tip, you may be using the public key instead of the private key: [redacted]",
    );
  });

  it("does not send without VAPI_API_KEY: refused with status 0", async () => {
    const { fetchFn, seen } = answering(() => json(201, { id: "x" }));
    expect(await placeCall(DIALERS.vapi, VAPI, REQUEST, { VAPI_API_KEY: "  " }, fetchFn)).toEqual({
      kind: "refused",
      status: 0,
      error: "VAPI_API_KEY is not set",
    });
    expect(seen).toHaveLength(0);
  });

  commonAnswers(DIALERS.vapi, VAPI, "Vapi");
});

describe("retell dialer", () => {
  it("builds POST /v2/create-phone-call with string variables and the metadata", () => {
    const request = built(DIALERS.retell, RETELL);
    expect(request.url).toBe("https://api.retellai.com/v2/create-phone-call");
    expect(request.headers).toEqual({ authorization: "Bearer key_retell_abcdef", ...JSON_HEADERS });
    expect(JSON.parse(request.body)).toEqual({
      from_number: "+14155550100",
      to_number: "+14155551234",
      override_agent_id: "agent_retell_1",
      retell_llm_dynamic_variables: { ...VARIABLES, vip: "true", attempt: "2" },
      metadata: { event_id: "evt_123", slot: { day: "Tue", hour: 10 }, vip: true, note: null, ...CORRELATION },
    });
  });

  it("lets the number's own agent talk when no agent_id is set", () => {
    const body = JSON.parse(built(DIALERS.retell, { type: "retell", from_number: "+14155550100" }).body);
    expect(body).not.toHaveProperty("override_agent_id");
    for (const value of Object.values(body.retell_llm_dynamic_variables)) expect(typeof value).toBe("string");
  });

  it("reads call_id, and Retell's error message on a 400", async () => {
    const ok = answering(() => json(201, { call_id: "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6", call_status: "registered" }));
    expect(await placeCall(DIALERS.retell, RETELL, REQUEST, ENV, ok.fetchFn)).toEqual({
      kind: "placed",
      platform_call_id: "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6",
      http_status: 201,
    });
    const bad = answering(() => json(400, { status: "error", message: "from_number +14155550100 is not a Retell number" }));
    expect(await placeCall(DIALERS.retell, RETELL, REQUEST, ENV, bad.fetchFn)).toEqual({
      kind: "refused",
      status: 400,
      error: "Retell answered HTTP 400: from_number +14155550100 is not a Retell number",
      http_status: 400,
    });
  });

  commonAnswers(DIALERS.retell, RETELL, "Retell");
});

describe("bland dialer", () => {
  it("builds POST /v1/calls with the task as the prompt, a bare authorization key, request_data and metadata", () => {
    const request = built(DIALERS.bland, BLAND);
    expect(request.url).toBe("https://api.bland.ai/v1/calls");
    expect(request.headers).toEqual({ authorization: "sk-bland-abcdef", ...JSON_HEADERS });
    expect(JSON.parse(request.body)).toEqual({
      phone_number: "+14155551234",
      task: REQUEST.task,
      from: "+14155550100",
      request_data: {
        event_id: "evt_123",
        slot: { day: "Tue", hour: 10 },
        vip: true,
        note: null,
        task: REQUEST.task,
        caller_name: "Ana Silva",
        ...CORRELATION,
      },
      metadata: { event_id: "evt_123", slot: { day: "Tue", hour: 10 }, vip: true, note: null, ...CORRELATION },
      webhook: "https://relay.example.com/calls/ended/bland",
    });
    const unknownOrigin = JSON.parse(built(DIALERS.bland, BLAND, ENV, { ...REQUEST, relay_origin: null }).body);
    expect(unknownOrigin).not.toHaveProperty("webhook");
  });

  it("follows a pathway instead of the task, and needs one or the other", () => {
    const body = JSON.parse(built(DIALERS.bland, { type: "bland", pathway_id: "pw_1" }).body);
    expect(body).toMatchObject({ pathway_id: "pw_1", request_data: { task: REQUEST.task } });
    expect(body).not.toHaveProperty("task");
    expect(body).not.toHaveProperty("from");
    expect(buildError(DIALERS.bland, { type: "bland" }, ENV, { ...REQUEST, task: null })).toBe(
      "Bland needs a task for the call, or a pathway_id in the agent's outbound settings",
    );
  });

  it("reads call_id from a success, and refuses Bland's 200 error bodies with their message", async () => {
    const ok = answering(() => json(200, { status: "success", message: "Call successfully queued.", call_id: "9d404c1b-6a23", batch_id: null }));
    expect(await placeCall(DIALERS.bland, BLAND, REQUEST, ENV, ok.fetchFn)).toEqual({ kind: "placed", platform_call_id: "9d404c1b-6a23", http_status: 200 });
    const error = answering(() => json(200, { status: "error", message: "Invalid phone number", errors: ["phone_number"] }));
    expect(await placeCall(DIALERS.bland, BLAND, REQUEST, ENV, error.fetchFn)).toEqual({
      kind: "refused",
      status: 200,
      error: "Bland refused the call: Invalid phone number",
      http_status: 200,
    });
    const noId = answering(() => json(200, { status: "success", message: "Queued." }));
    expect(await placeCall(DIALERS.bland, BLAND, REQUEST, ENV, noId.fetchFn)).toMatchObject({
      kind: "refused",
      error: "Bland answered HTTP 200 without a call id (call_id): Queued.",
    });
  });

  it("refuses a 400 with Bland's message", async () => {
    const { fetchFn } = answering(() => json(400, { status: "error", message: "Missing task or pathway_id" }));
    expect(await placeCall(DIALERS.bland, BLAND, REQUEST, ENV, fetchFn)).toMatchObject({
      kind: "refused",
      status: 400,
      error: "Bland answered HTTP 400: Missing task or pathway_id",
    });
  });

  commonAnswers(DIALERS.bland, BLAND, "Bland");
});

describe("elevenlabs dialer", () => {
  it("builds POST /v1/convai/twilio/outbound-call with xi-api-key and the dynamic variables", () => {
    const request = built(DIALERS.elevenlabs, ELEVENLABS);
    expect(request.url).toBe("https://api.elevenlabs.io/v1/convai/twilio/outbound-call");
    expect(request.headers).toEqual({ "xi-api-key": "sk_eleven_abcdef", ...JSON_HEADERS });
    expect(JSON.parse(request.body)).toEqual({
      agent_id: "agent_7101k2x",
      agent_phone_number_id: "phnum_456",
      to_number: "+14155551234",
      conversation_initiation_client_data: { dynamic_variables: VARIABLES },
    });
  });

  it("reads conversation_id, or callSid when the conversation has no id yet", async () => {
    const ok = answering(() => json(200, { success: true, message: "Success", conversation_id: "conv_01jxk", callSid: "CA5d0d" }));
    expect(await placeCall(DIALERS.elevenlabs, ELEVENLABS, REQUEST, ENV, ok.fetchFn)).toEqual({ kind: "placed", platform_call_id: "conv_01jxk", http_status: 200 });
    const sidOnly = answering(() => json(200, { success: true, message: "Success", conversation_id: null, callSid: "CA5d0d" }));
    expect(await placeCall(DIALERS.elevenlabs, ELEVENLABS, REQUEST, ENV, sidOnly.fetchFn)).toMatchObject({ kind: "placed", platform_call_id: "CA5d0d" });
  });

  it("refuses success: false with its message, and a 422 with FastAPI's field errors", async () => {
    const failed = answering(() => json(200, { success: false, message: "Phone number phnum_456 is not assigned to an agent", conversation_id: null, callSid: null }));
    expect(await placeCall(DIALERS.elevenlabs, ELEVENLABS, REQUEST, ENV, failed.fetchFn)).toEqual({
      kind: "refused",
      status: 200,
      error: "ElevenLabs refused the call: Phone number phnum_456 is not assigned to an agent",
      http_status: 200,
    });
    const invalid = answering(() => json(422, { detail: [{ loc: ["body", "to_number"], msg: "field required", type: "value_error.missing" }] }));
    expect(await placeCall(DIALERS.elevenlabs, ELEVENLABS, REQUEST, ENV, invalid.fetchFn)).toMatchObject({
      kind: "refused",
      status: 422,
      error: "ElevenLabs answered HTTP 422: to_number: field required",
    });
    const unauthorized = answering(() => json(401, { detail: { status: "invalid_api_key", message: "Invalid API key" } }));
    expect(await placeCall(DIALERS.elevenlabs, ELEVENLABS, REQUEST, ENV, unauthorized.fetchFn)).toMatchObject({
      error: "ElevenLabs answered HTTP 401 (check ELEVENLABS_API_KEY): Invalid API key",
    });
  });

  commonAnswers(DIALERS.elevenlabs, ELEVENLABS, "ElevenLabs");
});

describe("http dialer", () => {
  it("builds the configured POST: secrets in headers, templates in the body, {{metadata}} as an object", () => {
    const request = built(DIALERS.http, HTTP);
    expect(request.url).toBe("https://dialer.example.com/v1/calls");
    expect(request.headers).toEqual({ ...JSON_HEADERS, authorization: "Bearer dialer-token-xyz", "x-source": "callrelay" });
    expect(JSON.parse(request.body)).toEqual({
      to: "+14155551234",
      prompt: `Hi Ana Silva: ${REQUEST.task}`,
      reference: "oc_5f2c9a1e7b3d4c6a8e0f1b2c#2",
      agent: "agent_abc123",
      day: "Tue",
      slot: '{"day":"Tue","hour":10}',
      context: REQUEST.metadata,
      options: { record: true, retries: 0, tags: ["evt_123", null] },
    });
  });

  it("does not HTML-escape, renders absent values as empty, and finds nothing on the prototype", () => {
    const settings = { ...HTTP, body: { a: "{{task}}|{{caller_name}}|{{metadata.constructor}}|{{constructor}}|{{metadata.missing}}", b: " {{ metadata }} " } };
    const request = { ...REQUEST, task: `<b>"Tom & Jerry's"</b>`, caller_name: null };
    expect(JSON.parse(built(DIALERS.http, settings, ENV, request).body)).toEqual({ a: `<b>"Tom & Jerry's"</b>||||`, b: REQUEST.metadata });
  });

  it("iterates lists in sections and renders a bare list or object as JSON", () => {
    const settings = { ...HTTP, body: { each: "{{#metadata.tags}}{{.}};{{/metadata.tags}}", bare: "{{metadata.tags}}", deep: "{{metadata.slot}}" } };
    const request = { ...REQUEST, metadata: { tags: ["vip", "callback"], slot: { day: "Tue" } } };
    expect(JSON.parse(built(DIALERS.http, settings, ENV, request).body)).toEqual({ each: "vip;callback;", bare: '["vip","callback"]', deep: '{"day":"Tue"}' });
  });

  it("lets the settings set their own content-type", () => {
    const settings = { ...HTTP, headers: { "Content-Type": "application/vnd.dialer+json" } };
    expect(built(DIALERS.http, settings).headers["content-type"]).toBe("application/vnd.dialer+json");
  });

  it("refuses to build with a missing secret, a request field in a header, a relay credential or a line break", () => {
    expect(buildError(DIALERS.http, HTTP, { ...ENV, DIALER_TOKEN: undefined })).toBe("header authorization: the Worker secret DIALER_TOKEN is not set");
    expect(buildError(DIALERS.http, { ...HTTP, headers: { "x-to": "{{phone_number}}" } })).toBe(
      "header x-to: only {{secret.NAME}} placeholders are allowed, not {{phone_number}}",
    );
    expect(buildError(DIALERS.http, { ...HTTP, headers: { "x-key": "{{secret.ADMIN_API_KEY}}" } }, { ...ENV, ADMIN_API_KEY: "admin" })).toBe(
      "header x-key: {{secret.ADMIN_API_KEY}} is the relay's own credential and is never sent",
    );
    // Nor the platforms' webhook secrets, with which call-ended events could be forged.
    for (const name of ["VAPI_WEBHOOK_SECRET", "RETELL_WEBHOOK_KEY", "RETELL_API_KEY", "BLAND_WEBHOOK_SECRET", "ELEVENLABS_WEBHOOK_SECRET"]) {
      expect(renderHeaderValue("x-key", `{{secret.${name}}}`, { [name]: "inbound-secret" }), name).toEqual({
        ok: false,
        error: `header x-key: {{secret.${name}}} is the relay's own credential and is never sent`,
      });
    }
    expect(renderHeaderValue("x-a", "{{secret.MULTI}}", { MULTI: "a\r\nx-evil: 1" })).toEqual({ ok: false, error: "header x-a: its value contains a line break" });
    expect(renderHeaderValue("x-a", "{{ secret.A }}-{{secret.B}}", { A: "1", B: " 2 " })).toEqual({ ok: true, value: "1-2" });
  });

  it("refuses a broken template, naming where it is", () => {
    expect(buildError(DIALERS.http, { ...HTTP, body: { call: { prompt: "{{#metadata}}unclosed" } } })).toMatch(/^body\.call\.prompt: template error: /);
  });

  it("refuses http://127.0.0.1 unless ALLOW_PRIVATE_TARGETS is true (or 1)", async () => {
    const local = { ...HTTP, url: "http://127.0.0.1:8787/dial" };
    const { fetchFn, seen } = answering(() => json(200, { data: { call: { id: "c1" } } }));
    const refused = await placeCall(DIALERS.http, local, REQUEST, ENV, fetchFn);
    expect(refused).toEqual({
      kind: "refused",
      status: 0,
      error: "dialer URL refused: loopback address 127.0.0.1 is not allowed (set ALLOW_PRIVATE_TARGETS=true for local development)",
    });
    expect(seen).toHaveLength(0);
    for (const flag of ["true", "1"]) {
      expect(await placeCall(DIALERS.http, local, REQUEST, { ...ENV, ALLOW_PRIVATE_TARGETS: flag }, fetchFn)).toMatchObject({ kind: "placed", platform_call_id: "c1" });
    }
    expect(seen.map((s) => s.url)).toEqual(["http://127.0.0.1:8787/dial", "http://127.0.0.1:8787/dial"]);
  });

  it("reads the call id at call_id_path, numbers too, and refuses an answer without one", async () => {
    const ok = answering(() => json(201, { data: { call: { id: 90210 } } }));
    expect(await placeCall(DIALERS.http, HTTP, REQUEST, ENV, ok.fetchFn)).toEqual({ kind: "placed", platform_call_id: "90210", http_status: 201 });
    const missing = answering(() => json(200, { data: { id: "c1" } }));
    expect(await placeCall(DIALERS.http, HTTP, REQUEST, ENV, missing.fetchFn)).toEqual({
      kind: "refused",
      status: 200,
      error: "The dialer (dialer.example.com) answered HTTP 200 without a call id (data.call.id)",
      http_status: 200,
    });
    expect(callIdAt({ calls: [{ id: " c9 " }] }, "calls.0.id")).toBe("c9");
    expect(callIdAt({ data: { id: "" } }, "data.id")).toBeNull();
    expect(callIdAt({ data: { id: { nested: 1 } } }, "data.id")).toBeNull();
    expect(callIdAt({ data: {} }, "data.constructor")).toBeNull();
  });

  it("keeps the dialer token out of errors", async () => {
    const { fetchFn } = answering(() => json(403, { error: { message: "token dialer-token-xyz has no access" } }));
    expect(await placeCall(DIALERS.http, HTTP, REQUEST, ENV, fetchFn)).toMatchObject({
      kind: "refused",
      status: 403,
      error: "The dialer (dialer.example.com) answered HTTP 403: token [redacted] has no access",
    });
  });

  commonAnswers(DIALERS.http, HTTP, "The dialer (dialer.example.com)");
});

describe("placeCall and the shared reading of answers", () => {
  const reading = { label: "Vapi", idField: "id", callId: () => null };

  it("reads a 504 as unknown: the gateway stopped waiting, the platform may have the call", async () => {
    const { fetchFn } = answering(() => new Response("upstream request timeout", { status: 504 }));
    expect(await placeCall(DIALERS.vapi, VAPI, REQUEST, ENV, fetchFn)).toEqual({
      kind: "unknown",
      error: "Vapi answered HTTP 504 (gateway timeout): the call may or may not have been placed: upstream request timeout",
      http_status: 504,
    });
  });

  it("reads 408 as retry, and a Retry-After date", () => {
    const now = Date.UTC(2026, 2, 10, 15, 0, 0);
    expect(classifyAnswer(408, "", new Headers(), reading, now)).toEqual({ kind: "retry", status: 408, error: "Vapi answered HTTP 408" });
    expect(classifyAnswer(503, "", new Headers({ "retry-after": "Tue, 10 Mar 2026 15:02:00 GMT" }), reading, now)).toMatchObject({
      kind: "retry",
      retry_after_seconds: 120,
    });
  });

  it("reads a 2xx whose body broke off as unknown", async () => {
    const broken = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"id":'));
        controller.error(new Error("Network connection lost."));
      },
    });
    const { fetchFn } = answering(() => new Response(broken, { status: 201 }));
    expect(await placeCall(DIALERS.vapi, VAPI, REQUEST, ENV, fetchFn)).toEqual({
      kind: "unknown",
      error: "vapi answered HTTP 201 but the answer broke off",
      http_status: 201,
    });
  });

  it("reads a 2xx too long to read whole as unknown, and a long answer that fits as placed", async () => {
    // Vapi's Call echoes the overrides: non-Latin metadata comes back well past 64 KiB.
    const echoed = json(201, { id: "vapi-long", assistantOverrides: { metadata: { note: "予約確認".repeat(7_000) } } });
    expect(await placeCall(DIALERS.vapi, VAPI, REQUEST, ENV, answering(() => echoed).fetchFn)).toEqual({
      kind: "placed",
      platform_call_id: "vapi-long",
      http_status: 201,
    });
    const huge = json(201, { id: "vapi-huge", padding: "x".repeat(MAX_ANSWER_BYTES) });
    expect(await placeCall(DIALERS.vapi, VAPI, REQUEST, ENV, answering(() => huge).fetchFn)).toEqual({
      kind: "unknown",
      error: "vapi answered HTTP 201 but the answer was too long to read whole",
      http_status: 201,
    });
  });

  it("tells a body cut at the cap from one that ends exactly there", async () => {
    const body = (bytes: number) => new Response("a".repeat(bytes));
    expect(await readBodyUpTo(body(16), 16)).toEqual({ text: "a".repeat(16), complete: true, truncated: false });
    expect(await readBodyUpTo(body(17), 16)).toEqual({ text: "a".repeat(16), complete: true, truncated: true });
  });

  it("refuses settings of another platform without sending", async () => {
    const { fetchFn, seen } = answering(() => json(201, { id: "x" }));
    expect(await placeCall(dialerFor("vapi"), RETELL as never, REQUEST, ENV, fetchFn)).toEqual({
      kind: "refused",
      status: 0,
      error: "retell settings given to the vapi dialer",
    });
    expect(seen).toHaveLength(0);
  });

  it("extracts messages from the common error shapes, clipped to 300 characters", () => {
    expect(errorMessageOf('{"message":"m"}')).toBe("m");
    expect(errorMessageOf('{"error":"e"}')).toBe("e");
    expect(errorMessageOf('{"error":{"message":"nested","type":"invalid_request"}}')).toBe("nested");
    expect(errorMessageOf('{"detail":"d"}')).toBe("d");
    expect(errorMessageOf('{"errors":[{"message":"a"},"b"]}')).toBe("a; b");
    expect(errorMessageOf("plain text\nerror")).toBe("plain text error");
    expect(errorMessageOf("<!doctype html><h1>Bad gateway</h1>")).toBeNull();
    expect(errorMessageOf('{"ok":false}')).toBeNull();
    expect(errorMessageOf("")).toBeNull();
    const long = errorMessageOf(JSON.stringify({ message: "x".repeat(1000) }))!;
    expect(long).toHaveLength(300);
    expect(long.endsWith("…")).toBe(true);
  });

  it("flattens metadata into variables, the request's fields and correlation keys winning", () => {
    const request = { ...REQUEST, metadata: { outbound_call_id: "oc_other", task: "other", list: [1, 2] } };
    expect(callVariables(request)).toEqual({ list: "[1,2]", task: REQUEST.task, caller_name: "Ana Silva", ...CORRELATION });
  });
});

describe("the dialer registry", () => {
  it("has an adapter per real platform, and none for the simulator", () => {
    expect(Object.keys(DIALERS).sort()).toEqual(["bland", "elevenlabs", "http", "retell", "vapi"]);
    for (const [type, adapter] of Object.entries(DIALERS)) expect(adapter.type).toBe(type);
    expect(dialerFor("simulator")).toBeNull();
    expect(dialerFor("constructor")).toBeNull();
    expect(dialerFor("bland")).toBe(DIALERS.bland);
  });

  it("names each platform's settings", () => {
    expect(Object.values(DIALERS).map((d) => [d.type, d.apiKeySetting, d.baseUrlSetting, d.defaultBaseUrl])).toEqual([
      ["vapi", "VAPI_API_KEY", "VAPI_BASE_URL", "https://api.vapi.ai"],
      ["retell", "RETELL_API_KEY", "RETELL_BASE_URL", "https://api.retellai.com"],
      ["bland", "BLAND_API_KEY", "BLAND_BASE_URL", "https://api.bland.ai"],
      ["elevenlabs", "ELEVENLABS_API_KEY", "ELEVENLABS_BASE_URL", "https://api.elevenlabs.io"],
      ["http", null, null, null],
    ]);
    expect(missingSetting(DIALERS.retell, {})).toBe("RETELL_API_KEY");
    expect(missingSetting(DIALERS.retell, ENV)).toBeNull();
    expect(missingSetting(DIALERS.http, {})).toBeNull();
  });
});
