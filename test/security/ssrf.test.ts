import { describe, expect, it } from "vitest";
import { checkTargetUrl, parseIpv6 } from "../../src/security/ssrf";

const strict = { allowPrivate: false };
const lax = { allowPrivate: true };

/** Returns the refusal reason, failing the test if the URL was accepted. */
function refusal(raw: string, options = strict): string {
  const result = checkTargetUrl(raw, options);
  if (result.ok) throw new Error(`expected ${raw} to be refused, got ${result.url.href}`);
  return result.reason;
}

describe("checkTargetUrl: refused regardless of allowPrivate", () => {
  it.each([
    ["not a URL", "not a url", /could not be parsed/],
    ["relative path", "/hooks/1", /could not be parsed/],
    ["empty", "", /could not be parsed/],
    ["ftp scheme", "ftp://example.com/hook", /scheme ftp is not allowed/],
    ["file scheme", "file:///etc/passwd", /scheme file is not allowed/],
    ["javascript scheme", "javascript:alert(1)", /scheme javascript is not allowed/],
    ["data scheme", "data:text/plain,hi", /scheme data is not allowed/],
    ["ws scheme", "ws://example.com/hook", /scheme ws is not allowed/],
    ["username", "https://user@example.com/hook", /credentials/],
    ["username and password", "https://user:pass@example.com/hook", /credentials/],
    ["password only", "https://:pass@example.com/hook", /credentials/],
  ])("%s", (_label, raw, reason) => {
    expect(refusal(raw, strict)).toMatch(reason);
    expect(refusal(raw, lax)).toMatch(reason);
  });
});

