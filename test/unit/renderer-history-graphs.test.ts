// The route page's graphs and the dashboard's sparklines (issue 17, graphs): buckets where Gatehouse
// was off stay gaps in every chart (the core sends 0 counters there), upstream series are merged by
// time, the up/down band covers the whole range, the spoken summaries say what the picture shows,
// and the feeds poll at the range's pace only while the page is visible, dropping late answers for a
// range no longer chosen. Against the fake Gatehouse's history (deterministic for a given now).
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, createApiClient } from '../../shared/api.js';
import type { HistorySeries, RouteHistory } from '../../shared/insight.js';
import { FakeGatehouse, sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';
import {
  bandPieces,
  chartSummaries,
  errorColumns,
  hasTraffic,
  mergeUpstreams,
  offStretches,
  sparkPaths,
  sparkSummary,
  sparkTicks,
  tableRows,
  trafficColumns,
  upFractionText,
  upShare,
  upstreamShareColumns,
} from '../../src-renderer/insight/history-shape.js';

const { RouteHistoryFeed, HistorySummaryFeed, VisiblePoller } = await import('../../src-renderer/insight/history-feed.svelte.js');

const NOW = new Date('2026-12-06T16:00:00.000Z');

function fakeWithRoutes(): FakeGatehouse {
  return new FakeGatehouse({
    now: () => NOW,
    routes: [
      sampleRoute({ id: 'jf', title: 'Jellyfin', names: ['jellyfin.home.arpa'], upstream: 'http://10.33.0.4:8096' }),
      sampleRoute({
        id: 'ha',
        title: 'Home Assistant',
        names: ['ha.home.arpa'],
        upstreams: [
          { url: 'http://10.33.0.21:8123', weight: 1, backup: false, drained: false },
          { url: 'http://10.33.0.22:8123', weight: 1, backup: false, drained: false },
        ],
      }),
      sampleRoute({ id: 'off', names: ['grafana.home.arpa'], upstream: 'http://10.33.0.12:3000', enabled: false }),
    ],
  });
}

function series(requests: (number | null)[], fields: Partial<HistorySeries> = {}): HistorySeries {
  const zeros = requests.map(() => 0);
  return {
    times: requests.map((_, i) => 1000 + i * 10),
    requests,
    errors4xx: zeros,
    errors5xx: zeros,
    proxyErrors: zeros,
    refused: zeros,
    bytesIn: zeros,
    bytesOut: zeros,
    upgraded: zeros,
    p50Ms: requests.map((r) => (r ? 10 : null)),
    p95Ms: requests.map((r) => (r ? 30 : null)),
    p99Ms: requests.map((r) => (r ? 90 : null)),
    ...fields,
  };
}

/** A small one-hour history from columns (step 10 s). */
function history(s: HistorySeries, extra: Partial<RouteHistory> = {}): RouteHistory {
  const from = s.times[0] ?? 1000;
  const to = (s.times.at(-1) ?? 1000) + 10;
  return { routeId: 'r', range: '1h', stepSeconds: 10, from, to, series: s, availability: { spans: [{ from, to: null, state: 'up' }], upFraction: 1 }, upstreams: [], ...extra };
}

describe('history shaping', () => {
  it('keeps the buckets Gatehouse was off as gaps in every counter, not zeros', () => {
    const s = series([5, null, null, 7], { errors5xx: [1, 0, 0, 2], refused: [0, 0, 0, 3], upgraded: [1, 0, 0, 0] });
    const [times, requests, refused, upgraded] = trafficColumns(s);
    assert.deepEqual(times, [1000, 1010, 1020, 1030]);
    assert.deepEqual(requests, [5, null, null, 7]);
    assert.deepEqual(refused, [0, null, null, 3]);
    assert.deepEqual(upgraded, [1, null, null, 0]);
    assert.deepEqual(errorColumns(s)[2], [1, null, null, 2], '5xx has the same gap');
    assert.deepEqual(offStretches(series([5, null, null, 7, null]), 10), [[1010, 1030], [1040, 1050]], 'the off stretches, merged, for shading');
    // A quiet bucket while running is a real zero.
    assert.deepEqual(trafficColumns(series([0, 3]))[1], [0, 3]);
  });

  it('merges upstream lines by time: a bucket an upstream has no value for is a gap', () => {
    const times = [1000, 1010, 1020];
    const a = { url: 'http://a:1', series: series([4, 5, 6]), availability: { spans: [], upFraction: null } };
    const late = { url: 'http://b:1', series: { ...series([1, 2]), times: [1010, 1020] }, availability: { spans: [], upFraction: null } };
    const merged = mergeUpstreams(times, [a, late], (u, i) => u.series.requests[i] ?? null);
    assert.deepEqual(merged, [times, [4, 5, 6], [null, 1, 2]]);

    const h = history(series([4, 7, null]), { upstreams: [{ ...a, series: series([3, 7, null]) }, { ...a, url: 'http://c:1', series: series([1, 0, null]) }] });
    const [, first, second] = upstreamShareColumns(h);
    assert.deepEqual(first, [75, 100, null]);
    assert.deepEqual(second, [25, 0, null]);
  });

  it('measures an upstream up share per bucket from its spans, null where nothing is known', () => {
    const spans = [
      { from: 0, to: 15, state: 'up' as const },
      { from: 15, to: 20, state: 'down' as const },
      { from: 20, to: 30, state: 'off' as const },
      { from: 30, to: null, state: 'up' as const },
    ];
    assert.equal(upShare(spans, 0, 10), 100);
    assert.equal(upShare(spans, 10, 20), 50);
    assert.equal(upShare(spans, 20, 30), null);
    assert.equal(upShare(spans, 30, 40), 100, 'an open span covers the bucket now filling');
    assert.equal(upShare([{ from: 40, to: null, state: 'down' }], 40, 50), 0, 'even in the bucket’s first second');
  });

  it('covers the whole range with the band, filling time no span covers with "off"', () => {
    const pieces = bandPieces({ spans: [{ from: 20, to: 50, state: 'up' }, { from: 50, to: 60, state: 'down' }, { from: 60, to: null, state: 'up' }], upFraction: 0.75 }, 0, 100);
    assert.deepEqual(pieces.map((p) => [p.state, p.left, p.width]), [['off', 0, 20], ['up', 20, 30], ['down', 50, 10], ['up', 60, 40]]);
    assert.equal(pieces.reduce((sum, p) => sum + p.width, 0), 100);
  });

  it('writes the up fraction without rounding a down spell away', () => {
    assert.equal(upFractionText(0.992), '99.2 % up');
    assert.equal(upFractionText(1), '100 % up');
    assert.equal(upFractionText(0.99996), '99.9 % up');
    assert.equal(upFractionText(0), '0 % up');
    assert.equal(upFractionText(null), 'not known yet');
  });

  it('says what each chart shows: totals, the peak per step, errors by class, the time off', () => {
    const s = series([1200, null, 34, 0], { errors4xx: [3, 0, 1, 0], errors5xx: [0, 0, 5, 0], proxyErrors: [0, 0, 2, 0], refused: [0, 0, 9, 0] });
    const words = chartSummaries(history(s));
    assert.equal(words.traffic, 'Requests in the last hour: 1,234, peak 1,200 per 10 s; 9 refused; Gatehouse was off for 10 s');
    assert.equal(words.errors, 'Errors in the last hour: 4 4xx, 5 5xx, 2 proxy errors; 5xx peak 5 per 10 s');
    assert.match(words.latency, /^Latency in the last hour: typical p50 10 ms, worst p99 90 ms$/);
    assert.equal(words.availability, 'Up/down in the last hour: 100 % up');
    assert.equal(chartSummaries(history(series([0, 0]))).errors, 'No errors in the last hour');
    assert.equal(chartSummaries(history(series([null, null]))).latency, 'No latency measured in the last hour');
  });

  it('folds a long range into a short table for screen readers, keeping gaps as "nothing"', () => {
    const rows = tableRows([[0, 10, 20, 30, 40, 50], [1, 2, null, null, 5, 6]], 3);
    assert.deepEqual(rows, [{ time: 0, values: [3] }, { time: 20, values: [null] }, { time: 40, values: [11] }]);
    assert.deepEqual(tableRows([[0, 10], [4, 9]], 1, 'max'), [{ time: 0, values: [9] }]);
  });

  it('breaks the sparkline at a gap and draws errors as ticks where there were any', () => {
    assert.deepEqual(sparkPaths([0, 10, null, 10], 30, 11), ['M0.0 10.0L10.0 1.0', 'M30.0 1.0']);
    assert.equal(sparkTicks([0, 2, null, 0], 30, 11, 10), 'M10.0 11V8.0');
    assert.equal(sparkTicks([0, 0], 30, 11, 10), '');
    assert.equal(sparkSummary([1200, null, 34], [3, 9, 1], 0.992), 'Last hour: 1,234 requests, 4 errors, 99.2 % up');
    assert.equal(sparkSummary([1], [0], null), 'Last hour: 1 request, 0 errors');
  });
});

describe('the fake history', () => {
  it('has a day of gaps, a down spell and two upstreams, the same for the same now', async () => {
    const api = createApiClient(fakeWithRoutes());
    const h = await api.getHistory({ routeId: 'ha', range: '1h' });
    assert.equal(h.stepSeconds, 10);
    assert.equal(h.series.times.length, 360);
    assert.ok(h.series.requests.some((v) => v === null), 'Gatehouse was off for a while');
    assert.ok(h.availability.spans.some((s) => s.state === 'down'), 'a down spell');
    assert.ok(h.availability.upFraction! < 1 && h.availability.upFraction! > 0.9);
    assert.equal(h.upstreams.length, 2);
    assert.deepEqual(await api.getHistory({ routeId: 'ha', range: '1h' }), h, 'deterministic');
    const month = await api.getHistory({ routeId: 'jf', range: '30d' });
    assert.equal(month.stepSeconds, 300);
    assert.equal(month.series.times.length, 8640);
    assert.ok(hasTraffic(month.series));
    assert.equal(hasTraffic((await api.getHistory({ routeId: 'off', range: '24h' })).series), false, 'a disabled route has none');
    const summary = await api.getHistorySummary({ range: '1h' });
    assert.deepEqual(summary.routes.map((r) => r.routeId), ['jf', 'ha', 'off']);
    assert.equal(summary.routes[1]!.requests.length, 360);
    await assert.rejects(api.getHistory({ routeId: 'nope', range: '1h' }), /no route "nope"/);
  });
});

/** A page whose visibility the test sets, and timers it fires by hand. */
function manualPage() {
  const listeners = new Set<() => void>();
  const page = {
    visibilityState: 'visible' as DocumentVisibilityState,
    addEventListener: (_: 'visibilitychange', l: () => void) => void listeners.add(l),
    removeEventListener: (_: 'visibilitychange', l: () => void) => void listeners.delete(l),
    set(state: DocumentVisibilityState) {
      page.visibilityState = state;
      for (const l of listeners) l();
    },
  };
  const intervals = new Map<number, { run: () => void; ms: number }>();
  let next = 1;
  const timers = {
    setInterval: (run: () => void, ms: number) => {
      intervals.set(next, { run, ms });
      return next++;
    },
    clearInterval: (handle: unknown) => void intervals.delete(handle as number),
  };
  return { page, timers, intervals, listeners };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('history feeds', () => {
  it('polls every 10 s for 1 h and every 5 min for 30 d, only while visible, and stops for good', async () => {
    const fake = fakeWithRoutes();
    const { page, timers, intervals, listeners } = manualPage();
    const feed = new RouteHistoryFeed(createApiClient(fake), 'jf', page, timers);
    const stop = feed.start();
    await settle();
    assert.equal(feed.history?.range, '1h');
    assert.deepEqual([...intervals.values()].map((i) => i.ms), [10_000]);

    feed.choose('30d');
    assert.equal(feed.history as RouteHistory | null, null, 'the old range is not shown under the new label');
    await settle();
    assert.equal(feed.history?.range, '30d');
    assert.deepEqual([...intervals.values()].map((i) => i.ms), [300_000]);

    page.set('hidden');
    assert.equal(intervals.size, 0, 'no polling while the window is hidden');
    const calls = fake.callsOf('getHistory').length;
    page.set('visible');
    await settle();
    assert.equal(fake.callsOf('getHistory').length, calls + 1, 'read again at once when shown');
    stop();
    assert.equal(intervals.size, 0);
    assert.equal(listeners.size, 0);
  });

  it('drops a late answer for a range no longer chosen, and keeps the last history under an error', async () => {
    const fake = fakeWithRoutes();
    const { page, timers } = manualPage();
    const feed = new RouteHistoryFeed(createApiClient(fake), 'ha', page, timers);
    const first = feed.reload();
    feed.choose('24h');
    await first;
    assert.equal(feed.history as RouteHistory | null, null, 'the 1 h answer arrived after 24 h was chosen: dropped');
    await feed.reload();
    assert.equal(feed.history?.range, '24h');

    const shown = feed.history;
    fake.failNext('getHistory', new ApiError('internal', 'Gatehouse is not answering.'));
    await feed.reload();
    assert.equal(feed.error?.message, 'Gatehouse is not answering.');
    assert.equal(feed.history, shown);
    await feed.reload();
    assert.equal(feed.error, null);
  });

  it('reads every route’s last hour in one call every 30 s for the sparklines', async () => {
    const fake = fakeWithRoutes();
    const { page, timers, intervals } = manualPage();
    const feed = new HistorySummaryFeed(createApiClient(fake), page, timers);
    const stop = feed.start();
    await settle();
    assert.equal(fake.callsOf('getHistorySummary').length, 1);
    assert.deepEqual(fake.callsOf('getHistorySummary')[0], { range: '1h' });
    assert.deepEqual([...intervals.values()].map((i) => i.ms), [30_000]);
    assert.equal(feed.byRoute.get('ha')?.requests.length, 360);
    fake.failNext('getHistorySummary', new ApiError('internal', 'down'));
    [...intervals.values()][0]!.run();
    await settle();
    assert.equal(feed.fresh, false);
    assert.equal(feed.byRoute.get('ha')?.requests.length, 360, 'the last good sparklines stay');
    stop();
    assert.ok(VisiblePoller);
  });
});
