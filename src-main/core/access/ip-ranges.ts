// Address ranges compiled for a lookup that costs the same for 10 entries or 10,000: the ranges of an
// ordered list (access-list entries, the private ranges) are cut into disjoint intervals, each
// labelled with the FIRST range of the list that covers it, so "which entry decides for this
// address" is one binary search. Node's BlockList answers only yes/no and checks its rules one by
// one (test/unit/access-ip-ranges.test.ts measures both).
//
// IPv4 is a 32-bit number; IPv6 is four 32-bit words, most significant first. An IPv4-mapped IPv6
// address (::ffff:192.0.2.1, what a dual-stack socket reports) is the IPv4 address, and so is an
// IPv4-mapped range (::ffff:192.0.2.0/120). Compiling is done once per settings change; a lookup
// parses the address into a shared scratch array and allocates nothing.

/** 0: not an address; 4: IPv4 (in words[0]); 6: IPv6 (words[0..3]). */
export type Family = 0 | 4 | 6;

/** Where parseAddress writes: single-threaded, read right after the parse. */
export const SCRATCH = new Uint32Array(4);
const GROUPS = new Uint32Array(8);

/** Parses dotted-quad IPv4 in text[start, end): the value, or -1. Leading zeros are refused (octal in some tools). */
function parseIPv4(text: string, start: number, end: number): number {
  let value = 0;
  let octets = 0;
  let i = start;
  while (octets < 4) {
    const first = i;
    let octet = 0;
    while (i < end) {
      const c = text.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      octet = octet * 10 + c;
      i++;
    }
    const digits = i - first;
    if (digits === 0 || digits > 3 || octet > 255 || (digits > 1 && text.charCodeAt(first) === 48)) return -1;
    value = value * 256 + octet;
    octets++;
    if (octets < 4) {
      if (i >= end || text.charCodeAt(i) !== 46) return -1;
      i++;
    }
  }
  return i === end ? value : -1;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parses IPv6 in text[0, end) into `out` (four words); false when it is not one. */
function parseIPv6(text: string, end: number, out: Uint32Array): boolean {
  let n = 0;
  let gap = -1;
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    const start = i;
    let value = 0;
    for (let d = hexDigit(text.charCodeAt(i)); d !== -1 && i < end; d = hexDigit(text.charCodeAt(i))) {
      value = value * 16 + d;
      i++;
    }
    if (i < end && text.charCodeAt(i) === 46) {
      // An IPv4 tail ("::ffff:192.0.2.1"): the last two groups.
      if (n > 6) return false;
      const v4 = parseIPv4(text, start, end);
      if (v4 < 0) return false;
      GROUPS[n++] = v4 >>> 16;
      GROUPS[n++] = v4 & 0xffff;
      i = end;
      break;
    }
    if (i === start || i - start > 4 || n === 8) return false;
    GROUPS[n++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && text.charCodeAt(i) === 58) {
      if (gap !== -1) return false;
      gap = n;
      i++;
    } else if (i === end) {
      return false;
    }
  }
  if (gap === -1 ? n !== 8 : n > 7) return false;
  // Groups after the gap move to the end; the gap is zeros.
  const fill = 8 - n;
  for (let g = 7; g >= 0; g--) {
    const from = g - fill;
    const group = gap === -1 || g < gap ? GROUPS[g] : from >= gap ? GROUPS[from] : 0;
    if (g % 2 === 1) out[g >> 1] = group as number;
    else out[g >> 1] = (((group as number) << 16) | (out[g >> 1] as number)) >>> 0;
  }
  return true;
}

/**
 * Parses an IPv4 or IPv6 address (an IPv6 zone, "%eth0", is ignored) into `out`. IPv4-mapped IPv6
 * comes back as IPv4. Allocates nothing.
 */
export function parseAddress(text: string, out: Uint32Array = SCRATCH): Family {
  if (text.indexOf(':') === -1) {
    const v4 = parseIPv4(text, 0, text.length);
    if (v4 < 0) return 0;
    out[0] = v4;
    return 4;
  }
  const zone = text.indexOf('%');
  if (!parseIPv6(text, zone === -1 ? text.length : zone, out)) return 0;
  if (out[0] === 0 && out[1] === 0 && out[2] === 0xffff) {
    out[0] = out[3] as number;
    return 4;
  }
  return 6;
}

