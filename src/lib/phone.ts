import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString, validatePhoneNumberLength } from "libphonenumber-js/min";

/**
 * Phone numbers as providers want them: E.164 (`+14155551234`). Parsing and checking use
 * libphonenumber's metadata (the `min` set). A number is accepted when it has a known country
 * calling code and a possible length for its country; its digits are not matched against
 * assigned ranges, which go stale and would refuse newly assigned (or reserved test) numbers.
 */
export type PhoneResult = { ok: true; e164: string; country?: CountryCode } | { ok: false; reason: string };

/** An ISO 3166 alpha-2 code with a numbering plan, upper-cased ("us" → "US"); undefined otherwise. */
export function countryCode(value: string | null | undefined): CountryCode | undefined {
  const code = value?.trim().toUpperCase();
  return code && /^[A-Z]{2}$/.test(code) && isSupportedCountry(code) ? code : undefined;
}

/** Whether a value names a country a number can be read in, for validating settings. */
export const isCountryCode = (value: string) => countryCode(value) !== undefined;

/**
 * Parses a number as written (`+1 415 555 1234`, `(415) 555-1234`, `415.555.1234`) into
 * E.164. A number without `+` (or an international prefix such as 00) is read in
 * `defaultCountry`; with none, it cannot be placed and is refused. Anything that is not
 * wholly a phone number (`anonymous`, `call 415…`) is refused with the reason.
 */
export function normalisePhone(input: string, defaultCountry?: string | null): PhoneResult {
  const value = input.trim();
  if (value === "") return { ok: false, reason: "no number" };
  const country = countryCode(defaultCountry);
  const quoted = JSON.stringify(value);
  if (!/\d/.test(value)) return { ok: false, reason: `${quoted} is not a phone number` };
  const international = value.startsWith("+");
  const parsed = parsePhoneNumberFromString(value, { defaultCountry: country, extract: false });
  if (!parsed) {
    const length = validatePhoneNumberLength(value, { defaultCountry: country });
    if (length === "INVALID_COUNTRY") {
      return international
        ? { ok: false, reason: `${quoted} has an unknown country calling code` }
        : { ok: false, reason: `${quoted} has no country code: write it with + and the country code, or set a default country` };
    }
    return { ok: false, reason: `${quoted} is not a phone number` };
  }
  const where = parsed.country ?? `+${parsed.countryCallingCode}`;
  if (!parsed.isPossible()) {
    const length = validatePhoneNumberLength(value, { defaultCountry: country });
    if (length === "TOO_SHORT") return { ok: false, reason: `${quoted} is too short for a ${where} number` };
    if (length === "TOO_LONG") return { ok: false, reason: `${quoted} is too long for a ${where} number` };
    return { ok: false, reason: `${quoted} is not a possible ${where} number` };
  }
  return { ok: true, e164: parsed.number, ...(parsed.country ? { country: parsed.country } : {}) };
}

/** The E.164 form of a number when it parses; otherwise the value as given. For display in templates. */
export function displayPhone(input: string, defaultCountry?: string | null): string {
  const result = normalisePhone(input, defaultCountry);
  return result.ok ? result.e164 : input;
}
