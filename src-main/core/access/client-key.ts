// The key per-client counters are kept under: an IPv4 address as it is, an IPv6 address by its
// /64. One subscriber is handed a whole /64 (RFC 6177), so counting full IPv6 addresses would give
// one visitor 2^64 fresh budgets and let it evict its own entries. The log keeps the full address.
import { isIPv6 } from 'node:net';

/** "2001:db8:1:2::7" → "2001:db8:1:2::/64"; IPv4 and anything unparseable are returned as they are. */
export function clientKey(address: string): string {
  if (!isIPv6(address)) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  const zone = address.indexOf('%');
  const bare = zone === -1 ? address : address.slice(0, zone);
  const [head = '', tail] = bare.split('::') as [string, string | undefined];
  const front = head === '' ? [] : head.split(':');
  const back = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail takes two groups; only the first four groups matter here.
  const groups = tail === undefined ? front : [...front, ...Array(Math.max(0, 8 - front.length - back.length)).fill('0'), ...back];
  const prefix = groups.slice(0, 4).map((group) => (Number.parseInt(group, 16) || 0).toString(16));
  while (prefix.length < 4) prefix.push('0');
  return `${prefix.join(':')}::/64`;
}
