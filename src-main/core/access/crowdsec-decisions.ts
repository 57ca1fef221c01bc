// CrowdSec's decisions as Gatehouse holds them: exact addresses in a Map (O(1) per request) and
// ranges in one Map per prefix length (a lookup asks each prefix length that is present, at most
// 33 for IPv4 and 129 for IPv6; ranges are few in practice). Bounded by `cap` decisions.
//
// The Local API speaks per value, not per decision id: it sends the longest decision for a value,
// and lists a value under `deleted` once no decision for it is left, naming any one of its ids.
// So a delete removes the value whatever id it names. A delete already applied (the LAPI repeats
// recently deleted decisions, on startup and on the next pull) is skipped, so a repeat cannot lift
// a ban that arrived for the same address since.
import { isIPv4, isIPv6 } from 'node:net';
import { formatIpv6Groups } from '../net/ipv6-text.js';

/** One decision as the LAPI's /v1/decisions/stream sends it. */
export interface LapiDecision {
  id: number;
  /** Go duration left, such as "3h59m58.1s" (negative once expired). */
  duration: string;
  scenario?: string;
  origin?: string;
  /** "Ip", "Range", "Country", "AS"… Only Ip and Range are applied. */
  scope: string;
  /** "ban", "captcha", "throttle"… */
  type: string;
  value: string;
}

export interface HeldBan {
  /** Epoch ms the ban ends. */
  until: number;
  reason: string;
}

/** Deleted ids remembered to skip repeats; the oldest forgotten past this many. */
const DELETED_IDS_KEPT = 100_000;
/** Distinct reasons shared between decisions (a million bans from one scenario keep one string). */
const REASONS_KEPT = 10_000;

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("1h2m3.5s", "-33.8ms") in ms; null when it is not one. Hand-parsed: a startup pull has one per decision. */
export function parseGoDuration(text: string): number | null {
  let i = 0;
  let negative = false;
  if (text[0] === '-' || text[0] === '+') {
    negative = text[0] === '-';
    i = 1;
  }
  if (text.length === i + 1 && text[i] === '0') return 0;
  if (i >= text.length) return null;
  let total = 0;
  while (i < text.length) {
    const start = i;
    while (i < text.length && ((text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) || text[i] === '.')) i++;
    if (i === start) return null;
    const number = Number(text.slice(start, i));
    if (Number.isNaN(number)) return null;
    const unitStart = i;
    while (i < text.length && !(text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) && text[i] !== '.') i++;
    const unit = UNIT_MS[text.slice(unitStart, i)];
    if (unit === undefined) return null;
    total += number * unit;
  }
  return negative ? -total : total;
}

/** IPv4 as an unsigned 32-bit number, without allocating; null when `address` is not dotted IPv4. */
export function ipv4Number(address: string): number | null {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return null;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return null;
    } else return null;
  }
  if (dots !== 3 || digits === 0) return null;
  return value * 256 + part;
}

/** IPv6 as a 128-bit BigInt; null when it is not an IPv6 address. Takes embedded IPv4 and zones. */
export function ipv6Number(address: string): bigint | null {
  const zone = address.indexOf('%');
  const plain = zone === -1 ? address : address.slice(0, zone);
  if (!isIPv6(plain)) return null;
  let text = plain;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipv4Number(tail);
    if (v4 === null) return null;
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = '', rest] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const missing = 8 - headGroups.length - restGroups.length;
  const groups = rest === undefined ? headGroups : [...headGroups, ...new Array<string>(missing).fill('0'), ...restGroups];
  if (groups.length !== 8) return null;
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  return value;
}

/** The form Node gives a socket's IPv6 address: lower case, the longest zero run compressed. */
export function canonicalIpv6(value: bigint): string {
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  return formatIpv6Groups(groups);
}

