// Which addresses a CA on the internet can connect to. A name whose public record points at a LAN,
// loopback, CGNAT or link-local address fails HTTP-01 however the router is set up.
import { BlockList, isIP } from 'node:net';

const unreachable = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) unreachable.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) unreachable.addSubnet(network, prefix, 'ipv6');

/** Default: anything but private, loopback, CGNAT, link-local, benchmark, multicast and reserved ranges. */
export function isPubliclyReachable(address: string): boolean {
  // An IPv4-mapped IPv6 address is its IPv4 address (BlockList would match it against every v4 rule).
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isPubliclyReachable(mapped[1]!);
  const family = isIP(address);
  if (family === 0) return false;
  return !unreachable.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** What kind of address it is, for the sentence ("a LAN address", "a loopback address"). */
export function addressKind(address: string): string {
  if (/^127\.|^::1$/.test(address)) return 'a loopback address (this machine itself)';
  if (/^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./.test(address)) return 'a carrier-grade NAT address';
  if (/^169\.254\.|^fe[89ab]/i.test(address)) return 'a link-local address';
  return 'a LAN address';
}
