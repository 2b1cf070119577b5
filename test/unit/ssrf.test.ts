/**
 * The SSRF guard of Client ID Metadata Document fetches (functions/discovery/ssrf.ts): every
 * special-use range refused, in IPv4, IPv6 and IPv4 inside IPv6; public unicast allowed; the
 * loopback allowance (tests only) opens loopback and nothing else.
 */
import { describe, expect, it } from 'vitest';
import { specialUseAddress, v6ToBigInt } from '../../functions/discovery/ssrf.ts';

const REFUSED: readonly (readonly [string, RegExp])[] = [
  // IPv4, first and last address of each block where it matters
  ['0.0.0.0', /unspecified/],
  ['0.255.255.255', /unspecified/],
  ['10.0.0.1', /private/],
  ['10.255.255.255', /private/],
  ['100.64.0.1', /CGNAT/],
  ['100.127.255.255', /CGNAT/],
  ['100.100.100.200', /CGNAT/], // Alibaba Cloud metadata
  ['127.0.0.1', /loopback/],
  ['127.255.255.254', /loopback/],
  ['169.254.0.1', /link-local/],
  ['169.254.169.254', /metadata/], // AWS / GCP / Azure instance metadata
  ['169.254.170.2', /link-local/], // ECS task metadata
  ['172.16.0.1', /private/],
  ['172.31.255.255', /private/],
  ['192.0.0.192', /IETF/], // Oracle Cloud metadata
  ['192.0.2.1', /documentation/],
  ['192.31.196.1', /AS112/],
  ['192.52.193.1', /AMT/],
  ['192.88.99.1', /6to4/],
  ['192.168.0.1', /private/],
  ['192.168.255.255', /private/],
  ['192.175.48.1', /AS112/],
  ['198.18.0.1', /benchmarking/],
  ['198.19.255.255', /benchmarking/],
  ['198.51.100.1', /documentation/],
  ['203.0.113.1', /documentation/],
  ['224.0.0.1', /multicast/],
  ['239.255.255.250', /multicast/],
  ['240.0.0.1', /reserved/],
  ['255.255.255.255', /reserved/],
  // IPv6
  ['::', /not global unicast/],
  ['::1', /loopback/],
  ['0:0:0:0:0:0:0:1', /loopback/],
  ['fc00::1', /not global unicast/],
  ['fd00:ec2::254', /not global unicast/], // EC2 IPv6 metadata
  ['fd12:3456::1', /not global unicast/],
  ['fe80::1', /not global unicast/],
  ['febf::1', /not global unicast/],
  ['ff02::1', /not global unicast/],
  ['100::1', /not global unicast/], // discard-only
  ['64:ff9b:1::1', /not global unicast/], // local-use NAT64
  ['2001::1', /Teredo/],
  ['2001:2::1', /IETF/], // benchmarking
  ['2001:10::1', /IETF/], // ORCHID
  ['2001:db8::1', /documentation/],
  ['2002:a00:1::1', /6to4/],
  ['2620:4f:8000::1', /AS112/],
  ['3fff::1', /documentation/],
  ['4000::1', /not global unicast/],
  ['fe80::1%eth0', /not an IP address/],
  // IPv4 inside IPv6
  ['::ffff:127.0.0.1', /loopback/],
  ['::ffff:7f00:1', /loopback/],
  ['::ffff:10.0.0.1', /private/],
  ['::ffff:169.254.169.254', /metadata/],
  ['::FFFF:192.168.1.1', /private/],
  ['64:ff9b::10.0.0.1', /private/],
  ['64:ff9b::a9fe:a9fe', /metadata/],
  ['::127.0.0.1', /not global unicast/], // IPv4-compatible (deprecated)
  // not addresses at all
  ['localhost', /not an IP address/],
  ['', /not an IP address/],
  ['1.2.3', /not an IP address/],
];

const ALLOWED = [
  '1.1.1.1',
  '8.8.8.8',
  '93.184.216.34',
  '9.255.255.255',
  '11.0.0.0',
  '100.63.255.255',
  '100.128.0.0',
  '126.255.255.255',
  '128.0.0.0',
  '169.253.255.255',
  '169.255.0.0',
  '172.15.255.255',
  '172.32.0.0',
  '192.0.1.0',
  '192.167.255.255',
  '192.169.0.0',
  '198.17.255.255',
  '198.20.0.0',
  '223.255.255.255',
  '2606:4700:4700::1111',
  '2a00:1450:4001:82a::200e',
  '2001:200::1',
  '2600::',
  '::ffff:8.8.8.8',
  '64:ff9b::808:808',
];

describe('specialUseAddress', () => {
  it.each(REFUSED)('refuses %s', (ip, why) => {
    expect(specialUseAddress(ip)).toMatch(why);
    // The loopback allowance opens nothing but loopback.
    if (!/loopback/.test(specialUseAddress(ip)!))
      expect(specialUseAddress(ip, { allowLoopback: true })).toMatch(why);
  });

  it.each(ALLOWED)('allows %s', (ip) => {
    expect(specialUseAddress(ip)).toBeUndefined();
  });

  it.each(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'])(
    'allows loopback %s only with the test allowance',
    (ip) => {
      expect(specialUseAddress(ip)).toMatch(/loopback/);
      expect(specialUseAddress(ip, { allowLoopback: true })).toBeUndefined();
    },
  );

  it('parses IPv6 forms to the same value', () => {
    expect(v6ToBigInt('::1')).toBe(1n);
    expect(v6ToBigInt('0:0:0:0:0:ffff:7f00:1')).toBe(v6ToBigInt('::ffff:127.0.0.1'));
    expect(v6ToBigInt('2001:db8::')).toBe(0x20010db8n << 96n);
    expect(v6ToBigInt('1::')).toBe(1n << 112n);
  });
});
