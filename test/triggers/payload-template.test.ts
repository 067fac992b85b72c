import { describe, expect, it } from "vitest";
import { payloadValue, renderPayloadTemplate } from "../../src/triggers/payload-template";
import { TemplateError } from "../../src/templates/render";

const EVENT = {
  event_title: "Dental cleaning",
  attendee: { name: "Ana Silva", phones: ["+14155550100", "+14155550101"] },
  guests: 2,
  confirmed: false,
  notes: null,
  html: "<b>Tom & Jerry</b>",
  tags: ["vip", "new"],
  items: [{ sku: "a1" }, { sku: "b2" }],
};

describe("payloadValue", () => {
  it.each([
    ["event_title", "Dental cleaning"],
    ["attendee.name", "Ana Silva"],
    ["attendee.phones.1", "+14155550101"],
    ["items.0.sku", "a1"],
    ["guests", 2],
    ["confirmed", false],
    ["notes", null],
  ])("reads %s", (path, expected) => {
    expect(payloadValue(EVENT, path)).toEqual(expected);
  });

  it.each([
    ["missing"],
    ["attendee.missing"],
    ["attendee.phones.2"],
    ["attendee.phones.-1"],
    ["attendee.phones.01"],
    ["attendee.phones.length"],
    ["event_title.length"],
    ["constructor"],
    ["__proto__"],
    ["attendee.hasOwnProperty"],
    ["attendee.toString"],
    ["notes.x"],
    [""],
  ])("finds nothing at %s", (path) => {
    expect(payloadValue(EVENT, path)).toBeUndefined();
  });

  it("reads own keys that look like prototype names, since they are data", () => {
    expect(payloadValue(JSON.parse('{"constructor": "c", "__proto__": {"x": 1}}'), "__proto__.x")).toBe(1);
    expect(payloadValue({ constructor: "c" }, "constructor")).toBe("c");
  });

  it("reads numeric keys of objects and of null-prototype objects", () => {
    expect(payloadValue({ a: { "0": "zero" } }, "a.0")).toBe("zero");
    const bare = Object.assign(Object.create(null), { k: "v" });
    expect(payloadValue({ bare }, "bare.k")).toBe("v");
  });

  it("finds nothing inside scalars or a missing payload", () => {
    expect(payloadValue(undefined, "a")).toBeUndefined();
    expect(payloadValue("text", "0")).toBeUndefined();
    expect(payloadValue(42, "toFixed")).toBeUndefined();
  });
});

