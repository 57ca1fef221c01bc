// "This network": the addresses a route open to "this network only" lets in, that have no
// country, and that bans leave alone unless the user asks. The ranges every home network uses,
// plus the subnets this machine's interfaces are on (a LAN with public addresses, a VPN's subnet).
//
// Not included: 100.64.0.0/10, the shared address space of carrier-grade NAT. Other customers of
// the same provider arrive from it, so it is not "this network". Tailscale hands out its addresses
// from it too: a tailnet is let in with an access list that allows 100.64.0.0/10 (docs/access.md).
import type { OwnNetworks } from '../net/own-networks.js';
import { parseAddress, RangeTable, type Family } from './ip-ranges.js';

export const LAN_RANGES: readonly { range: string; what: string }[] = [
  { range: '127.0.0.0/8', what: 'loopback (this machine)' },
  { range: '10.0.0.0/8', what: 'private (RFC 1918)' },
  { range: '172.16.0.0/12', what: 'private (RFC 1918)' },
  { range: '192.168.0.0/16', what: 'private (RFC 1918)' },
  { range: '169.254.0.0/16', what: 'link-local' },
  { range: '::1/128', what: 'loopback (this machine)' },
  { range: 'fe80::/10', what: 'link-local' },
  { range: 'fc00::/7', what: 'unique local (IPv6 ULA)' },
];

const WORDS = new Uint32Array(4);

export class ThisNetwork {
  private readonly ranges = new RangeTable(LAN_RANGES.map((entry) => entry.range));

  constructor(private readonly ownNetworks: OwnNetworks) {}

  /** For an address parseAddress has just put in `words` (the request path parses once). */
  hasParsed(address: string, family: Family, words: Uint32Array): boolean {
    if (family === 0) return false;
    // The fixed ranges first: one binary search; the interface list only for what is left.
    return this.ranges.lookupParsed(family, words) !== -1 || this.ownNetworks.isOwnNetwork(address);
  }

  /** Whether `address` counts as this network. */
  has(address: string): boolean {
    return this.hasParsed(address, parseAddress(address, WORDS), WORDS);
  }
}
