// GSM 03.38 basic character set and its extension table (each extension char costs two septets).
const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENDED = "^{}\\[~]|€\f";
const BASIC = new Set(GSM_BASIC);
const EXTENDED = new Set(GSM_EXTENDED);

export interface SmsSegments {
  encoding: "GSM-7" | "UCS-2";
  /** Septets for GSM-7, UTF-16 code units for UCS-2. */
  units: number;
  segments: number;
}

/**
 * How carriers will split a text: GSM-7 fits 160 septets in one part or 153 per part of a
 * longer message; a single character outside GSM-7 switches the whole text to UCS-2, with
 * 70 code units in one part or 67 per part.
 */
export function smsSegments(body: string): SmsSegments {
  let septets = 0;
  for (const char of body) {
    if (BASIC.has(char)) septets += 1;
    else if (EXTENDED.has(char)) septets += 2;
    else {
      const units = body.length;
      return { encoding: "UCS-2", units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
    }
  }
  return { encoding: "GSM-7", units: septets, segments: septets <= 160 ? 1 : Math.ceil(septets / 153) };
}

export const describeSegments = (s: SmsSegments) => `${s.segments} segment${s.segments === 1 ? "" : "s"} (${s.encoding}, ${s.units} units)`;
