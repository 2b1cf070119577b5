/**
 * Which IP addresses the facade may connect to when it fetches a URL a client chose (pure): the
 * Client ID Metadata Document of a `client_id` (cimd-fetch.ts). The draft's SSRF rule: the URL
 * MUST NOT resolve to a special-use address (RFC 6890 and the IANA special-purpose registries).
 *
 * IPv4: every special-purpose block is refused (private, loopback, link-local with the cloud
 * metadata address 169.254.169.254, CGNAT, benchmarking, documentation, multicast, reserved, ...).
 * IPv6 is an allow-list: only global unicast (2000::/3) outside its special blocks (Teredo, 6to4,
 * documentation, ORCHID, AS112) is allowed, so loopback, unspecified, unique-local (fc00::/7 with
 * the EC2 metadata address fd00:ec2::254), link-local, multicast and every reserved range are
 * refused without being listed one by one. Addresses that embed an IPv4 address (IPv4-mapped
 * `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`) are judged by that IPv4 address.
 */
import { isIPv4, isIPv6 } from 'node:net';

const V4_SPECIAL: readonly (readonly [string, number, string])[] = [
  ['0.0.0.0', 8, 'this network (unspecified)'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'shared address space (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.31.196.0', 24, 'AS112'],
  ['192.52.193.0', 24, 'AMT'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['192.175.48.0', 24, 'AS112'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved (incl. broadcast)'],
];

const V6_SPECIAL: readonly (readonly [string, number, string])[] = [
  ['2001::', 23, 'IETF protocol assignments (incl. Teredo)'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, '6to4'],
  ['2620:4f:8000::', 48, 'AS112'],
  ['3fff::', 20, 'documentation'],
];

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/** The 128-bit value of an IPv6 address (with `::` and an optional dotted IPv4 tail). */
export function v6ToBigInt(ip: string): bigint {
  let s = ip;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const n = v4ToInt(dotted[1]!);
    s = `${s.slice(0, dotted.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

const inV4 = (ip: number, base: string, bits: number) =>
  bits === 0 || ip >>> (32 - bits) === v4ToInt(base) >>> (32 - bits);
const inV6 = (ip: bigint, base: string, bits: number) =>
  ip >> BigInt(128 - bits) === v6ToBigInt(base) >> BigInt(128 - bits);

function v4Problem(ip: string, allowLoopback: boolean): string | undefined {
  const n = v4ToInt(ip);
  for (const [base, bits, name] of V4_SPECIAL) {
    if (inV4(n, base, bits)) return allowLoopback && name === 'loopback' ? undefined : name;
  }
  return undefined;
}

const intToV4 = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

export interface AddressPolicy {
  /**
   * Allow loopback (127/8, ::1): for tests that serve a document on this machine only. Never set
   * from configuration (DiscoveryDeps, cimd-fetch.ts).
   */
  readonly allowLoopback?: boolean;
}

/** Why the facade must not connect to `ip`; undefined when it may (a public unicast address). */
export function specialUseAddress(ip: string, policy: AddressPolicy = {}): string | undefined {
  const allowLoopback = policy.allowLoopback === true;
  if (isIPv4(ip)) return v4Problem(ip, allowLoopback);
  if (!isIPv6(ip) || ip.includes('%')) return 'not an IP address';
  const n = v6ToBigInt(ip.toLowerCase());
  // IPv4-mapped (::ffff:0:0/96) and NAT64 (64:ff9b::/96): the IPv4 address inside decides.
  if (inV6(n, '::ffff:0:0', 96) || inV6(n, '64:ff9b::', 96)) {
    return v4Problem(intToV4(Number(n & 0xffffffffn)), allowLoopback);
  }
  if (n === 1n) return allowLoopback ? undefined : 'loopback';
  if (!inV6(n, '2000::', 3))
    return 'not global unicast (unspecified, unique-local, link-local, multicast or reserved)';
  for (const [base, bits, name] of V6_SPECIAL) if (inV6(n, base, bits)) return name;
  return undefined;
}
