// What a range shows: which ring it reads, its step and number of points (a chart's worth), and how
// buckets merge into a point (counts add up; percentiles through spreadInto, history-codec.ts).
import type { HistoryRange, HistorySeries } from '../../../shared/insight.js';
import { BUCKET_FIELDS, F_4XX, F_5XX, F_BYTES_IN, F_BYTES_OUT, F_PROXY, F_REFUSED, F_REQUESTS, F_UPGRADED, LATENCY_BINS } from '../proxy/stats.js';
import { binMs, binsOf, NO_BIN, spreadInto } from './history-codec.js';
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
 * The dashboard's sparklines: 1 h at 1 min (60), 24 h at 20 min (72, from the 5-minute ring: 288
 * buckets a route rather than 8640), 30 d at 12 h (60).
 */
export const ROUTE_PLANS: Record<HistoryRange, RangePlan> = {
  '1h': { r: 0, step: 10, points: 360 },
  '24h': { r: 0, step: 120, points: 720 },
  '30d': { r: 1, step: 3600, points: 720 },
};
export const SUMMARY_PLANS: Record<HistoryRange, RangePlan> = {
  '1h': { r: 0, step: 60, points: 60 },
  '24h': { r: 1, step: 1200, points: 72 },
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

/**
 * The points of a range from a ring's buckets (null: the series has no file). With `latency` false
 * the percentiles are left null (the dashboard's sparklines do not show them).
 */
export function seriesOf(plan: RangePlan, from: number, read: RingRead | null, latency = true): HistorySeries {
  const factor = plan.step / RESOLUTIONS[plan.r].seconds;
  const series: HistorySeries = { times: [], requests: [], errors4xx: [], errors5xx: [], proxyErrors: [], refused: [], bytesIn: [], bytesOut: [], upgraded: [], p50Ms: [], p95Ms: [], p99Ms: [] };
  const histogram = new Float64Array(LATENCY_BINS);
  const sums = new Float64Array(BUCKET_FIELDS);
  const bins: number[] = [NO_BIN, NO_BIN, NO_BIN];
  const buckets = read?.buckets ?? null;
  for (let point = 0; point < plan.points; point++) {
    series.times.push(from + point * plan.step);
    sums.fill(0);
    let present = false;
    bins.fill(NO_BIN);
    let spreadRequests = 0;
    if (factor > 1 && latency) histogram.fill(0);
    for (let i = point * factor; buckets !== null && i < (point + 1) * factor; i++) {
      if (!buckets.present[i]) continue;
      present = true;
      const base = i * BUCKET_FIELDS;
      for (let field = 0; field < BUCKET_FIELDS; field++) sums[field]! += buckets.counts[base + field] as number;
      if (!latency) continue;
      if (factor === 1) {
        for (let q = 0; q < 3; q++) bins[q] = buckets.bins[i * 3 + q] as number;
      } else {
        const requests = buckets.counts[base + F_REQUESTS] as number;
        spreadInto(histogram, requests, [buckets.bins[i * 3] as number, buckets.bins[i * 3 + 1] as number, buckets.bins[i * 3 + 2] as number]);
        if (buckets.bins[i * 3] !== NO_BIN) spreadRequests += requests;
      }
    }
    if (factor > 1 && latency) bins.splice(0, 3, ...binsOf(histogram, spreadRequests));
    series.requests.push(present ? (sums[F_REQUESTS] as number) : null);
    series.errors4xx.push(sums[F_4XX] as number);
    series.errors5xx.push(sums[F_5XX] as number);
    series.proxyErrors.push(sums[F_PROXY] as number);
    series.refused.push(sums[F_REFUSED] as number);
    series.bytesIn.push(sums[F_BYTES_IN] as number);
    series.bytesOut.push(sums[F_BYTES_OUT] as number);
    series.upgraded.push(sums[F_UPGRADED] as number);
    series.p50Ms.push(binMs(bins[0] as number));
    series.p95Ms.push(binMs(bins[1] as number));
    series.p99Ms.push(binMs(bins[2] as number));
  }
  return series;
}
