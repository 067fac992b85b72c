import { describe, expect, it } from "vitest";
import { describeSegments, smsSegments } from "../../src/providers/sms/segments";

describe("smsSegments", () => {
  it("fits 160 GSM-7 characters in one part and splits longer texts into 153-septet parts", () => {
    expect(smsSegments("a".repeat(160))).toEqual({ encoding: "GSM-7", units: 160, segments: 1 });
    expect(smsSegments("a".repeat(161))).toEqual({ encoding: "GSM-7", units: 161, segments: 2 });
    expect(smsSegments("a".repeat(306)).segments).toBe(2);
    expect(smsSegments("a".repeat(307)).segments).toBe(3);
  });

  it("counts the GSM-7 basic set's accented letters and Greek capitals as one septet", () => {
    const text = "£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉÄÖÑÜ§¿äöñüà@$\n\r";
    expect(smsSegments(text)).toEqual({ encoding: "GSM-7", units: text.length, segments: 1 });
  });

  it("counts extension characters such as € and { as two septets", () => {
    expect(smsSegments("€")).toEqual({ encoding: "GSM-7", units: 2, segments: 1 });
    expect(smsSegments("{}[]~|^\\")).toMatchObject({ encoding: "GSM-7", units: 16 });
    expect(smsSegments(`${"a".repeat(159)}€`)).toMatchObject({ units: 161, segments: 2 });
    expect(smsSegments("€".repeat(80))).toMatchObject({ units: 160, segments: 1 });
  });

  it("switches the whole text to UCS-2 for one character outside GSM-7: 70 units, then 67 per part", () => {
    expect(smsSegments("✓")).toEqual({ encoding: "UCS-2", units: 1, segments: 1 });
    expect(smsSegments(`✓${"a".repeat(69)}`)).toEqual({ encoding: "UCS-2", units: 70, segments: 1 });
    expect(smsSegments(`✓${"a".repeat(70)}`)).toEqual({ encoding: "UCS-2", units: 71, segments: 2 });
    expect(smsSegments(`✓${"a".repeat(133)}`).segments).toBe(2);
    expect(smsSegments(`✓${"a".repeat(134)}`).segments).toBe(3);
    // Lower-case ç is not in GSM-7 (only Ç is).
    expect(smsSegments("ça").encoding).toBe("UCS-2");
  });

  it("counts an emoji as two UTF-16 units", () => {
    expect(smsSegments("😀")).toEqual({ encoding: "UCS-2", units: 2, segments: 1 });
    expect(smsSegments("😀".repeat(35))).toMatchObject({ units: 70, segments: 1 });
    expect(smsSegments("😀".repeat(36))).toMatchObject({ units: 72, segments: 2 });
  });

  it("treats an empty text as one GSM-7 part and describes counts for the log", () => {
    expect(smsSegments("")).toEqual({ encoding: "GSM-7", units: 0, segments: 1 });
    expect(describeSegments(smsSegments("a".repeat(161)))).toBe("2 segments (GSM-7, 161 units)");
    expect(describeSegments(smsSegments("hi"))).toBe("1 segment (GSM-7, 2 units)");
  });
});
