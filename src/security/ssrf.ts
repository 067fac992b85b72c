/**
 * Guard for user-supplied outbound URLs (webhook targets).
 * Workers cannot resolve DNS before fetch, so this checks the URL itself: IP literals
 * in non-public ranges and hostnames that only make sense on a private network.
 * A public name that resolves to a private address is not caught here.
 */

export type TargetCheck = { ok: true; url: URL } | { ok: false; reason: string };

const LOCAL_DEV_HINT = "(set ALLOW_PRIVATE_TARGETS=true for local development)";

type Range = { base: number; bits: number; label: string };

const REFUSED_IPV4: readonly Range[] = [
  { base: ipv4(0, 0, 0, 0), bits: 8, label: "unspecified (0.0.0.0/8)" },
  { base: ipv4(10, 0, 0, 0), bits: 8, label: "private" },
  { base: ipv4(100, 64, 0, 0), bits: 10, label: "carrier-grade NAT (100.64.0.0/10)" },
  { base: ipv4(127, 0, 0, 0), bits: 8, label: "loopback" },
  { base: ipv4(169, 254, 0, 0), bits: 16, label: "link-local (incl. cloud metadata)" },
  { base: ipv4(172, 16, 0, 0), bits: 12, label: "private" },
  { base: ipv4(192, 168, 0, 0), bits: 16, label: "private" },
  { base: ipv4(224, 0, 0, 0), bits: 4, label: "multicast" },
  { base: ipv4(240, 0, 0, 0), bits: 4, label: "reserved" },
];

const REFUSED_HOST_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa"] as const;

function ipv4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** Parses a dotted-quad IPv4 address to a 32-bit number, or null. */
export function parseIpv4(host: string): number | null {
  const parts = host.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

/** Parses an IPv6 address (no brackets, no zone) to eight 16-bit groups, or null. */
export function parseIpv6(host: string): number[] | null {
  // The URL serialiser emits hex only, but direct callers may pass a dotted IPv4 tail.
  const dotted = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(host);
  let text = host;
  if (dotted) {
    const v4 = parseIpv4(dotted[2] ?? "");
    if (v4 === null) return null;
    text = `${dotted[1] ?? ""}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0] ?? "");
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? "") : [];
  if (head === null || tail === null) return null;
  const explicit = head.length + tail.length;
  if (halves.length === 1) return explicit === 8 ? head : null;
  if (explicit > 7) return null;
  return [...head, ...new Array<number>(8 - explicit).fill(0), ...tail];
}

function parseGroups(text: string): number[] | null {
  if (text === "") return [];
  const groups: number[] = [];
  for (const group of text.split(":")) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    groups.push(parseInt(group, 16));
  }
  return groups;
}

/** Names the refused IPv4 range containing `value`, or null when it is public. */
export function refusedIpv4Range(value: number): string | null {
  for (const range of REFUSED_IPV4) {
    const mask = range.bits === 0 ? 0 : (~0 << (32 - range.bits)) >>> 0;
    if (((value & mask) >>> 0) === range.base) return range.label;
  }
  return null;
}

/** Describes why an IPv6 address is refused, or null when it is public. */
export function refusedIpv6(groups: readonly number[]): string | null {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const embedded = (hi: number, lo: number): number => ((hi << 16) | lo) >>> 0;
  const viaV4 = (kind: string, v4: number): string | null => {
    const label = refusedIpv4Range(v4);
    return label === null ? null : `${kind} embedding ${label} address ${formatIpv4(v4)}`;
  };
  const firstSixZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;

  if (firstSixZero && g5 === 0 && g6 === 0 && g7 === 0) return "unspecified";
  if (firstSixZero && g5 === 0 && g6 === 0 && g7 === 1) return "loopback";
  if (firstSixZero && g5 === 0xffff) return viaV4("IPv4-mapped", embedded(g6, g7));
  if (firstSixZero && g5 === 0) return viaV4("IPv4-compatible", embedded(g6, g7));
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return viaV4("NAT64", embedded(g6, g7));
  }
  if (g0 === 0x2002) return viaV4("6to4", embedded(g1, g2));
  if ((g0 & 0xfe00) === 0xfc00) return "unique local (private)";
  if ((g0 & 0xffc0) === 0xfe80) return "link-local";
  // Deprecated site-local space is still routed internally on some networks.
  if ((g0 & 0xffc0) === 0xfec0) return "site-local";
  if ((g0 & 0xff00) === 0xff00) return "multicast";
  return null;
}

/** Why a hostname (not an IP literal) is refused, or null when it looks public. */
export function refusedHostname(hostname: string): string | null {
  if (hostname === "localhost") return "loopback";
  for (const suffix of REFUSED_HOST_SUFFIXES) {
    if (hostname.endsWith(suffix)) return `${suffix.slice(1)} (private network)`;
  }
  if (!hostname.includes(".")) return "single-label";
  return null;
}

/**
 * Checks a user-supplied webhook target before it is stored or fetched.
 * With allowPrivate, only the parse, scheme and credential checks apply.
 */
export function checkTargetUrl(raw: string, options: { allowPrivate: boolean }): TargetCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "target URL could not be parsed" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { ok: false, reason: `scheme ${url.protocol.slice(0, -1)} is not allowed; use http or https` };
  }
  // Credentials in the URL would be sent to the target and stored in logs alongside it.
  if (url.username !== "" || url.password !== "") {
    return { ok: false, reason: "credentials in the target URL are not allowed; use headers instead" };
  }
  if (options.allowPrivate) return { ok: true, url };

  // The WHATWG parser has already normalised IPv4 shorthands (2130706433, 0x7f.1) to dotted form
  // and IPv6 to lower-case hex; a trailing dot must not turn "localhost." into something else.
  const hostname = url.hostname.replace(/\.+$/, "");
  if (hostname.startsWith("[") && hostname.endsWith("]")) {
    const groups = parseIpv6(hostname.slice(1, -1));
    if (groups === null) return { ok: false, reason: `IPv6 address ${hostname} could not be parsed` };
    const label = refusedIpv6(groups);
    if (label !== null) {
      return { ok: false, reason: `${label} address ${hostname} is not allowed ${LOCAL_DEV_HINT}` };
    }
    return { ok: true, url };
  }
  const v4 = parseIpv4(hostname);
  if (v4 !== null) {
    const label = refusedIpv4Range(v4);
    if (label !== null) {
      return { ok: false, reason: `${label} address ${formatIpv4(v4)} is not allowed ${LOCAL_DEV_HINT}` };
    }
    return { ok: true, url };
  }
  const label = refusedHostname(hostname);
  if (label !== null) {
    return { ok: false, reason: `${label} hostname ${hostname || "(empty)"} is not allowed ${LOCAL_DEV_HINT}` };
  }
  return { ok: true, url };
}
