import { describe, expect, it } from "vitest";
import { formKeyPath, parseFormBody } from "../../src/triggers/form-body";

/** Plain JSON of the result, so assertions see exactly its own keys and lists. */
const plain = (value: unknown) => JSON.parse(JSON.stringify(value));

describe("parseFormBody", () => {
  it("reads flat keys with form decoding", () => {
    expect(plain(parseFormBody("phone_number=%2B14155551234&task=Confirm+the+appointment&caller_name=Ana%20Silva"))).toEqual({
      phone_number: "+14155551234",
      task: "Confirm the appointment",
      caller_name: "Ana Silva",
    });
  });

  it.each([
    ["Zapier", "metadata__event_id=evt_123&metadata__calendar_id=cal_9"],
    ["PHP / Make", "metadata%5Bevent_id%5D=evt_123&metadata[calendar_id]=cal_9"],
    ["n8n", "metadata.event_id=evt_123&metadata.calendar_id=cal_9"],
  ])("nests %s keys", (_tool, body) => {
    expect(plain(parseFormBody(body))).toEqual({ metadata: { event_id: "evt_123", calendar_id: "cal_9" } });
  });

  it("nests to any depth and mixes the styles", () => {
    expect(plain(parseFormBody("a__b__c=1&a.b.d=2&a[e][f]=3&a.b[g]=4"))).toEqual({ a: { b: { c: "1", d: "2", g: "4" }, e: { f: "3" } } });
  });

  it("keeps the segments past eight levels as one literal key", () => {
    expect(plain(parseFormBody("a[b][c][d][e][f][g][h][i][j]=deep"))).toEqual({
      a: { b: { c: { d: { e: { f: { g: { "h.i.j": "deep" } } } } } } },
    });
    expect(plain(parseFormBody("k1.k2.k3.k4.k5.k6.k7.k8=8"))).toEqual({ k1: { k2: { k3: { k4: { k5: { k6: { k7: { k8: "8" } } } } } } } });
  });

  it("makes lists of [] keys and of repeated keys", () => {
    expect(plain(parseFormBody("tags[]=a&tags[]=b&one[]=x&tag=c&tag=d&meta.ids=1&meta.ids=2"))).toEqual({
      tags: ["a", "b"],
      one: ["x"],
      tag: ["c", "d"],
      meta: { ids: ["1", "2"] },
    });
  });

  it("makes lists of keys 0..n-1, in any order", () => {
    expect(plain(parseFormBody("items[1][sku]=b2&items[0][sku]=a1&line_items__0__qty=3"))).toEqual({
      items: [{ sku: "a1" }, { sku: "b2" }],
      line_items: [{ qty: "3" }],
    });
    // Not dense from zero: an object.
    expect(plain(parseFormBody("slots[1]=x&slots[2]=y"))).toEqual({ slots: { "1": "x", "2": "y" } });
    expect(plain(parseFormBody("codes[01]=x"))).toEqual({ codes: { "01": "x" } });
  });

  it("keeps every value a string, empty ones included", () => {
    expect(plain(parseFormBody("n=5&b=true&e=&bare"))).toEqual({ n: "5", b: "true", e: "", bare: "" });
  });

  it("drops prototype keys in every style, without touching Object.prototype", () => {
    const body = "__proto__[polluted]=1&constructor[prototype][polluted]=1&a[__proto__][polluted]=1&a.constructor=1&b__prototype__x=1&ok=1";
    const parsed = parseFormBody(body);
    expect(plain(parsed)).toEqual({ ok: "1" });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("gives plain objects at every depth, which structured clone can copy", () => {
    const parsed = parseFormBody("metadata__attendee__email=a%40b.c&metadata[event_id]=e") as { metadata: { attendee: object } };
    expect(Object.getPrototypeOf(parsed.metadata.attendee)).toBe(Object.prototype);
    expect(structuredClone(parsed)).toEqual({ metadata: { attendee: { email: "a@b.c" }, event_id: "e" } });
  });

  it("keeps the nested object when a key is both a value and an object, in either order", () => {
    expect(plain(parseFormBody("a=1&a.b=2"))).toEqual({ a: { b: "2" } });
    expect(plain(parseFormBody("a.b=2&a=1"))).toEqual({ a: { b: "2" } });
    expect(plain(parseFormBody("metadata=%5Bobject+Object%5D&metadata.event_id=e"))).toEqual({ metadata: { event_id: "e" } });
    expect(plain(parseFormBody("a.b=1&a.b.c=2"))).toEqual({ a: { b: { c: "2" } } });
  });

  it("reads odd keys literally instead of guessing", () => {
    expect(plain(parseFormBody("__typename=T&a..b=1&.x=2&y.=3&a[b=4&c]=5&[d]=6&e[][f]=7"))).toEqual({
      __typename: "T",
      "a..b": "1",
      ".x": "2",
      "y.": "3",
      "a[b": "4",
      "c]": "5",
      "[d]": "6",
      "e[][f]": "7",
    });
  });

  it("skips empty keys and reads an empty body as an empty object", () => {
    expect(plain(parseFormBody("=x&&a=1"))).toEqual({ a: "1" });
    expect(plain(parseFormBody(""))).toEqual({});
  });
});

describe("formKeyPath", () => {
  it.each([
    ["a", { path: ["a"], append: false }],
    ["a__b", { path: ["a", "b"], append: false }],
    ["a.b", { path: ["a", "b"], append: false }],
    ["a[b][c]", { path: ["a", "b", "c"], append: false }],
    ["a[]", { path: ["a"], append: true }],
    ["a.b[]", { path: ["a", "b"], append: true }],
    ["a[b.c]", { path: ["a", "b.c"], append: false }],
  ])("%s", (key, expected) => {
    expect(formKeyPath(key)).toEqual(expected);
  });

  it.each([[""], ["__proto__"], ["x[constructor]"], ["prototype.x"]])("drops %j", (key) => {
    expect(formKeyPath(key)).toBeNull();
  });
});
