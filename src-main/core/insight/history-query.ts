// What a range shows: which ring it reads, its step and number of points (a chart's worth), and how
// buckets merge into a point (counts add up; percentiles through spreadInto, history-codec.ts).
import type { HistoryRange, HistorySeries } from '../../../shared/insight.js';
import { F_4XX, F_5XX, F_BYTES_IN, F_BYTES_OUT, F_PROXY, F_REFUSED, F_REQUESTS, F_UPGRADED, LATENCY_BINS } from '../proxy/stats.js';
import { binMs, binsOf, spreadInto, type Bucket } from './history-codec.js';
import { RESOLUTIONS, type RingRead } from './history-file.js';

export interface RangePlan {
  /** The ring read: 0 (10 s) or 1 (5 min). */
  r: 0 | 1;
  /** Seconds per point. */
  step: number;
  points: number;
}

/**
 * A route's page: 1 h at 10 s (360 points), 24 h at 2 min (720), 30 d at 1 h (720).
 * The dashboard's sparklines: 1 h at 1 min (60), 24 h at 20 min (72), 30 d at 12 h (60).
 */
export const ROUTE_PLANS: Record<HistoryRange, RangePlan> = {
  '1h': { r: 0, step: 10, points: 360 },
  '24h': { r: 0, step: 120, points: 720 },
  '30d': { r: 1, step: 3600, points: 720 },
};
export const SUMMARY_PLANS: Record<HistoryRange, RangePlan> = {
  '1h': { r: 0, step: 60, points: 60 },
  '24h': { r: 0, step: 1200, points: 72 },
  '30d': { r: 1, step: 43_200, points: 60 },
};

/**
 * The range's [from, to) in Unix seconds, ending with the point that holds the newest bucket
 * written: the last complete 10-second bucket, or the 5-minute bucket under way (written every 10 s).
 */
export function windowOf(plan: RangePlan, nowMs: number): { from: number; to: number } {
  const seconds = Math.floor(nowMs / 1000);
  const written = plan.r === 0 ? Math.floor(seconds / 10) * 10 : (Math.floor(seconds / 300) + 1) * 300;
  const to = Math.ceil(written / plan.step) * plan.step;
  return { from: to - plan.points * plan.step, to };
}

/** The ring's periods a window covers. */
export function periodsOf(plan: RangePlan, window: { from: number; to: number }): { from: number; to: number } {
  const seconds = RESOLUTIONS[plan.r].seconds;
  return { from: window.from / seconds, to: window.to / seconds };
}

/** An empty series of `points` points from `from` (a route with no file yet). */
export function seriesOf(plan: RangePlan, from: number, read: RingRead | null): HistorySeries {
  const factor = plan.step / RESOLUTIONS[plan.r].seconds;
  const series: HistorySeries = { times: [], requests: [], errors4xx: [], errors5xx: [], proxyErrors: [], refused: [], bytesIn: [], bytesOut: [], upgraded: [], p50Ms: [], p95Ms: [], p99Ms: [] };
  const histogram = new Float64Array(LATENCY_BINS);
  const sums = new Float64Array(8);
  for (let point = 0; point < plan.points; point++) {
    series.times.push(from + point * plan.step);
    sums.fill(0);
    let present = false;
    let bins: readonly number[] | null = null;
    if (factor > 1) histogram.fill(0);
    for (let i = point * factor; i < (point + 1) * factor; i++) {
      const bucket: Bucket | null = read?.buckets[i] ?? null;
      if (bucket === null) continue;
      present = true;
      for (let field = 0; field < 8; field++) sums[field]! += bucket.counts[field] as number;
      if (factor === 1) bins = bucket.bins;
      else spreadInto(histogram, bucket.counts[F_REQUESTS] as number, bucket.bins);
    }
    if (factor > 1) bins = binsOf(histogram, histogram.reduce((a, b) => a + b, 0));
    series.requests.push(present ? (sums[F_REQUESTS] as number) : null);
    series.errors4xx.push(sums[F_4XX] as number);
    series.errors5xx.push(sums[F_5XX] as number);
    series.proxyErrors.push(sums[F_PROXY] as number);
    series.refused.push(sums[F_REFUSED] as number);
    series.bytesIn.push(sums[F_BYTES_IN] as number);
    series.bytesOut.push(sums[F_BYTES_OUT] as number);
    series.upgraded.push(sums[F_UPGRADED] as number);
    series.p50Ms.push(bins ? binMs(bins[0] as number) : null);
    series.p95Ms.push(bins ? binMs(bins[1] as number) : null);
    series.p99Ms.push(bins ? binMs(bins[2] as number) : null);
  }
  return series;
}
