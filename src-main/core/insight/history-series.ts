// One series being written: what the sampler took since the last write, and the 10-second and
// 5-minute buckets under way (exact latency histograms in memory until each bucket ends).
import { BUCKET_FIELDS, F_REQUESTS, LATENCY_BINS, type BucketCounts } from '../proxy/stats.js';
import { bucketAt, binsOf, spreadInto, type Bucket } from './history-codec.js';
import { RESOLUTIONS, type SeriesFile } from './history-file.js';

/** Seconds between two samples (the 10-second ring's bucket). */
export const SAMPLE_SECONDS = RESOLUTIONS[0].seconds;

/** A bucket being filled: the 10-second one, or the 5-minute one under way. */
interface Accumulator {
  period: number;
  counts: Float64Array;
  latency: Float64Array;
}

export interface Series {
  file: SeriesFile;
  /** Drained since the last write. */
  pending: Float64Array;
  pendingLatency: Float64Array;
  buckets: [Accumulator | null, Accumulator | null];
}

export function newSeries(file: SeriesFile): Series {
  return { file, pending: new Float64Array(BUCKET_FIELDS), pendingLatency: new Float64Array(LATENCY_BINS), buckets: [null, null] };
}

/** Adds drained counts to what the next write takes. */
export function addInto(series: Series, counts: BucketCounts): void {
  for (let field = 0; field < BUCKET_FIELDS; field++) series.pending[field]! += counts.counts[field] as number;
  for (let bin = 0; bin < LATENCY_BINS; bin++) series.pendingLatency[bin]! += counts.latency[bin] as number;
}

/** Adds what was taken to the 10-second bucket `period` and its 5-minute bucket, and writes both. */
export function writeSeries(series: Series, period: number): void {
  const periods: [number, number] = [period, Math.floor((period * SAMPLE_SECONDS) / RESOLUTIONS[1].seconds)];
  const writes: { r: 0 | 1; period: number; bucket: Bucket }[] = [];
  for (const r of [0, 1] as const) {
    let bucket = series.buckets[r];
    // A new period; also when the clock went back (NTP, a restored VM): the requests since are
    // counted in their own (older) period, added to what the file already holds for it, rather than
    // dropped until the clock catches up with the newest bucket written.
    if (bucket === null || bucket.period !== periods[r]) bucket = series.buckets[r] = startBucket(series.file, r, periods[r]);
    for (let field = 0; field < BUCKET_FIELDS; field++) bucket.counts[field]! += series.pending[field] as number;
    for (let bin = 0; bin < LATENCY_BINS; bin++) bucket.latency[bin]! += series.pendingLatency[bin] as number;
    writes.push({ r, period: periods[r], bucket: { counts: bucket.counts, bins: binsOf(bucket.latency, bucket.counts[F_REQUESTS] as number) } });
  }
  series.pending.fill(0);
  series.pendingLatency.fill(0);
  series.file.write(writes);
}

/** A new bucket for `period`, holding what the file already has for it (a restart within it, or the clock set back into it). */
function startBucket(file: SeriesFile, r: 0 | 1, period: number): Accumulator {
  const bucket: Accumulator = { period, counts: new Float64Array(BUCKET_FIELDS), latency: new Float64Array(LATENCY_BINS) };
  if (file.heads[r] !== 0 && period <= file.heads[r]) {
    const stored = bucketAt(file.read(r, period, period + 1).buckets, 0);
    if (stored) {
      bucket.counts.set(stored.counts);
      spreadInto(bucket.latency, stored.counts[F_REQUESTS] as number, stored.bins);
    }
  }
  return bucket;
}