/** An address or CIDR range as the inclusive interval it covers. */
export type ParsedRange = { family: 4; lo: number; hi: number } | { family: 6; lo: bigint; hi: bigint };

const V6_ALL = (1n << 128n) - 1n;

function wordsToBigInt(words: Uint32Array): bigint {
  return (BigInt(words[0] as number) << 96n) | (BigInt(words[1] as number) << 64n) | (BigInt(words[2] as number) << 32n) | BigInt(words[3] as number);
}

/**
 * "203.0.113.0/24", "2001:db8::/32" or a single address. Bits past the prefix are ignored
 * (10.0.0.7/24 covers 10.0.0.0–10.0.0.255). Throws, naming the range, when it is not one.
 */
export function parseRange(range: string): ParsedRange {
  const text = range.trim();
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const words = new Uint32Array(4);
  // Parsed as IPv6 first so that an IPv4-mapped range keeps its /96+ prefix meaning.
  const isV6 = address.includes(':');
  const family = isV6 ? (parseIPv6(address, address.length, words) ? 6 : 0) : parseAddress(address, words);
  const bits = family === 4 ? 32 : 128;
  const prefixText = slash === -1 ? String(bits) : text.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (family === 0 || !(prefix >= 0 && prefix <= bits)) {
    throw new Error(`"${range}" is not an IP address or CIDR range (such as 203.0.113.5, 10.33.0.0/24 or 2001:db8::/32)`);
  }
  if (family === 4) {
    const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
    const lo = ((words[0] as number) & mask) >>> 0;
    return { family: 4, lo, hi: (lo | (~mask >>> 0)) >>> 0 };
  }
  const value = wordsToBigInt(words);
  const hostBits = V6_ALL >> BigInt(prefix);
  const lo = value & ~hostBits & V6_ALL;
  const hi = lo | hostBits;
  // IPv4-mapped (::ffff:0:0/96 and inside): the IPv4 addresses it covers.
  const mapped = 0xffffn << 32n;
  if (prefix >= 96 && lo >> 32n === 0xffffn && hi >> 32n === 0xffffn) {
    return { family: 4, lo: Number(lo - mapped), hi: Number(hi - mapped) };
  }
  return { family: 6, lo, hi };
}

interface Interval<K> {
  lo: K;
  hi: K;
  /** Position in the list: the lower wins where ranges overlap. */
  index: number;
}

/** A min-heap of list positions (lower position = earlier entry = higher priority). */
class PositionHeap {
  private readonly items: number[] = [];
  get top(): number | undefined {
    return this.items[0];
  }
  push(value: number): void {
    const items = this.items;
    let i = items.push(value) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((items[parent] as number) <= value) break;
      items[i] = items[parent] as number;
      i = parent;
    }
    items[i] = value;
  }
  pop(): void {
    const items = this.items;
    const last = items.pop() as number;
    if (items.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && (items[right] as number) < (items[left] as number) ? right : left;
      if ((items[child] as number) >= last) break;
      items[i] = items[child] as number;
      i = child;
    }
    items[i] = last;
  }
}

/**
 * Cuts overlapping intervals into disjoint ones, each labelled with the earliest interval covering
 * it (a sweep over the boundaries with a heap of the intervals open there): O(n log n).
 */
function disjoint<K extends number | bigint>(
  intervals: Interval<K>[],
  after: (key: K) => K,
  before: (key: K) => K,
  compare: (a: K, b: K) => number,
): Interval<K>[] {
  const byStart = [...intervals].sort((a, b) => compare(a.lo, b.lo));
  const keys: K[] = [];
  for (const interval of intervals) keys.push(interval.lo, after(interval.hi));
  keys.sort(compare);
  const his = new Map<number, K>();
  for (const interval of intervals) his.set(interval.index, interval.hi);
  const heap = new PositionHeap();
  const out: Interval<K>[] = [];
  let next = 0;
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k] as K;
    if (k > 0 && compare(key, keys[k - 1] as K) === 0) continue;
    while (next < byStart.length && compare((byStart[next] as Interval<K>).lo, key) === 0) heap.push((byStart[next++] as Interval<K>).index);
    while (heap.top !== undefined && compare(his.get(heap.top) as K, key) < 0) heap.pop();
    const winner = heap.top;
    if (winner === undefined) continue;
    // The winner covers everything up to the next distinct boundary: its own end + 1 is one, and no
    // other interval starts or ends in between.
    let following = k + 1;
    while (compare(keys[following] as K, key) === 0) following++;
    const hi = before(keys[following] as K);
    const last = out.at(-1);
    if (last && last.index === winner && compare(after(last.hi), key) === 0) last.hi = hi;
    else out.push({ lo: key, hi, index: winner });
  }
  return out;
}

