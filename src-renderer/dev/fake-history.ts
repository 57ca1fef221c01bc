// The fake Gatehouse's history: what the screenshots, the renderer tests and the browser test see.
// Deterministic for a given `now` (every bucket's numbers come from a hash of the route, the series
// and the bucket's time, so a refresh ten seconds later agrees with the first read), and shaped like
// a home lab: a day curve (quiet at 4:00, busy at 20:00), a few 5xx bursts, a spell where no upstream
// answered (the route down, Gatehouse answering 502/503 itself), a stretch where Gatehouse was off
// (a gap: null requests), a second upstream that was down on its own for a while (the route stayed up),
// WebSocket upgrades on Jellyfin, and a scanner being refused now and then. A disabled route has no
// traffic at all (the page's empty state).
import { ApiError } from '../../shared/api.js';
import type { Availability, HistoryRange, HistorySeries, HistorySummary, RouteHistory, UpDownSpan, UpstreamHistory } from '../../shared/insight.js';
import type { Route } from '../../shared/model.js';

export const STEP_SECONDS: Record<HistoryRange, number> = { '1h': 10, '24h': 60, '30d': 300 };
export const RANGE_SECONDS: Record<HistoryRange, number> = { '1h': 3600, '24h': 86_400, '30d': 30 * 86_400 };

export interface FakeHistoryOptions {
  routes: () => Route[];
  now: () => Date;
}

type Stretch = { from: number; to: number };

/** The events, relative to now (seconds ago): the same for every range, so the 1 h, 24 h and 30 d views agree. */
interface Events {
  /** Gatehouse not running. */
  off: Stretch[];
  /** No upstream answered: the route down. */
  down: Stretch[];
  /** The second upstream down on its own. */
  secondDown: Stretch[];
  /** The upstream answered 5xx to many requests. */
  bursts: Stretch[];
}

function events(now: number): Events {
  const ago = (from: number, to: number): Stretch => ({ from: now - from, to: now - to });
  const day = 86_400;
  return {
    off: [ago(45 * 60, 38 * 60), ago(12 * day + 3 * 3600, 11 * day + 18 * 3600)],
    down: [ago(22 * 60, 19 * 60), ago(6 * day + 5 * 3600, 6 * day + 4 * 3600 + 20 * 60)],
    secondDown: [ago(31 * 60, 26 * 60), ago(9 * 3600, 7 * 3600), ago(17 * day, 16 * day + 20 * 3600)],
    bursts: [ago(10 * 60, 8 * 60 + 30), ago(5 * 3600 + 10 * 60, 5 * 3600), ago(3 * day, 3 * day - 1200), ago(20 * day + 600, 20 * day), ago(26 * day, 26 * day - 1800)],
  };
}