/** An IPv4-mapped IPv6 address ("::ffff:198.51.100.7") as its IPv4 address. */
function unmapped(address: string): string {
  return address.length > 7 && address.charCodeAt(0) === 58 && address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

type Family = 4 | 6;

interface RangeSet {
  /** Prefix lengths present, longest first. */
  lengths: number[];
  byLength: Map<number, Map<number | bigint, HeldBan>>;
}

function rangeSet(): RangeSet {
  return { lengths: [], byLength: new Map() };
}

/** The network of `value` for a prefix of `length` bits. */
function networkOf(family: Family, value: number | bigint, length: number): number | bigint {
  if (family === 4) return (value as number) - ((value as number) % 2 ** (32 - length));
  const bits = BigInt(128 - length);
  return ((value as bigint) >> bits) << bits;
}

export class DecisionTable {
  private readonly exact = new Map<string, HeldBan>();
  private readonly ranges: Record<Family, RangeSet> = { 4: rangeSet(), 6: rangeSet() };
  private rangeCount = 0;
  private ipv6Exact = 0;
  /** Earliest `until` in the table: a sweep before then finds nothing. */
  private nextExpiry = Infinity;
  private readonly deletedIds = new Set<number>();
  private readonly reasons = new Map<string, string>();
  /** Decisions left out because the table was full, since the last startup pull. */
  overflow = 0;

  constructor(readonly cap: number) {}

  get size(): number {
    return this.exact.size + this.rangeCount;
  }

  /** The ban in force for `address` (IPv4 or IPv6, as a socket gives it), or null. */
  lookup(address: string, now: number): HeldBan | null {
    const plain = unmapped(address);
    const held = this.exact.get(plain) ?? (this.rangeCount > 0 || this.ipv6Exact > 0 ? this.parsedLookup(plain) : undefined);
    return held !== undefined && held.until > now ? held : null;
  }

  /** Ranges, and IPv6 written another way than Node writes it ("2001:DB8:0::1"). */
  private parsedLookup(plain: string): HeldBan | undefined {
    if (!plain.includes(':')) {
      const v4 = this.ranges[4].lengths.length > 0 ? ipv4Number(plain) : null;
      return v4 === null ? undefined : this.inRanges(4, v4);
    }
    const v6 = ipv6Number(plain);
    if (v6 === null) return undefined;
    return (this.ipv6Exact > 0 ? this.exact.get(canonicalIpv6(v6)) : undefined) ?? (this.ranges[6].lengths.length > 0 ? this.inRanges(6, v6) : undefined);
  }

  private inRanges(family: Family, value: number | bigint): HeldBan | undefined {
    const set = this.ranges[family];
    for (const length of set.lengths) {
      const held = set.byLength.get(length)?.get(networkOf(family, value, length));
      if (held !== undefined) return held;
    }
    return undefined;
  }

  /**
   * Applies one pull's `deleted` then `new` (an address deleted and banned again in one pull stays
   * banned). Returns whether the table changed. Other scopes than Ip and Range are skipped.
   */
  applyPull(added: readonly LapiDecision[] | null, deleted: readonly LapiDecision[] | null, now: number): boolean {
    const before = this.size;
    let changed = false;
    for (const decision of deleted ?? []) {
      if (typeof decision?.id === 'number') {
        if (this.deletedIds.has(decision.id)) continue;
        this.rememberDeleted(decision.id);
      }
      changed = this.remove(decision) || changed;
    }
    for (const decision of added ?? []) changed = this.add(decision, now) || changed;
    return changed || before !== this.size;
  }

  /** Replaces everything with a startup pull's decisions (the LAPI's whole current set). */
  replaceAll(added: readonly LapiDecision[] | null, deleted: readonly LapiDecision[] | null, now: number): void {
    this.clear();
    this.overflow = 0;
    for (const decision of deleted ?? []) if (typeof decision?.id === 'number') this.rememberDeleted(decision.id);
    for (const decision of added ?? []) this.add(decision, now);
  }

  clear(): void {
    this.exact.clear();
    this.ranges[4] = rangeSet();
    this.ranges[6] = rangeSet();
    this.rangeCount = 0;
    this.ipv6Exact = 0;
    this.nextExpiry = Infinity;
  }

  /** Drops expired decisions; cheap when none is due. Returns how many went. */
  sweep(now: number): number {
    if (this.nextExpiry > now) return 0;
    let removed = 0;
    let next = Infinity;
    for (const [key, held] of this.exact) {
      if (held.until <= now) {
        this.exact.delete(key);
        if (key.includes(':')) this.ipv6Exact--;
        removed++;
      } else if (held.until < next) next = held.until;
    }
    for (const family of [4, 6] as const) {
      const set = this.ranges[family];
      for (const [length, networks] of set.byLength) {
        for (const [network, held] of networks) {
          if (held.until <= now) {
            networks.delete(network);
            this.rangeCount--;
            removed++;
          } else if (held.until < next) next = held.until;
        }
        if (networks.size === 0) this.dropLength(set, length);
      }
    }
    this.nextExpiry = next;
    return removed;
  }

  private rememberDeleted(id: number): void {
    this.deletedIds.add(id);
    if (this.deletedIds.size > DELETED_IDS_KEPT) this.deletedIds.delete(this.deletedIds.values().next().value as number);
  }

  private add(decision: LapiDecision, now: number): boolean {
    const where = this.place(decision);
    if (!where) return false;
    const left = parseGoDuration(String(decision.duration));
    if (left === null || left <= 0) return false;
    const until = now + left;
    const existing = this.get(where);
    // The LAPI sends a value's longest decision; a shorter one arriving later must not cut it short.
    if (existing && existing.until >= until) return false;
    if (!existing && this.size >= this.cap) {
      this.overflow++;
      return false;
    }
    const held: HeldBan = { until, reason: this.reasonFor(decision) };
    this.set(where, held);
    if (until < this.nextExpiry) this.nextExpiry = until;
    return true;
  }

  private remove(decision: LapiDecision): boolean {
    const where = this.place(decision);
    if (!where || !this.get(where)) return false;
    if (where.kind === 'exact') {
      this.exact.delete(where.key);
      if (where.key.includes(':')) this.ipv6Exact--;
    } else {
      const set = this.ranges[where.family];
      const networks = set.byLength.get(where.length) as Map<number | bigint, HeldBan>;
      networks.delete(where.network);
      this.rangeCount--;
      if (networks.size === 0) this.dropLength(set, where.length);
    }
    return true;
  }

  private get(where: Place): HeldBan | undefined {
    if (where.kind === 'exact') return this.exact.get(where.key);
    return this.ranges[where.family].byLength.get(where.length)?.get(where.network);
  }

  private set(where: Place, held: HeldBan): void {
    if (where.kind === 'exact') {
      if (!this.exact.has(where.key) && where.key.includes(':')) this.ipv6Exact++;
      this.exact.set(where.key, held);
      return;
    }
    const set = this.ranges[where.family];
    let networks = set.byLength.get(where.length);
    if (!networks) {
      networks = new Map();
      set.byLength.set(where.length, networks);
      set.lengths = [...set.byLength.keys()].sort((a, b) => b - a);
    }
    if (!networks.has(where.network)) this.rangeCount++;
    networks.set(where.network, held);
  }

  private dropLength(set: RangeSet, length: number): void {
    set.byLength.delete(length);
    set.lengths = set.lengths.filter((candidate) => candidate !== length);
  }

  /** Where a decision lives in the table; null for a scope or value Gatehouse does not apply. */
  private place(decision: LapiDecision): Place | null {
    if (typeof decision?.value !== 'string' || typeof decision.scope !== 'string') return null;
    const scope = decision.scope.toLowerCase();
    const value = decision.value.trim();
    if (scope === 'ip') {
      const plain = unmapped(value);
      if (isIPv4(plain)) return { kind: 'exact', key: plain };
      const v6 = ipv6Number(plain);
      return v6 === null ? null : { kind: 'exact', key: canonicalIpv6(v6) };
    }
    if (scope !== 'range') return null;
    const slash = value.indexOf('/');
    if (slash === -1) return null;
    const base = value.slice(0, slash);
    const length = Number(value.slice(slash + 1));
    if (!Number.isInteger(length) || length < 0) return null;
    const v4 = ipv4Number(base);
    if (v4 !== null) return length > 32 ? null : { kind: 'range', family: 4, length, network: networkOf(4, v4, length) };
    const v6 = ipv6Number(base);
    if (v6 === null || length > 128) return null;
    return { kind: 'range', family: 6, length, network: networkOf(6, v6, length) };
  }

  private reasonFor(decision: LapiDecision): string {
    const scenario = typeof decision.scenario === 'string' && decision.scenario !== '' ? decision.scenario : 'no scenario named';
    const type = String(decision.type).toLowerCase();
    // Gatehouse has no captcha or throttle of its own: like CrowdSec's nginx bouncer (its
    // fallback remediation), it refuses the address for any type.
    const reason = type === 'ban' ? `CrowdSec: ${scenario}` : `CrowdSec ${type} (refused as a ban): ${scenario}`;
    const shared = this.reasons.get(reason);
    if (shared !== undefined) return shared;
    if (this.reasons.size < REASONS_KEPT) this.reasons.set(reason, reason);
    return reason;
  }
}

type Place = { kind: 'exact'; key: string } | { kind: 'range'; family: Family; length: number; network: number | bigint };
