// Who the client really is. The socket's peer (or the address a PROXY protocol header gave, see
// net/connection-front.ts) is the client, unless that peer is a proxy the user trusts: then the
// address it names is believed, and only it. One function decides, and the request path's log, its
// access rules, the error page's audience and the admin's "your address" all ask it.
//
// Precedence behind a trusted peer (the first that gives an address wins):
//   1. CF-Connecting-IP, only when the peer is in Cloudflare's ranges and "cloudflare" is a
//      trusted front: Cloudflare overwrites any copy a client sent, so it is the one exact answer.
//   2. X-Forwarded-For: the right-most entry that is not itself a trusted proxy (entries further left
//      were written by whoever connected first and could be forged).
//   3. Forwarded (RFC 7239) `for=`, the same way, when there is no X-Forwarded-For.
// An entry that is not an address ("unknown", an obfuscated "_hidden" name, garbage) ends the walk:
// nothing to its left can be vouched for, so the client is the peer.
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { TrustedFront } from '../../../shared/access.js';
import { FRONT_RANGES } from './trusted-fronts.js';

export type HeaderBag = Record<string, string | string[] | undefined>;

function addEntry(list: BlockList, entry: string): void {
  const [address, prefix] = entry.split('/') as [string, string | undefined];
  const type = isIPv6(address) ? 'ipv6' : 'ipv4';
  if (prefix === undefined) list.addAddress(address, type);
  else list.addSubnet(address, Number(prefix), type);
}

/** Trusted proxies (the user's list plus the named fronts' ranges) as a lookup structure, built once per settings change. */
export class TrustedProxies {
  private readonly list = new BlockList();
  private readonly cloudflare: BlockList | null = null;
  readonly empty: boolean;

  constructor(
    private readonly entries: readonly string[],
    private readonly fronts: readonly TrustedFront[] = [],
  ) {
    for (const entry of entries) addEntry(this.list, entry);
    for (const front of fronts) for (const range of FRONT_RANGES[front]) addEntry(this.list, range);
    if (fronts.includes('cloudflare')) {
      this.cloudflare = new BlockList();
      for (const range of FRONT_RANGES.cloudflare) addEntry(this.cloudflare, range);
    }
    this.empty = entries.length === 0 && fronts.length === 0;
  }

  /** The same fronts with a route's own list instead of the global one. */
  withEntries(entries: readonly string[]): TrustedProxies {
    return new TrustedProxies(entries, this.fronts);
  }

  has(address: string): boolean {
    if (this.empty || address === '') return false;
    return this.list.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
  }

  /** In Cloudflare's ranges, with "cloudflare" a trusted front. */
  isCloudflare(address: string): boolean {
    return this.cloudflare !== null && address !== '' && this.cloudflare.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
  }

  /** For comparing settings: the same list and fronts give the same key. */
  get key(): string {
    return `${this.entries.join()}|${this.fronts.join()}`;
  }
}

/**
 * The address in one X-Forwarded-For entry or Forwarded `for=` value, as people write it, or null:
 * "203.0.113.5", "203.0.113.5:4711", "2001:db8::1", "[2001:db8::1]:4711", each maybe quoted.
 */
export function hopAddress(text: string): string | null {
  let value = text.trim();
  if (value.length >= 2 && value.charCodeAt(0) === 34 /* " */ && value.charCodeAt(value.length - 1) === 34) value = value.slice(1, -1);
  if (value.charCodeAt(0) === 91 /* [ */) {
    const close = value.indexOf(']');
    if (close === -1) return null;
    const rest = value.slice(close + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    return plainIPv6(value.slice(1, close));
  }
  if (isIPv4(value)) return value;
  if (isIPv6(value)) return plainIPv6(value);
  const colon = value.lastIndexOf(':');
  if (colon !== -1 && value.indexOf(':') === colon && /^\d{1,5}$/.test(value.slice(colon + 1))) {
    const address = value.slice(0, colon);
    if (isIPv4(address)) return address;
  }
  return null;
}

function plainIPv6(address: string): string | null {
  if (!isIPv6(address)) return null;
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && isIPv4(lower.slice(7)) ? lower.slice(7) : lower;
}

function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * The `for=` values of a Forwarded header, left to right (null for an element without one). Quoted
 * strings may hold commas and semicolons, so the header is scanned rather than split.
 */
export function forwardedFors(header: string): (string | null)[] {
  const out: (string | null)[] = [];
  let current: string | null = null;
  let start = 0;
  let quoted = false;
  const pair = (end: number) => {
    const text = header.slice(start, end);
    const equals = text.indexOf('=');
    if (equals !== -1 && text.slice(0, equals).trim().toLowerCase() === 'for') current = text.slice(equals + 1).trim().replace(/\\(.)/g, '$1');
    start = end + 1;
  };
  for (let i = 0; i < header.length; i++) {
    const char = header.charCodeAt(i);
    if (quoted) {
      if (char === 92 /* \ */) i++;
      else if (char === 34) quoted = false;
    } else if (char === 34) quoted = true;
    else if (char === 59 /* ; */) pair(i);
    else if (char === 44 /* , */) {
      pair(i);
      out.push(current);
      current = null;
    }
  }
  pair(header.length);
  out.push(current);
  return out;
}

/** Walks `hops` right to left: the first valid address that is not a trusted proxy, else the peer. */
function rightmostUntrusted(hops: readonly (string | null)[], peer: string, trusted: TrustedProxies, skipEmpty: boolean): string {
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i];
    if (hop === null || hop === undefined || hop.trim() === '') {
      if (skipEmpty) continue;
      return peer;
    }
    const address = hopAddress(hop);
    if (address === null) return peer;
    if (!trusted.has(address)) return address;
  }
  return peer;
}

/** The real client of a request with `headers` from `peer` (see the precedence at the top). */
export function realClient(source: { headers: HeaderBag }, peer: string, trusted: TrustedProxies): string {
  if (!trusted.has(peer)) return peer;
  const { headers } = source;
  if (trusted.isCloudflare(peer)) {
    const connecting = headers['cf-connecting-ip'];
    const address = typeof connecting === 'string' ? hopAddress(connecting) : null;
    if (address !== null) return address;
  }
  const forwardedFor = joined(headers['x-forwarded-for']);
  if (forwardedFor) return rightmostUntrusted(forwardedFor.split(','), peer, trusted, true);
  const forwarded = joined(headers.forwarded);
  if (forwarded) return rightmostUntrusted(forwardedFors(forwarded), peer, trusted, true);
  return peer;
}