const compareNumbers = (a: number, b: number) => a - b;
const compareBigInts = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * An ordered list of ranges, compiled: `lookup` gives the position of the first range that holds an
 * address, or -1. Built once per settings change; a lookup is one binary search.
 */
export class RangeTable {
  /** IPv4 intervals: starts and inclusive ends, and the list position that wins there. */
  private readonly v4Lo: Uint32Array;
  private readonly v4Hi: Uint32Array;
  private readonly v4At: Int32Array;
  /** IPv6 intervals, four words per start and per end. */
  private readonly v6Lo: Uint32Array;
  private readonly v6Hi: Uint32Array;
  private readonly v6At: Int32Array;
  /** How many ranges were compiled. */
  readonly size: number;

  /** Compiles `ranges` (positions 0…n-1); throws naming the first one that is not a range. */
  constructor(ranges: readonly string[]) {
    const v4: Interval<number>[] = [];
    const v6: Interval<bigint>[] = [];
    ranges.forEach((range, index) => {
      const parsed = parseRange(range);
      if (parsed.family === 4) v4.push({ lo: parsed.lo, hi: parsed.hi, index });
      else v6.push({ lo: parsed.lo, hi: parsed.hi, index });
    });
    this.size = ranges.length;
    const four = disjoint(v4, (key) => key + 1, (key) => key - 1, compareNumbers);
    this.v4Lo = Uint32Array.from(four, (interval) => interval.lo);
    this.v4Hi = Uint32Array.from(four, (interval) => interval.hi);
    this.v4At = Int32Array.from(four, (interval) => interval.index);
    const six = disjoint(v6, (key) => key + 1n, (key) => key - 1n, compareBigInts);
    this.v6Lo = new Uint32Array(six.length * 4);
    this.v6Hi = new Uint32Array(six.length * 4);
    six.forEach((interval, i) => {
      for (let w = 0; w < 4; w++) {
        const shift = BigInt(96 - 32 * w);
        this.v6Lo[i * 4 + w] = Number((interval.lo >> shift) & 0xffffffffn);
        this.v6Hi[i * 4 + w] = Number((interval.hi >> shift) & 0xffffffffn);
      }
    });
    this.v6At = Int32Array.from(six, (interval) => interval.index);
  }

  /** The position of the first range holding `address` (any textual form), or -1. */
  lookup(address: string): number {
    return this.lookupParsed(parseAddress(address, SCRATCH), SCRATCH);
  }

  /** As lookup, for an address parseAddress already put in `words`. */
  lookupParsed(family: Family, words: Uint32Array): number {
    if (family === 4) {
      const x = words[0] as number;
      const lo = this.v4Lo;
      let low = 0;
      let high = lo.length - 1;
      // The last interval starting at or before x.
      while (low <= high) {
        const mid = (low + high) >>> 1;
        if ((lo[mid] as number) <= x) low = mid + 1;
        else high = mid - 1;
      }
      return high >= 0 && x <= (this.v4Hi[high] as number) ? (this.v4At[high] as number) : -1;
    }
    if (family === 6) {
      let low = 0;
      let high = this.v6At.length - 1;
      while (low <= high) {
        const mid = (low + high) >>> 1;
        if (compareWords(this.v6Lo, mid * 4, words) <= 0) low = mid + 1;
        else high = mid - 1;
      }
      return high >= 0 && compareWords(this.v6Hi, high * 4, words) >= 0 ? (this.v6At[high] as number) : -1;
    }
    return -1;
  }
}

/** Compares the four words at table[at…] with `words`. */
function compareWords(table: Uint32Array, at: number, words: Uint32Array): number {
  for (let w = 0; w < 4; w++) {
    const a = table[at + w] as number;
    const b = words[w] as number;
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}
