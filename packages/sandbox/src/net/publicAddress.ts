import { BlockList, isIP } from 'node:net';

/**
 * Address ranges the egress proxy never connects to, whatever a name resolves to: loopback,
 * private (RFC 1918, ULA), link-local (169.254/16 holds cloud metadata), shared/CGNAT, the
 * benchmarking net (used for "fake IP" DNS by some VPNs), multicast/reserved, unspecified and
 * IPv4-mapped/translated IPv6 (which would smuggle a private IPv4 past a v6-only check).
 * The documentation nets (192.0.2/24, 198.51.100/24, 203.0.113/24) are not blocked: they are
 * not internal, and some egress gateways (this build machine's, for one) answer from them.
 */
// Two lists: node's BlockList matches IPv4 addresses against IPv4-mapped IPv6 rules, and the
// v6 list blocks ::ffff:0:0/96 as a whole.
const BLOCKED_V4 = new BlockList();
const BLOCKED_V6 = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16],
  ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED_V4.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128], ['::1', 128], ['::ffff:0:0', 96], ['::', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64],
  ['2001::', 32], ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) BLOCKED_V6.addSubnet(net, bits, 'ipv6');

/** True when `address` (a literal IP) is a public unicast address the proxy may connect to. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return family === 4 ? !BLOCKED_V4.check(address, 'ipv4') : !BLOCKED_V6.check(address, 'ipv6');
}
