// The route page's charts and the dashboard's sparklines, as data: columns uPlot draws (a null is a
// gap: Gatehouse was off, nothing is known), the up/down band's stretches clipped to the range, and
// the words a screen reader hears instead of a picture ("Requests in the last hour: 1,234, peak 56
// per 10 s"). Pure functions, no DOM, so the unit tests check them directly.
import type { Availability, HistoryRange, HistorySeries, RouteHistory, UpDownSpan, UpstreamHistory } from '../../shared/insight.js';

/** uPlot's data: the times (Unix seconds) then one column per series, nulls drawn as gaps. */
export type Columns = [number[], ...(number | null)[][]];

/** One line of a chart: its name and the CSS custom property holding its colour ("--chart-1"). */
export interface ChartSeries {
  label: string;
  color: string;
  /** Shade under the line. */
  fill?: boolean;
  dash?: boolean;
}

export const RANGE_LABELS: Record<HistoryRange, string> = { '1h': '1 h', '24h': '24 h', '30d': '30 d' };
export const RANGE_WORDS: Record<HistoryRange, string> = { '1h': 'the last hour', '24h': 'the last 24 hours', '30d': 'the last 30 days' };

/** The performance mark the route page sets once its charts have drawn (the bench measures navigation → mark). */
export const RENDERED_MARK = 'route-insight-rendered';
/** The mark set when the graphs start (the page was navigated to): `performance.measure(…, START_MARK, RENDERED_MARK)` is the page's own part. */
export const START_MARK = 'route-insight-start';

/** How often the page reads the range again: a 10-second bucket fills every 10 s, a 5-minute one every 5 min. */
export const REFRESH_MS: Record<HistoryRange, number> = { '1h': 10_000, '24h': 60_000, '30d': 300_000 };

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export function countText(n: number): string {
  return grouped.format(n);
}

