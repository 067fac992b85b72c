import { describe, expect, it } from "vitest";
import { countryCode, displayPhone, normalisePhone } from "../../src/lib/phone";

describe("normalisePhone", () => {
  // input, default country, E.164 (or null when refused)
  const table: [string, string | undefined, string | null][] = [
    ["+14155551234", undefined, "+14155551234"],
    ["+1 (415) 555-1234", undefined, "+14155551234"],
    ["+14155551234", "GB", "+14155551234"],
    [" +14155551234 ", undefined, "+14155551234"],
    ["415-555-1234", "US", "+14155551234"],
    ["(415) 555-1234", "US", "+14155551234"],
    ["415.555.1234", "us", "+14155551234"],
    ["4155551234", "US", "+14155551234"],
    ["1 415 555 1234", "US", "+14155551234"],
    ["4155551234", "CA", "+14155551234"],
    ["020 7946 0958", "GB", "+442079460958"],
    ["07700 900123", "GB", "+447700900123"],
    ["00 44 20 7946 0958", "FR", "+442079460958"],
    ["011 44 20 7946 0958", "US", "+442079460958"],
    ["06 12 34 56 78", "FR", "+33612345678"],
    ["0151 12345678", "DE", "+4915112345678"],
    ["4155551234", undefined, null],
    ["415-555-1234", undefined, null],
    ["020 7946 0958", undefined, null],
    ["415-555-1234", "ZZ", null],
    ["anonymous", "US", null],
    ["anonymous", undefined, null],
    ["restricted", "GB", null],
    ["", "US", null],
    ["+1 415 555", undefined, null],
    ["+1 415 555", "US", null],
    ["+1 415 555 1234 5", undefined, null],
    ["415-555", "US", null],
    ["call 415-555-1234", "US", null],
    ["4155551234abc", "US", null],
    ["+999 1234 5678", undefined, null],
  ];
  it.each(table)("%j in %s → %s", (input, country, expected) => {
    const result = normalisePhone(input, country);
    if (expected === null) {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).not.toBe("");
    } else {
      expect(result).toMatchObject({ ok: true, e164: expected });
    }
  });

  it("says why a number is refused", () => {
    const reason = (input: string, country?: string) => {
      const r = normalisePhone(input, country);
      return r.ok ? "" : r.reason;
    };
    expect(reason("anonymous", "US")).toBe('"anonymous" is not a phone number');
    expect(reason("4155551234")).toMatch(/"4155551234" has no country code: write it with \+/);
    expect(reason("415-555-1234")).toMatch(/has no country code/);
    expect(reason("+1 415 555")).toMatch(/"\+1 415 555" is too short/);
    expect(reason("+1 415 555 1234 5")).toMatch(/too long/);
    expect(reason("+999 1234 5678")).toMatch(/unknown country calling code/);
    expect(reason("   ")).toBe("no number");
  });
});

describe("countryCode", () => {
  it("accepts ISO 3166 alpha-2 codes with a numbering plan, in any case", () => {
    expect(countryCode("US")).toBe("US");
    expect(countryCode(" gb ")).toBe("GB");
    for (const bad of ["", "USA", "U", "ZZ", "1A", "uk", undefined, null]) expect(countryCode(bad)).toBeUndefined();
  });
});

describe("displayPhone", () => {
  it("shows E.164 when the value parses, else the value as given", () => {
    expect(displayPhone("(415) 555-1234", "US")).toBe("+14155551234");
    expect(displayPhone("(415) 555-1234")).toBe("(415) 555-1234");
    expect(displayPhone("anonymous", "US")).toBe("anonymous");
    expect(displayPhone("")).toBe("");
  });
});
