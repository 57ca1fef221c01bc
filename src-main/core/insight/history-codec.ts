// How one history bucket is kept on disk, in as few bytes as a month for 50 routes needs
// (docs/history.md): every count as a 16-bit "c16" number (exact up to 32 767, within 0.05 %
// above), the latency percentiles as 1-byte latency bins (±5 %, the live stats' bins), and a check
// byte that ties the slot to its period, so a torn or stale slot reads as a gap, never as numbers.
import { BUCKET_FIELDS, bucketEdgeMs, F_REFUSED, LATENCY_BINS } from '../proxy/stats.js';

export type SeriesKind = 'route' | 'upstream';

/** The fields a kind keeps, in slot order (an upstream never sees refusals: they happen before one is chosen). */
const ROUTE_FIELDS = Array.from({ length: BUCKET_FIELDS }, (_, index) => index);
const UPSTREAM_FIELDS = ROUTE_FIELDS.filter((field) => field !== F_REFUSED);
export const fieldsOf = (kind: SeriesKind): readonly number[] => (kind === 'route' ? ROUTE_FIELDS : UPSTREAM_FIELDS);

/** Bytes of one slot: 2 per count, 3 percentile bins, 1 check byte. Route: 20, upstream: 18. */
export const slotBytes = (kind: SeriesKind): number => fieldsOf(kind).length * 2 + 4;

/** The requests field of a slot written while Gatehouse ran nowhere near it: a gap. */
const NULL16 = 0xffff;
/** A percentile bin when the bucket had no timed request. */
export const NO_BIN = 0xff;

/** A count as 16 bits: below 32 768 exactly; above, 10 bits of mantissa (within 0.05 %), up to ~1.4·10^14. */
export function encodeCount(value: number): number {
  const v = Math.max(0, Math.round(value));
  if (v < 0x8000) return v;
  let e = Math.floor(Math.log2(v)) - 15;
  if (v < 2 ** (e + 15)) e--;
  if (v >= 2 ** (e + 16)) e++;
  let m = Math.round(v / 2 ** (e + 5));
  if (m >= 2048) {
    e++;
    m = 1024;
  }
  if (e > 31 || (e === 31 && m - 1024 >= 1023)) return 0xfffe;
  return 0x8000 | (e << 10) | (m - 1024);
}

export function decodeCount(code: number): number {
  if (code < 0x8000) return code;
  const e = (code >> 10) & 31;
  return (1024 + (code & 1023)) * 2 ** (e + 5);
}

/** One bucket as read back: counts by field (stats.ts F_*), percentile bins (NO_BIN: none). */
export interface Bucket {
  counts: Float64Array;
  bins: [number, number, number];
}

/** Percentile bins of an exact histogram (the request path's): the bin holding the q-th latency. */
export function binsOf(histogram: ArrayLike<number>, total: number): [number, number, number] {
  return [binAt(histogram, total, 0.5), binAt(histogram, total, 0.95), binAt(histogram, total, 0.99)];
}

function binAt(histogram: ArrayLike<number>, total: number, q: number): number {
  if (!(total > 0)) return NO_BIN;
  // Float histograms (merged spreads) need a little slack; counts are integers and lose nothing.
  const rank = total * q - total * 1e-9;
  let seen = 0;
  for (let bin = 0; bin < LATENCY_BINS; bin++) {
    seen += histogram[bin] as number;
    if (seen >= rank) return bin;
  }
  return LATENCY_BINS - 1;
}

/**
 * Adds a bucket known only by its percentiles to a histogram, the merge's approximation: half the
 * requests at p50, 45 % spread evenly over the bins up to p95, 4 % up to p99, 1 % at p99. Merging
 * buckets that have the same percentiles gives those percentiles back; otherwise each merged
 * percentile lies between the buckets' own (docs/history.md).
 */
export function spreadInto(histogram: Float64Array, requests: number, bins: readonly number[]): void {
  const [b50, b95, b99] = bins as [number, number, number];
  if (!(requests > 0) || b50 === NO_BIN) return;
  histogram[b50]! += requests * 0.5;
  spread(histogram, b50, b95, requests * 0.45);
  spread(histogram, b95, b99, requests * 0.04);
  histogram[b99]! += requests * 0.01;
}