/** "10 s", "1 min", "5 min", "1 h". */
export function stepText(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${oneDecimal.format(seconds / 60)} min`;
  return `${oneDecimal.format(seconds / 3600)} h`;
}

export function msText(ms: number): string {
  return ms < 10 ? `${oneDecimal.format(ms)} ms` : ms < 10_000 ? `${grouped.format(ms)} ms` : `${oneDecimal.format(ms / 1000)} s`;
}

export function bytesText(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const text = value.toFixed(unit === 0 || value >= 100 ? 0 : 1).replace(/\.0$/, '');
  return `${text} ${units[unit]}`;
}

/** "99.2 % up"; "100 % up" only when no known moment was down; null fraction → nothing known. */
export function upFractionText(fraction: number | null): string {
  if (fraction === null) return 'not known yet';
  const percent = fraction * 100;
  // Never round a route that was down at all up to 100 %, nor one that was up at all down to 0 %.
  const shown = fraction < 1 && percent > 99.9 ? 99.9 : fraction > 0 && percent < 0.1 ? 0.1 : percent;
  return `${shown === 100 || shown === 0 ? shown.toFixed(0) : oneDecimal.format(shown)} % up`;
}

/** Buckets where Gatehouse was running: `requests` is not null there. */
function known(series: HistorySeries): boolean[] {
  return series.requests.map((value) => value !== null);
}

/** A counter column with the buckets Gatehouse was off as gaps (the core sends 0 there; it means "not known"). */
export function withGaps(series: HistorySeries, column: readonly number[]): (number | null)[] {
  const on = known(series);
  return column.map((value, i) => (on[i] ? value : null));
}

/** The stretches [from, to) in which Gatehouse was off (requests null), merged, for shading behind the lines. */
export function offStretches(series: HistorySeries, stepSeconds: number): [number, number][] {
  const out: [number, number][] = [];
  series.requests.forEach((value, i) => {
    if (value !== null) return;
    const from = series.times[i]!;
    const last = out.at(-1);
    if (last && last[1] >= from) last[1] = from + stepSeconds;
    else out.push([from, from + stepSeconds]);
  });
  return out;
}

export function trafficColumns(series: HistorySeries): Columns {
  return [series.times, series.requests, withGaps(series, series.refused), withGaps(series, series.upgraded)];
}

export function errorColumns(series: HistorySeries): Columns {
  return [series.times, withGaps(series, series.errors4xx), withGaps(series, series.errors5xx), withGaps(series, series.proxyErrors)];
}

export function latencyColumns(series: HistorySeries): Columns {
  return [series.times, series.p50Ms, series.p95Ms, series.p99Ms];
}

export function bytesColumns(series: HistorySeries): Columns {
  return [series.times, withGaps(series, series.bytesIn), withGaps(series, series.bytesOut)];
}

/**
 * Every upstream's values on the route's times, one column each: an upstream whose series has other
 * bucket times (it was added later, or the store merged differently) is matched by time, and a bucket
 * it has no value for is a gap.
 */
export function mergeUpstreams(times: readonly number[], upstreams: readonly UpstreamHistory[], pick: (upstream: UpstreamHistory, index: number) => number | null): Columns {
  const columns: (number | null)[][] = upstreams.map((upstream) => {
    const byTime = new Map<number, number>();
    upstream.series.times.forEach((time, i) => byTime.set(time, i));
    return times.map((time) => {
      const i = byTime.get(time);
      return i === undefined ? null : pick(upstream, i);
    });
  });
  return [[...times], ...columns];
}

/** Each upstream's share of the route's requests per bucket, in % (gaps where the route had none or Gatehouse was off). */
export function upstreamShareColumns(history: RouteHistory): Columns {
  const requests = mergeUpstreams(history.series.times, history.upstreams, (upstream, i) => upstream.series.requests[i] ?? null);
  const [times, ...columns] = requests;
  const totals = times.map((_, i) => columns.reduce<number>((sum, column) => sum + (column[i] ?? 0), 0));
  return [times, ...columns.map((column) => column.map((value, i) => (value === null || totals[i] === 0 ? null : (100 * value) / totals[i]!)))];
}

/** Each upstream's availability per bucket, in % of the bucket's known time it was up; a gap where nothing is known. */
export function upstreamAvailabilityColumns(history: RouteHistory): Columns {
  const step = history.stepSeconds;
  const { times } = history.series;
  return [[...times], ...history.upstreams.map((upstream) => times.map((time) => upShare(upstream.availability.spans, time, time + step)))];
}

/**
 * Share (0–100) of [from, to) that `spans` call up, of the part they call up or down; null when none
 * of it is known. A span still lasting (`to` null) covers the rest of the bucket: the bucket now
 * filling is in the state the route is in now, even in its first second.
 */
export function upShare(spans: readonly UpDownSpan[], from: number, to: number): number | null {
  let up = 0;
  let down = 0;
  for (const span of spans) {
    const start = Math.max(span.from, from);
    const end = span.to === null ? to : Math.min(span.to, to);
    if (end <= start) continue;
    if (span.state === 'up') up += end - start;
    else if (span.state === 'down') down += end - start;
  }
  return up + down === 0 ? null : (100 * up) / (up + down);
}

/** Each upstream's share of the requests over the whole range, for the legend: "10.33.0.4:8096 71 %". */
export function upstreamTotals(history: RouteHistory): { url: string; requests: number; share: number | null; upText: string }[] {
  const totals = history.upstreams.map((upstream) => sum(upstream.series.requests));
  const all = totals.reduce((a, b) => a + b, 0);
  return history.upstreams.map((upstream, i) => ({
    url: upstream.url,
    requests: totals[i]!,
    share: all === 0 ? null : totals[i]! / all,
    upText: upFractionText(upstream.availability.upFraction),
  }));
}

/** One stretch of the up/down band, as a share of the range's width (0–100). */
export interface BandPiece {
  state: UpDownSpan['state'];
  from: number;
  to: number;
  left: number;
  width: number;
}

/**
 * The spans clipped to [from, to], in order; time the spans do not cover is "off" (nothing known),
 * so the band always spans the whole range.
 */
export function bandPieces(availability: Availability, from: number, to: number): BandPiece[] {
  const total = to - from;
  if (total <= 0) return [];
  const pieces: { state: UpDownSpan['state']; from: number; to: number }[] = [];
  const push = (state: UpDownSpan['state'], start: number, end: number) => {
    if (end <= start) return;
    const last = pieces.at(-1);
    if (last && last.state === state && last.to >= start) last.to = Math.max(last.to, end);
    else pieces.push({ state, from: start, to: end });
  };
  let cursor = from;
  for (const span of [...availability.spans].sort((a, b) => a.from - b.from)) {
    const start = Math.max(span.from, from);
    const end = Math.min(span.to ?? to, to);
    if (end <= start) continue;
    if (start > cursor) push('off', cursor, start);
    push(span.state, Math.max(start, cursor), end);
    cursor = Math.max(cursor, end);
  }
  if (cursor < to) push('off', cursor, to);
  return pieces.map((piece) => ({ ...piece, left: (100 * (piece.from - from)) / total, width: (100 * (piece.to - piece.from)) / total }));
}

function sum(column: readonly (number | null)[]): number {
  return column.reduce<number>((total, value) => total + (value ?? 0), 0);
}

function peak(column: readonly (number | null)[]): number | null {
  let best: number | null = null;
  for (const value of column) if (value !== null && (best === null || value > best)) best = value;
  return best;
}

/** Whether anything at all was recorded: some bucket with a request, an upgraded connection or a refusal. */
export function hasTraffic(series: HistorySeries): boolean {
  return sum(series.requests) + sum(series.upgraded) + sum(series.refused) > 0;
}

/** The sentence a screen reader hears for each chart (its aria-label), with the range and the step. */
export function chartSummaries(history: RouteHistory): { traffic: string; errors: string; latency: string; bytes: string; availability: string; upstreams: string } {
  const { series, range } = history;
  const when = RANGE_WORDS[range];
  const step = stepText(history.stepSeconds);
  const requests = sum(series.requests);
  const requestPeak = peak(series.requests);
  const refused = sum(withGaps(series, series.refused));
  const upgraded = sum(withGaps(series, series.upgraded));
  const off = series.requests.filter((value) => value === null).length;
  const offText = off === 0 ? '' : `; Gatehouse was off for ${stepText(off * history.stepSeconds)}`;
  const traffic =
    `Requests in ${when}: ${countText(requests)}` +
    (requestPeak !== null && requestPeak > 0 ? `, peak ${countText(requestPeak)} per ${step}` : '') +
    (refused > 0 ? `; ${countText(refused)} refused` : '') +
    (upgraded > 0 ? `; ${countText(upgraded)} upgraded connections` : '') +
    offText;
  const e4 = sum(withGaps(series, series.errors4xx));
  const e5 = sum(withGaps(series, series.errors5xx));
  const ep = sum(withGaps(series, series.proxyErrors));
  const errors = e4 + e5 + ep === 0 ? `No errors in ${when}` : `Errors in ${when}: ${countText(e4)} 4xx, ${countText(e5)} 5xx, ${countText(ep)} proxy errors; 5xx peak ${countText(peak(series.errors5xx.map((v, i) => (series.requests[i] === null ? null : v))) ?? 0)} per ${step}`;
  const p99Peak = peak(series.p99Ms);
  const p50s = series.p50Ms.filter((v): v is number => v !== null);
  const latency = p99Peak === null ? `No latency measured in ${when}` : `Latency in ${when}: typical p50 ${msText(median(p50s))}, worst p99 ${msText(p99Peak)}`;
  const bytes = `Bytes in ${when}: ${bytesText(sum(withGaps(series, series.bytesIn)))} in, ${bytesText(sum(withGaps(series, series.bytesOut)))} out`;
  const downSeconds = history.availability.spans.reduce((total, span) => (span.state === 'down' ? total + Math.max(0, Math.min(span.to ?? history.to, history.to) - Math.max(span.from, history.from)) : total), 0);
  const availability = `Up/down in ${when}: ${upFractionText(history.availability.upFraction)}` + (downSeconds > 0 ? `, down for ${durationText(downSeconds)}` : '');
  const upstreams = upstreamTotals(history)
    .map((u) => `${u.url}: ${u.share === null ? 'no requests' : `${Math.round(u.share * 100)} % of requests`}, ${u.upText}`)
    .join('; ');
  return { traffic, errors, latency, bytes, availability, upstreams: upstreams === '' ? 'No upstreams' : `Upstreams in ${when}: ${upstreams}` };
}

/** "45 s", "12 min", "3 h 20 min", "2 d 4 h". */
export function durationText(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) {
    const h = Math.floor(s / 3600);
    const m = Math.round((s % 3600) / 60);
    return m === 0 ? `${h} h` : `${h} h ${m} min`;
  }
  const d = Math.floor(s / 86_400);
  const h = Math.round((s % 86_400) / 3600);
  return h === 0 ? `${d} d` : `${d} d ${h} h`;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** A bucket's time for the tables: "14:05:20" for 1 h, "14:05" for 24 h, "Dec 3 14:05" for 30 d. */
export function bucketTimeText(seconds: number, range: HistoryRange): string {
  const date = new Date(seconds * 1000);
  if (range === '30d') return date.toLocaleString('en-GB', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  return date.toLocaleTimeString('en-GB', range === '1h' ? { hour: '2-digit', minute: '2-digit', second: '2-digit' } : { hour: '2-digit', minute: '2-digit' });
}

/** An x-axis tick: "15:10" within a day, "7 Nov" over 30 days (the viewer's time zone). */
export function axisTimeText(seconds: number, range: HistoryRange): string {
  const date = new Date(seconds * 1000);
  if (range === '30d') return date.toLocaleDateString('en-GB', { day: 'numeric', month: 'short' });
  return date.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
}

/** A y-axis tick for counts: "950", "12k", "1.2M". */
export function compactCount(n: number): string {
  if (Math.abs(n) < 1000) return grouped.format(n);
  if (Math.abs(n) < 1_000_000) return `${oneDecimal.format(n / 1000)}k`;
  return `${oneDecimal.format(n / 1_000_000)}M`;
}

/** A y-axis tick for latency: "250 ms", "1.5 s". */
export function compactMs(ms: number): string {
  return ms < 1000 ? `${grouped.format(ms)} ms` : `${oneDecimal.format(ms / 1000)} s`;
}

/**
 * The rows of the screen-reader table under a chart: a long range is summed into at most `rows`
 * rows (a 30-day table of 8,640 rows helps nobody), each with its start time.
 */
export function tableRows(columns: Columns, rows = 12, combine: 'sum' | 'max' = 'sum'): { time: number; values: (number | null)[] }[] {
  const [times, ...values] = columns;
  if (times.length === 0) return [];
  const per = Math.max(1, Math.ceil(times.length / rows));
  const out: { time: number; values: (number | null)[] }[] = [];
  for (let start = 0; start < times.length; start += per) {
    const end = Math.min(times.length, start + per);
    out.push({
      time: times[start]!,
      values: values.map((column) => {
        let result: number | null = null;
        for (let i = start; i < end; i += 1) {
          const v = column[i];
          if (v === null || v === undefined) continue;
          result = result === null ? v : combine === 'sum' ? result + v : Math.max(result, v);
        }
        return result;
      }),
    });
  }
  return out;
}

/**
 * The dashboard sparkline's points: an SVG path per run of known buckets (a gap breaks the line),
 * scaled into width × height with the top at the busiest bucket.
 */
export function sparkPaths(values: readonly (number | null)[], width: number, height: number, top?: number): string[] {
  const max = Math.max(1, top ?? peak(values) ?? 0);
  const n = values.length;
  if (n === 0) return [];
  const x = (i: number) => (n === 1 ? width / 2 : (i * width) / (n - 1));
  const y = (v: number) => height - 1 - (v / max) * (height - 2);
  const paths: string[] = [];
  let current = '';
  values.forEach((value, i) => {
    if (value === null) {
      if (current) paths.push(current);
      current = '';
      return;
    }
    current += `${current ? 'L' : 'M'}${x(i).toFixed(1)} ${y(value).toFixed(1)}`;
  });
  if (current) paths.push(current);
  return paths;
}

/** The sparkline's errors: a tick up from the baseline for each bucket that had any (a line along zero would only be noise). */
export function sparkTicks(errors: readonly (number | null)[], width: number, height: number, top: number): string {
  const max = Math.max(1, top);
  const n = errors.length;
  const x = (i: number) => (n === 1 ? width / 2 : (i * width) / (n - 1));
  let d = '';
  errors.forEach((value, i) => {
    if (value === null || value <= 0) return;
    const y = Math.min(height - 3, height - 1 - (value / max) * (height - 2));
    d += `M${x(i).toFixed(1)} ${height}V${y.toFixed(1)}`;
  });
  return d;
}

/** The sparkline's words: "Last hour: 1,234 requests, 3 errors, 99.2 % up". */
export function sparkSummary(requests: readonly (number | null)[], errors: readonly number[], upFraction: number | null): string {
  const total = sum(requests);
  const failed = sum(errors.map((v, i) => (requests[i] === null ? null : v)));
  return `Last hour: ${countText(total)} ${total === 1 ? 'request' : 'requests'}, ${countText(failed)} ${failed === 1 ? 'error' : 'errors'}` + (upFraction === null ? '' : `, ${upFractionText(upFraction)}`);
}