describe("renderPayloadTemplate", () => {
  it("renders nested keys and list items without HTML escaping", () => {
    expect(renderPayloadTemplate("Confirm {{event_title}} for {{ attendee.name }} at {{attendee.phones.0}}: {{html}}", EVENT)).toBe(
      "Confirm Dental cleaning for Ana Silva at +14155550100: <b>Tom & Jerry</b>",
    );
    expect(renderPayloadTemplate("{{{html}}}|{{& html}}", EVENT)).toBe("<b>Tom & Jerry</b>|<b>Tom & Jerry</b>");
  });

  it("renders scalars as text and null or absent values as nothing", () => {
    expect(renderPayloadTemplate("[{{guests}}|{{confirmed}}|{{notes}}|{{missing}}|{{attendee.missing.deeper}}]", EVENT)).toBe("[2|false|||]");
  });

  it("renders objects and lists bare as their JSON", () => {
    expect(renderPayloadTemplate("{{tags}} {{attendee}}", EVENT)).toBe(
      '["vip","new"] {"name":"Ana Silva","phones":["+14155550100","+14155550101"]}',
    );
    expect(renderPayloadTemplate("{{.}}", { a: 1 })).toBe('{"a":1}');
  });

  it("never reaches prototypes or calls functions", () => {
    expect(renderPayloadTemplate("[{{constructor}}|{{__proto__}}|{{toString}}|{{hasOwnProperty}}|{{event_title}}]", EVENT)).toBe(
      "[||||Dental cleaning]",
    );
    expect(renderPayloadTemplate("[{{event_title.constructor.name}}|{{event_title.length}}|{{tags.length}}|{{attendee.constructor.constructor}}]", EVENT)).toBe(
      "[|||]",
    );
    expect(renderPayloadTemplate("[{{#constructor}}x{{/constructor}}]", {})).toBe("[]");
    expect(renderPayloadTemplate("[{{fn}}]", { fn: () => "called" })).toBe("[]");
  });

  it("iterates lists and enters objects in sections, falling back to outer names", () => {
    expect(renderPayloadTemplate("{{#items}}{{sku}}/{{event_title}};{{/items}}", EVENT)).toBe("a1/Dental cleaning;b2/Dental cleaning;");
    expect(renderPayloadTemplate("{{#tags}}<{{.}}>{{/tags}}", EVENT)).toBe("<vip><new>");
    expect(renderPayloadTemplate("{{#attendee}}{{name}}{{/attendee}}", EVENT)).toBe("Ana Silva");
  });

  it("treats false, null, empty strings, 0 and empty lists as false, as mustache does", () => {
    const view = { f: false, n: null, e: "", z: 0, l: [], t: true, s: "x" };
    expect(renderPayloadTemplate("{{#f}}1{{/f}}{{#n}}2{{/n}}{{#e}}3{{/e}}{{#z}}4{{/z}}{{#l}}5{{/l}}{{#t}}6{{/t}}{{#s}}7{{/s}}{{#nope}}8{{/nope}}", view)).toBe(
      "67",
    );
    expect(renderPayloadTemplate("{{^f}}a{{/f}}{{^l}}b{{/l}}{{^nope}}c{{/nope}}{{^t}}d{{/t}}", view)).toBe("abc");
  });

  it("keeps the outer scope inside a section over true", () => {
    expect(renderPayloadTemplate("{{#t}}{{s}}{{/t}}", { t: true, s: "kept" })).toBe("kept");
  });

  it("ignores comments", () => {
    expect(renderPayloadTemplate("a{{! a note }}b", {})).toBe("ab");
  });

  it("does not read single braces", () => {
    expect(renderPayloadTemplate("{a} {{a}}", { a: "x" })).toBe("{a} x");
  });

  it("refuses partials and delimiter changes with a clear error", () => {
    expect(() => renderPayloadTemplate("{{> header}}", {})).toThrow(new TemplateError('partials are not supported ("{{> header}}")'));
    expect(() => renderPayloadTemplate("{{#a}}{{> inner}}{{/a}}", {})).toThrow(/partials are not supported/);
    expect(() => renderPayloadTemplate("{{=<% %>=}}<% a %>", { a: 1 })).toThrow(new TemplateError("changing delimiters is not supported"));
  });

  it("reports syntax errors", () => {
    expect(() => renderPayloadTemplate("Hi {{name", {})).toThrow(/^template syntax error: Unclosed tag at 9$/);
    expect(() => renderPayloadTemplate("{{#a}}x", {})).toThrow(TemplateError);
    expect(() => renderPayloadTemplate("{{/a}}", {})).toThrow(TemplateError);
  });

  it("stops a render whose work or size a payload could blow up", () => {
    const list = Array.from({ length: 100 }, (_, i) => i);
    expect(() => renderPayloadTemplate("{{#l}}{{#l}}{{#l}}{{/l}}{{/l}}{{/l}}", { l: list })).toThrow(/more than 250000 steps/);
    const big = "x".repeat(100_000);
    expect(() => renderPayloadTemplate("{{#l}}{{big}}{{/l}}", { l: list.slice(0, 11), big })).toThrow(/longer than 1000000 characters/);
    expect(renderPayloadTemplate("{{#l}}{{big}}{{/l}}", { l: list.slice(0, 10), big })).toHaveLength(1_000_000);
  });
});
