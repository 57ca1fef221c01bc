// How one history bucket is kept on disk, in as few bytes as a month for 50 routes needs
// (docs/history.md): every count as a 16-bit "c16" number (exact up to 32 767, within 0.05 %
// above), the latency percentiles as 1-byte latency bins (±5 %, the live stats' bins), and a check
// byte that ties the slot to its period, so a torn or stale slot reads as a gap, never as numbers.
import { crc32 } from 'node:zlib';
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

/** The check byte: CRC-32 of the slot's bytes started from the period, so a slot of another period fails it. */
function check(slot: Uint8Array, length: number, period: number): number {
  return crc32(slot.subarray(0, length), period >>> 0) & 0xff;
}

/** Writes a bucket (null: Gatehouse was not running) into `out` at `offset`. */
export function encodeSlot(kind: SeriesKind, period: number, bucket: Bucket | null, out: Buffer, offset: number): void {
  const fields = fieldsOf(kind);
  const slot = out.subarray(offset, offset + slotBytes(kind));
  slot.fill(0);
  if (bucket === null) {
    slot.writeUInt16LE(NULL16, 0);
    slot.fill(NO_BIN, fields.length * 2, fields.length * 2 + 3);
  } else {
    fields.forEach((field, index) => slot.writeUInt16LE(encodeCount(bucket.counts[field] as number), index * 2));
    // Capped one below the gap's code: a bucket with 1.4·10^14 requests is not a gap.
    if (slot.readUInt16LE(0) === NULL16) slot.writeUInt16LE(NULL16 - 1, 0);
    bucket.bins.forEach((bin, index) => (slot[fields.length * 2 + index] = bin));
  }
  const length = slot.length - 1;
  slot[length] = check(slot, length, period);
}

/** Reads a slot back: the bucket, null for a gap, or 'bad' when its check fails (torn, stale, damaged). */
export function decodeSlot(kind: SeriesKind, period: number, data: Buffer, offset: number): Bucket | null | 'bad' {
  const fields = fieldsOf(kind);
  const slot = data.subarray(offset, offset + slotBytes(kind));
  const length = slot.length - 1;
  if (slot[length] !== check(slot, length, period)) return 'bad';
  if (slot.readUInt16LE(0) === NULL16) return null;
  const counts = new Float64Array(BUCKET_FIELDS);
  fields.forEach((field, index) => (counts[field] = decodeCount(slot.readUInt16LE(index * 2))));
  const at = fields.length * 2;
  return { counts, bins: [slot[at] as number, slot[at + 1] as number, slot[at + 2] as number] };
}