/** A number in [0, 1) from the key: the same key, the same number. */
function noise(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i += 1) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  h = Math.imul(h ^ (h >>> 15), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

const overlaps = (stretches: Stretch[], from: number, to: number) => stretches.some((s) => s.from < to && s.to > from);
const inside = (stretches: Stretch[], t: number) => stretches.some((s) => s.from <= t && t < s.to);

/** Requests per second at that moment for a route of this size: quiet at 4:00, busiest at 20:00 (local time of the fake: UTC). */
function rate(t: number, scale: number): number {
  const hour = (t % 86_400) / 3600;
  return scale * (0.55 + 0.45 * Math.cos((2 * Math.PI * (hour - 20)) / 24));
}

function emptySeries(): HistorySeries {
  return { times: [], requests: [], errors4xx: [], errors5xx: [], proxyErrors: [], refused: [], bytesIn: [], bytesOut: [], upgraded: [], p50Ms: [], p95Ms: [], p99Ms: [] };
}

export class FakeHistory {
  readonly #options: FakeHistoryOptions;

  constructor(options: FakeHistoryOptions) {
    this.#options = options;
  }

  getHistory(routeId: string, range: HistoryRange): RouteHistory {
    const route = this.#options.routes().find((candidate) => candidate.id === routeId);
    if (!route) throw new ApiError('not_found', `There is no route "${routeId}".`);
    const now = Math.floor(this.#options.now().getTime() / 1000);
    const step = STEP_SECONDS[range];
    const to = now;
    const last = Math.floor(now / step) * step;
    const count = RANGE_SECONDS[range] / step;
    const first = last - (count - 1) * step;
    const times = Array.from({ length: count }, (_, i) => first + i * step);
    const ev = events(now);
    const scale = route.enabled ? 0.4 + 3 * noise(`scale:${route.id}`) : 0;
    const serving = route.upstreams.filter((u) => !u.drained && !u.backup);
    const primaries = serving.length > 0 ? serving : route.upstreams.slice(0, 1);

    const routeSeries = emptySeries();
    const perUpstream = route.upstreams.map(() => emptySeries());
    for (const t of times) {
      const end = t + step;
      const mid = t + step / 2;
      const off = inside(ev.off, mid);
      const down = overlaps(ev.down, t, end);
      const burst = overlaps(ev.bursts, t, end);
      const key = `${route.id}:${t}:${step}`;
      const requests = off ? null : Math.round(rate(mid, scale) * step * (0.75 + 0.5 * noise(`r:${key}`)));
      const n = requests ?? 0;
      const proxyErrors = down ? n : Math.round(n * 0.002 * noise(`p:${key}`) * 3);
      const errors5xx = down ? 0 : burst ? Math.round(n * (0.25 + 0.3 * noise(`b:${key}`))) : Math.round(n * 0.004 * noise(`5:${key}`) * 2);
      const errors4xx = Math.round(n * 0.02 * (0.5 + noise(`4:${key}`)));
      const scanner = noise(`s:${key}`) > 0.97;
      const refused = off || scale === 0 ? 0 : scanner ? Math.round(5 + 30 * noise(`sr:${key}`)) : noise(`rf:${key}`) > 0.8 ? 1 : 0;
      const upgraded = off || scale === 0 || noise(`ws:${route.id}`) < 0.4 ? 0 : Math.round(step / 60 + noise(`u:${key}`) * (step / 30));
      const base = 8 + 20 * noise(`l:${route.id}`);
      const slow = burst || down ? 6 : 1;
      const p50 = n === 0 ? null : Math.round(base * slow * (0.85 + 0.3 * noise(`l50:${key}`)) * 10) / 10;
      const p95 = p50 === null ? null : Math.round(p50 * (2.4 + noise(`l95:${key}`)) * 10) / 10;
      const p99 = p95 === null ? null : Math.round(p95 * (1.8 + 1.5 * noise(`l99:${key}`)) * 10) / 10;
      push(routeSeries, { t, requests, errors4xx, errors5xx, proxyErrors, refused, bytesIn: n * (400 + Math.round(300 * noise(`bi:${key}`))), bytesOut: n * (9_000 + Math.round(40_000 * noise(`bo:${key}`))), upgraded, p50, p95, p99 });

      // The requests split over the upstreams that serve: the second takes none while it is down.
      const secondDown = inside(ev.secondDown, mid);
      const shares = route.upstreams.map((upstream) => {
        if (!primaries.includes(upstream)) return upstream.backup && secondDown && primaries.length > 1 ? 0.05 : 0;
        const index = primaries.indexOf(upstream);
        if (index === 1 && secondDown) return 0;
        return index === 0 ? 0.62 : 0.38 / (primaries.length - 1);
      });
      const total = shares.reduce((a, b) => a + b, 0) || 1;
      route.upstreams.forEach((_, i) => {
        const part = (shares[i]! / total);
        const r = requests === null ? null : Math.round(n * part);
        const m = (v: number) => Math.round(v * part);
        push(perUpstream[i]!, { t, requests: r, errors4xx: m(errors4xx), errors5xx: m(errors5xx), proxyErrors: m(proxyErrors), refused: 0, bytesIn: m(n * 500), bytesOut: m(n * 20_000), upgraded: m(upgraded), p50: r ? p50 : null, p95: r ? p95 : null, p99: r ? p99 : null });
      });
    }

    const from = first;
    const availability = availabilityOf(from, to, ev.off, route.enabled ? ev.down : [], !route.enabled);
    const upstreams: UpstreamHistory[] = route.upstreams.map((upstream, i) => {
      const ownDown = primaries.indexOf(upstream) === 1 ? [...ev.down, ...ev.secondDown] : upstream.drained ? [] : ev.down;
      return { url: upstream.url, series: perUpstream[i]!, availability: availabilityOf(from, to, ev.off, route.enabled ? ownDown : [], !route.enabled) };
    });
    return { routeId: route.id, range, stepSeconds: step, from, to, series: routeSeries, availability, upstreams };
  }

  getHistorySummary(range: HistoryRange): HistorySummary {
    const routes = this.#options.routes().map((route) => {
      const history = this.getHistory(route.id, range);
      const { series } = history;
      return { routeId: route.id, requests: series.requests, errors: series.errors5xx.map((v, i) => v + series.proxyErrors[i]!), upFraction: history.availability.upFraction };
    });
    const now = Math.floor(this.#options.now().getTime() / 1000);
    const step = STEP_SECONDS[range];
    const last = Math.floor(now / step) * step;
    return { range, stepSeconds: step, from: last - (RANGE_SECONDS[range] / step - 1) * step, to: now, routes };
  }
}

function push(series: HistorySeries, b: { t: number; requests: number | null; errors4xx: number; errors5xx: number; proxyErrors: number; refused: number; bytesIn: number; bytesOut: number; upgraded: number; p50: number | null; p95: number | null; p99: number | null }): void {
  const off = b.requests === null;
  series.times.push(b.t);
  series.requests.push(b.requests);
  // Where Gatehouse was off the counters are 0 (the core has nothing), the latencies null.
  series.errors4xx.push(off ? 0 : b.errors4xx);
  series.errors5xx.push(off ? 0 : b.errors5xx);
  series.proxyErrors.push(off ? 0 : b.proxyErrors);
  series.refused.push(off ? 0 : b.refused);
  series.bytesIn.push(off ? 0 : b.bytesIn);
  series.bytesOut.push(off ? 0 : b.bytesOut);
  series.upgraded.push(off ? 0 : b.upgraded);
  series.p50Ms.push(off ? null : b.p50);
  series.p95Ms.push(off ? null : b.p95);
  series.p99Ms.push(off ? null : b.p99);
}

/** Up, down and off over [from, to]: off where Gatehouse was not running, down in `down`, up otherwise (nothing known for a disabled route). */
function availabilityOf(from: number, to: number, off: Stretch[], down: Stretch[], disabled: boolean): Availability {
  if (disabled) return { spans: [{ from, to: null, state: 'off' }], upFraction: null };
  const cuts = new Set<number>([from, to]);
  for (const s of [...off, ...down]) {
    if (s.from > from && s.from < to) cuts.add(s.from);
    if (s.to > from && s.to < to) cuts.add(s.to);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const spans: UpDownSpan[] = [];
  for (let i = 0; i < points.length - 1; i += 1) {
    const a = points[i]!;
    const b = points[i + 1]!;
    const mid = (a + b) / 2;
    const state: UpDownSpan['state'] = inside(off, mid) ? 'off' : inside(down, mid) ? 'down' : 'up';
    const last = spans.at(-1);
    if (last && last.state === state) last.to = b;
    else spans.push({ from: a, to: b, state });
  }
  const lastSpan = spans.at(-1);
  if (lastSpan) lastSpan.to = null;
  let up = 0;
  let downTime = 0;
  for (const span of spans) {
    const length = (span.to ?? to) - span.from;
    if (span.state === 'up') up += length;
    if (span.state === 'down') downTime += length;
  }
  return { spans, upFraction: up + downTime === 0 ? null : up / (up + downTime) };
}
