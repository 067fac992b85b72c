import type { Mailbox } from "./address";

const CRLF = "\r\n";
/** RFC 2047 §2: an encoded-word is at most 75 chars, a header line holding one at most 76. */
const WORD_MAX = 75;
const WORD_LINE = 76;
/** `=?UTF-8?B?` and `?=` around the base64 text. */
const WORD_OVERHEAD = 12;
/** Past this an ASCII header value is encoded anyway, since encoded-words fold (RFC 5322 caps lines at 998). */
const MAX_PLAIN_HEADER = 900;

const utf8 = new TextEncoder();

/** Base64 of the UTF-8 bytes of `value` (btoa alone only takes Latin-1). */
export function base64Utf8(value: string): string {
  const bytes = utf8.encode(value);
  let binary = "";
  // Chunked: spreading a whole large body into one call overflows the argument limit.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

// "=?" in plain text would be read as the start of an encoded-word by a decoder.
const isPlainAscii = (value: string) => /^[\x20-\x7e]*$/.test(value) && !value.includes("=?");

/** How many bytes fit in one encoded-word on a line that already holds `used` chars. */
const wordBytes = (used: number) => Math.max(4, Math.floor((Math.min(WORD_MAX, WORD_LINE - used) - WORD_OVERHEAD) / 4) * 3);

/**
 * A header's free text (Subject, display names) per RFC 2047: plain ASCII stays readable;
 * anything else becomes UTF-8 "B" encoded-words, split between code points (never inside
 * one) and folded so that no line passes 76 chars. `used` is what precedes the text on its
 * first line, e.g. 9 for "Subject: ".
 */
export function encodeHeaderText(value: string, used = 0): string {
  if (isPlainAscii(value) && value.length <= MAX_PLAIN_HEADER) return value;
  const words: string[] = [];
  let chunk = "";
  for (const char of value) {
    // Continuation lines start with the one space of the fold.
    if (chunk && utf8.encode(chunk + char).length > wordBytes(words.length === 0 ? used : 1)) {
      words.push(`=?UTF-8?B?${base64Utf8(chunk)}?=`);
      chunk = "";
    }
    chunk += char;
  }
  if (chunk) words.push(`=?UTF-8?B?${base64Utf8(chunk)}?=`);
  return words.join(`${CRLF} `);
}

/**
 * A mailbox as a header shows it: bare address, atom phrase, quoted string, or encoded-words
 * with the address folded onto its own line so the encoded line stays within 76 chars.
 */
export function formatMailbox({ email, name }: Mailbox, used = 0): string {
  if (!name) return email;
  if (/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/.test(name) && !name.includes("=?")) return `${name} <${email}>`;
  if (isPlainAscii(name)) return `"${name.replace(/(["\\])/g, "\\$1")}" <${email}>`;
  return `${encodeHeaderText(name, used)}${CRLF} <${email}>`;
}

/** RFC 5322 date-time; "+0000" rather than the obsolete "GMT" zone. */
export const mailDate = (ms: number) => new Date(ms).toUTCString().replace(/GMT$/, "+0000");

/** The domain of an address, for Message-ID's right-hand side. */
export const domainOf = (address: string) => address.slice(address.lastIndexOf("@") + 1) || "callrelay.invalid";

/**
 * One text part. Base64 keeps any UTF-8 and any line length within SMTP's 7-bit, 998-char
 * rules; line ends become CRLF first because that is the canonical form of text (RFC 2045 §6.8).
 */
function textPart(type: "text/plain" | "text/html", content: string): string {
  const encoded = base64Utf8(content.replace(/\r\n|\r|\n/g, CRLF));
  return [`Content-Type: ${type}; charset=utf-8`, "Content-Transfer-Encoding: base64", "", ...(encoded.match(/.{1,76}/g) ?? [])].join(CRLF);
}

export interface MimeInput {
  from: Mailbox;
  to: Mailbox;
  subject: string;
  text: string;
  html?: string;
  /** Without angle brackets, e.g. `dlv_ab12@acme.test`. */
  messageId: string;
  date: number;
  /** Separates the parts; `=_` cannot occur in base64, so no content can collide with it. */
  boundary: string;
}

/**
 * A complete RFC 5322 / MIME message with CRLF line ends: text/plain alone, or
 * multipart/alternative with the plain part first (clients show the last part they can).
 */
export function buildMime(input: MimeInput): string {
  const headers = [
    `From: ${formatMailbox(input.from, "From: ".length)}`,
    `To: ${formatMailbox(input.to, "To: ".length)}`,
    `Subject: ${encodeHeaderText(input.subject, "Subject: ".length)}`,
    `Date: ${mailDate(input.date)}`,
    `Message-ID: <${input.messageId}>`,
    "MIME-Version: 1.0",
  ];
  if (input.html === undefined) return [...headers, textPart("text/plain", input.text), ""].join(CRLF);
  const b = input.boundary;
  return [
    ...headers,
    `Content-Type: multipart/alternative; boundary="${b}"`,
    "",
    `--${b}`,
    textPart("text/plain", input.text),
    `--${b}`,
    textPart("text/html", input.html),
    `--${b}--`,
    "",
  ].join(CRLF);
}