describe("checkTargetUrl: refused when private targets are not allowed", () => {
  const table: Array<[string, RegExp]> = [
    // IPv4 literals
    ["http://127.0.0.1/", /^loopback address 127\.0\.0\.1 is not allowed \(set ALLOW_PRIVATE_TARGETS=true for local development\)$/],
    ["http://127.255.255.254:8080/x", /loopback address 127\.255\.255\.254/],
    ["http://10.0.0.1/", /private address 10\.0\.0\.1/],
    ["http://10.255.255.255/", /private address 10\.255\.255\.255/],
    ["http://172.16.0.1/", /private address 172\.16\.0\.1/],
    ["http://172.31.255.255/", /private address 172\.31\.255\.255/],
    ["http://192.168.1.1/", /private address 192\.168\.1\.1/],
    ["http://169.254.169.254/latest/meta-data/", /link-local .*address 169\.254\.169\.254/],
    ["http://169.254.0.1/", /link-local/],
    ["http://100.64.0.1/", /carrier-grade NAT .*100\.64\.0\.1/],
    ["http://100.127.255.255/", /carrier-grade NAT/],
    ["http://0.0.0.0/", /unspecified .*0\.0\.0\.0/],
    ["http://0.1.2.3/", /unspecified/],
    ["http://224.0.0.1/", /multicast address 224\.0\.0\.1/],
    ["http://239.255.255.250/", /multicast/],
    ["http://240.0.0.1/", /reserved address 240\.0\.0\.1/],
    ["http://255.255.255.255/", /reserved address 255\.255\.255\.255/],
    // IPv4 shorthands the WHATWG parser normalises to dotted form
    ["http://2130706433/", /loopback address 127\.0\.0\.1/],
    ["http://0x7f.1/", /loopback address 127\.0\.0\.1/],
    ["http://0x7f000001/", /loopback address 127\.0\.0\.1/],
    ["http://0177.0.0.1/", /loopback address 127\.0\.0\.1/],
    ["http://127.1/", /loopback address 127\.0\.0\.1/],
    ["http://017700000001/", /loopback address 127\.0\.0\.1/],
    ["http://0/", /unspecified .*0\.0\.0\.0/],
    ["http://0xa9fea9fe/", /link-local .*169\.254\.169\.254/],
    ["http://127.0.0.1./", /loopback address 127\.0\.0\.1/],
    // IPv6 literals
    ["http://[::1]/", /loopback address \[::1\]/],
    ["http://[0:0:0:0:0:0:0:1]/", /loopback address \[::1\]/],
    ["http://[::]/", /unspecified address \[::\]/],
    ["http://[fc00::1]/", /unique local .*\[fc00::1\]/],
    ["http://[fd12:3456:789a::1]/", /unique local/],
    ["http://[fe80::1]/", /link-local address \[fe80::1\]/],
    ["http://[febf::1]/", /link-local/],
    ["http://[fec0::1]/", /site-local/],
    ["http://[ff02::1]/", /multicast address \[ff02::1\]/],
    // IPv6 forms that embed a refused IPv4
    ["http://[::ffff:127.0.0.1]/", /IPv4-mapped embedding loopback address 127\.0\.0\.1/],
    ["http://[::ffff:7f00:1]/", /IPv4-mapped embedding loopback address 127\.0\.0\.1/],
    ["http://[::ffff:a9fe:a9fe]/", /IPv4-mapped embedding link-local .*169\.254\.169\.254/],
    ["http://[::ffff:10.1.2.3]/", /IPv4-mapped embedding private address 10\.1\.2\.3/],
    ["http://[::127.0.0.1]/", /IPv4-compatible embedding loopback address 127\.0\.0\.1/],
    ["http://[64:ff9b::127.0.0.1]/", /NAT64 embedding loopback address 127\.0\.0\.1/],
    ["http://[64:ff9b::a9fe:a9fe]/", /NAT64 embedding link-local .*169\.254\.169\.254/],
    ["http://[2002:7f00:1::]/", /6to4 embedding loopback address 127\.0\.0\.1/],
    ["http://[2002:c0a8:101::1]/", /6to4 embedding private address 192\.168\.1\.1/],
    // Hostnames
    ["http://localhost/", /^loopback hostname localhost is not allowed \(set ALLOW_PRIVATE_TARGETS=true/],
    ["http://localhost:8787/hook", /hostname localhost/],
    ["http://LOCALHOST/", /hostname localhost/],
    ["http://localhost./", /hostname localhost/],
    ["http://localhost../", /hostname localhost/],
    ["http://ｌｏｃａｌｈｏｓｔ/", /hostname localhost/],
    ["http://api.localhost/", /localhost .*hostname api\.localhost/],
    ["http://printer.local/", /hostname printer\.local/],
    ["http://printer.local./", /hostname printer\.local/],
    ["http://metadata.google.internal/", /internal .*hostname metadata\.google\.internal/],
    ["http://router.home.arpa/", /home\.arpa .*hostname router\.home\.arpa/],
    ["http://intranet/", /single-label hostname intranet/],
    ["http://intranet./", /single-label hostname intranet/],
    ["https://metadata/computeMetadata/v1/", /single-label hostname metadata/],
  ];

  it.each(table)("%s", (raw, reason) => {
    expect(refusal(raw)).toMatch(reason);
  });

  it.each(table)("%s is accepted with allowPrivate", (raw) => {
    const result = checkTargetUrl(raw, lax);
    expect(result.ok ? result.url.hostname : result.reason).toBe(new URL(raw).hostname);
  });
});

describe("checkTargetUrl: allowed", () => {
  it.each([
    ["https://example.com/hook", "https://example.com/hook"],
    ["https://hooks.example.com:8443/a/b?c=d#e", "https://hooks.example.com:8443/a/b?c=d#e"],
    ["http://example.com/", "http://example.com/"],
    ["https://example.com./hook", "https://example.com./hook"],
    ["https://93.184.216.34/", "https://93.184.216.34/"],
    ["https://8.8.8.8/", "https://8.8.8.8/"],
    ["https://172.15.255.255/", "https://172.15.255.255/"],
    ["https://172.32.0.1/", "https://172.32.0.1/"],
    ["https://100.63.255.255/", "https://100.63.255.255/"],
    ["https://100.128.0.1/", "https://100.128.0.1/"],
    ["https://169.253.255.255/", "https://169.253.255.255/"],
    ["https://223.255.255.255/", "https://223.255.255.255/"],
    ["https://[2606:4700::1111]/", "https://[2606:4700::1111]/"],
    ["https://[::ffff:8.8.8.8]/", "https://[::ffff:808:808]/"],
    ["https://[64:ff9b::8.8.8.8]/", "https://[64:ff9b::808:808]/"],
    ["https://[2002:808:808::1]/", "https://[2002:808:808::1]/"],
    ["https://localhost.example.com/", "https://localhost.example.com/"],
    ["https://local.example.com/", "https://local.example.com/"],
    ["https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"],
  ])("%s", (raw, href) => {
    const result = checkTargetUrl(raw, strict);
    expect(result.ok ? result.url.href : result.reason).toBe(href);
  });
});

describe("parseIpv6", () => {
  it("expands compressed and dotted forms", () => {
    expect(parseIpv6("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6("::")).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6("2606:4700::1111")).toEqual([0x2606, 0x4700, 0, 0, 0, 0, 0, 0x1111]);
    expect(parseIpv6("::ffff:127.0.0.1")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]);
    expect(parseIpv6("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it.each(["1::2::3", "1:2:3", "1:2:3:4:5:6:7:8:9", "1:2:3:4::5:6:7:8", "g::1", "::ffff:300.0.0.1", "12345::"])(
    "rejects %s",
    (text) => {
      expect(parseIpv6(text)).toBeNull();
    },
  );
});