/** `amount` over the bins (low, high], or at `low` when they are the same. */
function spread(histogram: Float64Array, low: number, high: number, amount: number): void {
  if (high <= low) {
    histogram[low]! += amount;
    return;
  }
  const share = amount / (high - low);
  for (let bin = low + 1; bin <= high; bin++) histogram[bin]! += share;
}

/** A bin's latency in ms (its upper edge: never understates), or null. */
export const binMs = (bin: number): number | null => (bin === NO_BIN ? null : bucketEdgeMs(bin));

// CRC-8 (polynomial 0x07), in JS: a native call per slot costs more than the 23 bytes it covers.
const CRC8 = new Uint8Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
  CRC8[n] = c;
}

/** The check byte: CRC-8 of the period and the slot's bytes, so a slot of another period fails it. */
function check(data: Uint8Array, offset: number, length: number, period: number): number {
  let c = CRC8[period & 0xff] as number;
  c = CRC8[c ^ ((period >>> 8) & 0xff)] as number;
  c = CRC8[c ^ ((period >>> 16) & 0xff)] as number;
  c = CRC8[c ^ ((period >>> 24) & 0xff)] as number;
  for (let i = offset; i < offset + length; i++) c = CRC8[c ^ (data[i] as number)] as number;
  return c;
}

/** Writes a bucket (null: Gatehouse was not running) into `out` at `offset`. */
export function encodeSlot(kind: SeriesKind, period: number, bucket: Bucket | null, out: Buffer, offset: number): void {
  const fields = fieldsOf(kind);
  const size = slotBytes(kind);
  out.fill(0, offset, offset + size);
  const at = offset + fields.length * 2;
  if (bucket === null) {
    out.writeUInt16LE(NULL16, offset);
    out.fill(NO_BIN, at, at + 3);
  } else {
    for (let index = 0; index < fields.length; index++) out.writeUInt16LE(encodeCount(bucket.counts[fields[index] as number] as number), offset + index * 2);
    // Capped one below the gap's code: a bucket with 1.4·10^14 requests is not a gap.
    if (out.readUInt16LE(offset) === NULL16) out.writeUInt16LE(NULL16 - 1, offset);
    out[at] = bucket.bins[0];
    out[at + 1] = bucket.bins[1];
    out[at + 2] = bucket.bins[2];
  }
  out[offset + size - 1] = check(out, offset, size - 1, period);
}

/**
 * Buckets read back, as columns: `present[i]` 1 for a bucket, 0 for a gap (not running, not
 * written, or a slot whose check failed: torn, stale, damaged); `counts[i * BUCKET_FIELDS + F_*]`;
 * `bins[i * 3 + 0..2]` (NO_BIN: none).
 */
export interface Buckets {
  length: number;
  present: Uint8Array;
  counts: Float64Array;
  bins: Uint8Array;
}

export function emptyBuckets(length: number): Buckets {
  return { length, present: new Uint8Array(length), counts: new Float64Array(length * BUCKET_FIELDS), bins: new Uint8Array(length * 3).fill(NO_BIN) };
}

/** Decodes the slot of `period` at `offset` of `data` into bucket `index` of `into`. */
export function decodeSlot(kind: SeriesKind, period: number, data: Buffer, offset: number, into: Buckets, index: number): void {
  const fields = fieldsOf(kind);
  const size = slotBytes(kind);
  if (data[offset + size - 1] !== check(data, offset, size - 1, period)) return;
  const requests = (data[offset] as number) | ((data[offset + 1] as number) << 8);
  if (requests === NULL16) return;
  into.present[index] = 1;
  const base = index * BUCKET_FIELDS;
  for (let i = 0; i < fields.length; i++) {
    into.counts[base + (fields[i] as number)] = decodeCount((data[offset + i * 2] as number) | ((data[offset + i * 2 + 1] as number) << 8));
  }
  const at = offset + fields.length * 2;
  into.bins[index * 3] = data[at] as number;
  into.bins[index * 3 + 1] = data[at + 1] as number;
  into.bins[index * 3 + 2] = data[at + 2] as number;
}

/** Bucket `index` of `buckets` as a Bucket, or null for a gap. */
export function bucketAt(buckets: Buckets, index: number): Bucket | null {
  if (!buckets.present[index]) return null;
  const counts = buckets.counts.slice(index * BUCKET_FIELDS, (index + 1) * BUCKET_FIELDS);
  return { counts, bins: [buckets.bins[index * 3] as number, buckets.bins[index * 3 + 1] as number, buckets.bins[index * 3 + 2] as number] };
}
