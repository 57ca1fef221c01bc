// The traffic history on disk (insight/history-*.ts) with a fake clock: buckets written by the
// sampler from the proxy's own counters (proxy/stats.ts) and read back per range, the 16-bit counts
// and the percentile merge, ring wrap, a restart (gaps and "off" while not running), damaged files,
// removed routes and upstreams, and the space a month takes.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ApiError } from '../../shared/api.js';
import type { RouteHealth } from '../../shared/status.js';
import { benchRoutes, fillHistoryMonth } from '../../src-main/core/insight/history-bench.js';
import { binsOf, decodeCount, encodeCount, NO_BIN, spreadInto } from '../../src-main/core/insight/history-codec.js';
import { HEADER_BYTES, RESOLUTIONS, SeriesFile, seriesFileBytes } from '../../src-main/core/insight/history-file.js';
import { fileNameOf, HistoryStore, type HistoryRoute } from '../../src-main/core/insight/history-store.js';
import { bucketEdgeMs, bucketOf, BUCKET_FIELDS, F_REQUESTS, LATENCY_BINS, outcomeOf, ProxyStats } from '../../src-main/core/proxy/stats.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-history-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const START = Date.UTC(2026, 11, 1, 0, 0, 0);
const A = 'http://10.0.0.1:8080';
const B = 'http://10.0.0.2:8080';
const route = (id = 'r1', upstreams = [A, B], enabled = true): HistoryRoute => ({ id, enabled, upstreams: upstreams.map((url) => ({ url })) as HistoryRoute['upstreams'] });

/** A store fed by a real ProxyStats, on a clock the test moves. */
function harness(dir = tempDir(), start = START) {
  const clock = { now: start };
  const stats = new ProxyStats();
  const warnings: string[] = [];
  const open = () => HistoryStore.open({ dir, now: () => clock.now, drain: (visit) => stats.drain(visit), warn: (message) => warnings.push(message) });
  return { dir, clock, stats, warnings, open };
}

/** Moves the clock to just after the next 10-second boundary and samples. */
function nextBucket(h: ReturnType<typeof harness>, store: HistoryStore): void {
  h.clock.now = (Math.floor(h.clock.now / 10_000) + 1) * 10_000 + 25;
  store.tick();
}

describe('history: 16-bit counts and the percentile merge', () => {
  test('counts are exact below 32768 and within 0.05 % above, up to ~1.4e14', () => {
    for (const value of [0, 1, 2, 1000, 32_767]) assert.equal(decodeCount(encodeCount(value)), value);
    let previous = -1;
    for (let value = 32_768; value < 1e14; value = Math.ceil(value * 1.37)) {
      const code = encodeCount(value);
      assert.ok(code > previous, 'codes rise with the value');
      previous = code;
      const back = decodeCount(code);
      assert.ok(Math.abs(back - value) / value <= 0.0005, `${value} came back as ${back}`);
    }
    assert.ok(encodeCount(1e20) < 0xffff, 'the largest code is not the gap marker');
  });

  test('merging buckets with the same percentiles gives them back; mixed ones land between', () => {
    const latencies = Array.from({ length: 1000 }, (_, i) => 1 + (i % 100) * (i % 7 === 0 ? 9 : 1));
    const exact = new Float64Array(LATENCY_BINS);
    for (const ms of latencies) exact[bucketOf(ms)]!++;
    const bins = binsOf(exact, latencies.length);
    const merged = new Float64Array(LATENCY_BINS);
    for (let i = 0; i < 12; i++) spreadInto(merged, 1000, bins);
    assert.deepEqual(binsOf(merged, 12_000), bins);

    const fast = [bucketOf(2), bucketOf(4), bucketOf(8)];
    const slow = [bucketOf(200), bucketOf(400), bucketOf(800)];
    const mixed = new Float64Array(LATENCY_BINS);
    spreadInto(mixed, 900, fast);
    spreadInto(mixed, 100, slow);
    const [p50, p95, p99] = binsOf(mixed, 1000);
    // The merged median is the fast requests' 55th percentile: between their p50 and p95.
    assert.ok(p50! >= fast[0]! && p50! <= fast[1]!, `90 % fast requests: the median is among the fast ones (${p50})`);
    assert.ok(p95! > fast[1]! && p95! <= slow[1]!, 'p95 moves towards the slow bucket');
    assert.ok(p99! >= slow[0]! && p99! <= slow[2]!, 'p99 is the slow bucket’s');
    assert.deepEqual(binsOf(new Float64Array(LATENCY_BINS), 0), [NO_BIN, NO_BIN, NO_BIN]);
  });
});

describe('history: the store', () => {
  test('buckets from the proxy counters, per route and upstream, read back over 1 h, 24 h and 30 d', () => {
    const h = harness();
    const store = h.open();
    store.setRoutes([route()]);
    const counters = h.stats.counters('r1');
    const t = START + 1000;
    counters.record(5, false, 100, 1000, t, outcomeOf(200, false), '10.0.0.1:8080');
    counters.record(10, false, 100, 2000, t, outcomeOf(404, false), '10.0.0.1:8080');
    counters.record(20, true, 100, 3000, t, outcomeOf(500, false), '10.0.0.1:8080');
    counters.record(7, true, 50, 400, t, outcomeOf(502, true), '10.0.0.2:8080');
    counters.recordRefused(t);
    counters.recordUpgraded(false, 10, 5000, t, '10.0.0.2:8080');
    nextBucket(h, store);
    counters.record(30, false, 0, 10, h.clock.now, -1, '10.0.0.1:8080');
    nextBucket(h, store);

    const hour = store.history('r1', '1h');
    assert.equal(hour.stepSeconds, 10);
    assert.equal(hour.series.times.length, 360);
    assert.equal(hour.to, START / 1000 + 20);
    assert.equal(hour.series.times.at(-2), START / 1000);
    const s = hour.series;
    assert.deepEqual([s.requests.at(-2), s.errors4xx.at(-2), s.errors5xx.at(-2), s.proxyErrors.at(-2), s.refused.at(-2), s.upgraded.at(-2)], [4, 1, 1, 1, 1, 1]);
    assert.equal(s.bytesIn.at(-2), 360);
    assert.equal(s.bytesOut.at(-2), 11_400);
    assert.equal(s.p50Ms.at(-2), bucketEdgeMs(bucketOf(7)), 'the upgraded connection is no latency');
    assert.equal(s.p99Ms.at(-2), bucketEdgeMs(bucketOf(20)));
    assert.equal(s.requests.at(-1), 1);
    assert.equal(s.requests.at(-3), null, 'before the store existed: a gap');
    const [a, b] = hour.upstreams;
    assert.deepEqual([a?.url, b?.url], [A, B]);
    assert.deepEqual([a?.series.requests.at(-2), a?.series.errors4xx.at(-2), a?.series.errors5xx.at(-2), a?.series.proxyErrors.at(-2)], [3, 1, 1, 0]);
    assert.deepEqual([b?.series.requests.at(-2), b?.series.proxyErrors.at(-2), b?.series.upgraded.at(-2), b?.series.bytesOut.at(-2)], [1, 1, 1, 5400]);

    const day = store.history('r1', '24h');
    assert.equal(day.stepSeconds, 120);
    assert.equal(day.series.times.length, 720);
    assert.equal(day.series.requests.at(-1), 5, 'both 10 s buckets in one 2-minute point');
    assert.equal(day.series.p99Ms.at(-1), bucketEdgeMs(bucketOf(30)));
    const month = store.history('r1', '30d');
    assert.equal(month.stepSeconds, 3600);
    assert.equal(month.series.times.length, 720);
    assert.equal(month.series.requests.at(-1), 5);
    assert.equal(month.series.errors4xx.at(-1), 1);
    assert.equal(month.series.requests.at(-2), null);

    const summary = store.summary('1h');
    assert.equal(summary.routes[0]?.routeId, 'r1');
    assert.equal(summary.routes[0]?.requests.at(-1), 5);
    assert.equal(summary.routes[0]?.errors.at(-1), 2, 'errors in the summary: 5xx and proxy errors, not 4xx');
    assert.throws(() => store.history('nope', '1h'), (error: unknown) => error instanceof ApiError && error.code === 'not_found' && /No route has the id "nope"/.test(error.message));
    store.close();
  });

  test('a restart keeps the buckets; the time down is a gap and "off"', () => {
    const h = harness();
    let store = h.open();
    store.setRoutes([route()]);
    store.observeHealth([health('r1', 'up', ['up', 'down'])]);
    for (let i = 0; i < 3; i++) {
      h.stats.counters('r1').record(3, false, 1, 1, h.clock.now, -1, '10.0.0.1:8080');
      nextBucket(h, store);
    }
    h.clock.now += 5000;
    h.stats.counters('r1').record(3, false, 1, 1, h.clock.now, -1, '10.0.0.1:8080');
    store.close();
    const closedAt = Math.floor(h.clock.now / 1000);

    h.clock.now += 60_000;
    store = h.open();
    store.setRoutes([route()]);
    store.observeHealth([health('r1', 'up', ['up', 'up'])]);
    nextBucket(h, store);
    const s = store.history('r1', '1h').series;
    const index = (time: number) => s.times.indexOf(time);
    const first = START / 1000;
    assert.deepEqual([0, 10, 20, 30].map((dt) => s.requests[index(first + dt)]), [1, 1, 1, 1], 'the buckets before the restart, the last one partly filled at close');
    assert.equal(s.requests[index(first + 40)], null, 'down: a gap');
    assert.equal(s.requests[index(first + 80)], null);
    assert.equal(s.requests.at(-1), 0, 'running again, no requests: zero, not a gap');
    // The 5-minute bucket under way at the close goes on after the restart with what it held.
    h.stats.counters('r1').record(3, false, 1, 1, h.clock.now, -1, '10.0.0.1:8080');
    nextBucket(h, store);
    const month = store.history('r1', '30d');
    assert.equal(month.series.requests.at(-1), 5);
    assert.equal(month.upstreams[0]?.series.requests.at(-1), 5);
    assert.equal(month.series.p50Ms.at(-1), bucketEdgeMs(bucketOf(3)));
    const availability = store.history('r1', '1h').availability;
    const off = availability.spans.find((span) => span.state === 'off' && span.from === closedAt);
    assert.ok(off, `an off span from ${closedAt}: ${JSON.stringify(availability.spans)}`);
    assert.equal(availability.spans.at(-1)?.state, 'up');
    assert.equal(availability.spans.at(-1)?.to, null);
    assert.equal(availability.upFraction, 1);
    const upstreamB = store.history('r1', '1h').upstreams[1]?.availability;
    assert.ok(upstreamB && upstreamB.upFraction !== null && upstreamB.upFraction < 1 && upstreamB.upFraction > 0, 'B was down before the restart, up after');
    store.close();
  });

  test('a crash (no close) loses at most the unwritten bucket, and the time down reads off', () => {
    const h = harness();
    const crashed = h.open();
    crashed.setRoutes([route()]);
    crashed.observeHealth([health('r1', 'up', ['up', 'up'])]);
    h.stats.counters('r1').record(3, false, 1, 1, h.clock.now, -1, null);
    nextBucket(h, crashed);
    const lastWritten = Math.floor(h.clock.now / 10_000) * 10;
    h.stats.counters('r1').record(3, false, 1, 1, h.clock.now, -1, null); // never written: the crash
    h.clock.now += 120_000;
    const store = h.open();
    store.setRoutes([route()]);
    nextBucket(h, store);
    const history = store.history('r1', '1h');
    assert.equal(history.series.requests[history.series.times.indexOf(START / 1000)], 1);
    assert.equal(history.series.requests[history.series.times.indexOf(lastWritten)], null);
    assert.ok(history.availability.spans.some((span) => span.state === 'off' && span.from === lastWritten), JSON.stringify(history.availability.spans));
    store.close();
  });

  test('rings wrap: the newest 8640 buckets are kept, older ones read as gaps', () => {
    const dir = tempDir();
    const file = SeriesFile.open(join(dir, 's.ghh'), { kind: 'route', routeId: 'r', url: null }, 0, () => {});
    const slots = RESOLUTIONS[0].slots;
    const first = 1000;
    const last = first + slots + 500;
    const bucketFor = (period: number) => {
      const counts = new Float64Array(BUCKET_FIELDS);
      counts[F_REQUESTS] = period % 30_000;
      return { counts, bins: [1, 2, 3] as [number, number, number] };
    };
    file.write(Array.from({ length: last - first + 1 }, (_, i) => ({ r: 0 as const, period: first + i, bucket: bucketFor(first + i) })));
    assert.equal(statSync(join(dir, 's.ghh')).size, seriesFileBytes('route'), 'the file never grows');
    const read = file.read(0, last - slots - 10, last + 5);
    for (let period = last - slots - 10; period < last + 5; period++) {
      const i = period - (last - slots - 10);
      const kept = period > last - slots && period <= last;
      assert.equal(read.buckets.present[i], kept ? 1 : 0, `period ${period}`);
      if (kept) assert.equal(read.buckets.counts[i * BUCKET_FIELDS + F_REQUESTS], period % 30_000);
    }
    // Skipping ahead marks what lies between as gaps (the slots held older buckets).
    file.write([{ r: 0, period: last + 100, bucket: bucketFor(last + 100) }]);
    const after = file.read(0, last, last + 101);
    assert.equal(after.buckets.present[0], 1);
    assert.equal(after.buckets.present.subarray(1, 100).every((x) => x === 0), true);
    assert.equal(after.buckets.present[100], 1);
  });

  test('damaged files: a torn slot reads as a gap; a damaged header restarts that series only, with a message', () => {
    const h = harness();
    let store = h.open();
    store.setRoutes([route('r1'), route('r2', [A])]);
    for (let i = 0; i < 3; i++) {
      h.stats.counters('r1').record(3, false, 1, 1, h.clock.now, -1, '10.0.0.1:8080');
      h.stats.counters('r2').record(3, false, 1, 1, h.clock.now, -1, '10.0.0.1:8080');
      nextBucket(h, store);
    }
    store.close();
    const r1 = join(h.dir, 'r1', 'route.ghh');
    const bytes = readFileSync(r1);
    // The middle bucket (period START/10 + 1) torn: one byte of its slot changed.
    const slot = HEADER_BYTES + ((START / 10_000 + 1) % RESOLUTIONS[0].slots) * 20;
    bytes[slot + 3] = (bytes[slot + 3] as number) ^ 0x5a;
    writeFileSync(r1, bytes);
    store = h.open();
    store.setRoutes([route('r1'), route('r2', [A])]);
    let s = store.history('r1', '1h').series;
    assert.deepEqual(s.requests.slice(-3), [1, null, 1]);
    assert.deepEqual(h.warnings, []);
    store.close();

    bytes[40] = (bytes[40] as number) ^ 0xff; // the header
    writeFileSync(r1, bytes);
    writeFileSync(join(h.dir, 'r1', `up-${fileNameOf(A)}.ghh`), 'not a history file');
    store = h.open();
    store.setRoutes([route('r1'), route('r2', [A])]);
    assert.equal(h.warnings.length, 2, h.warnings.join('\n'));
    assert.match(h.warnings[0] ?? '', /the history file .*route\.ghh has a damaged header; this series starts again from now/);
    assert.match(h.warnings[1] ?? '', /is not a Gatehouse history file/);
    s = store.history('r1', '1h').series;
    assert.deepEqual(s.requests.slice(-3), [null, null, null], 'r1 starts again');
    assert.deepEqual(store.history('r2', '1h').series.requests.slice(-3), [1, 1, 1], 'r2 untouched');
    assert.equal(statSync(r1).size, seriesFileBytes('route'));
    store.close();
  });

  test('removed routes and upstreams lose their files; folders of routes removed while stopped go at start', () => {
    const h = harness();
    let store = h.open();
    store.setRoutes([route('r1'), route('r2')]);
    nextBucket(h, store);
    assert.deepEqual(readdirSync(h.dir).sort(), ['r1', 'r2']);
    store.setRoutes([route('r1', [A])]);
    assert.deepEqual(readdirSync(h.dir), ['r1']);
    assert.equal(existsSync(join(h.dir, 'r1', `up-${fileNameOf(B)}.ghh`)), false);
    assert.deepEqual(store.history('r1', '1h').upstreams.map((u) => u.url), [A]);
    assert.throws(() => store.history('r2', '1h'), (error: unknown) => error instanceof ApiError && error.code === 'not_found');
    store.close();
    store = h.open();
    store.setRoutes([]);
    assert.deepEqual(readdirSync(h.dir), []);
    store.close();
    assert.equal(fileNameOf('../x y'), '_2e._2fx_20y');
    // Long names are cut with a hash of the whole text: bounded, and different texts stay apart.
    const long = fileNameOf(`http://${'a'.repeat(250)}.one.test`);
    assert.equal(long.length, 200);
    assert.match(long, /^http_3a_2f_2fa+~[0-9a-f]{16}$/);
    assert.notEqual(long, fileNameOf(`http://${'a'.repeat(250)}.two.test`));
    assert.ok(fileNameOf('家'.repeat(100)).length <= 200);
  });

  test('a month for 50 routes with 2 upstreams each fits in 50 MB', () => {
    const perRoute = seriesFileBytes('route') + 2 * seriesFileBytes('upstream');
    assert.equal(seriesFileBytes('route'), 512 + 17_280 * 20);
    assert.equal(seriesFileBytes('upstream'), 512 + 17_280 * 18);
    // Filled for real (2 routes: the same files as 50, 25 times fewer), every slot written.
    const dir = tempDir();
    const filled = fillHistoryMonth(dir, 2, 2, START);
    const logs = filled.bytes - 2 * perRoute;
    assert.ok(logs >= 0 && logs < 4096, `the up/down logs are small (${logs} bytes)`);
    assert.ok(filled.bytes * 25 <= 50_000_000, `${filled.bytes} bytes for 2 routes`);
    const store = HistoryStore.open({ dir, now: () => START + 60_000 });
    store.setRoutes(benchRoutes(2, 2));
    const month = store.history('bench-route-1', '30d');
    const present = month.series.requests.filter((value) => value !== null).length;
    assert.ok(present >= 719, `a full month read back (${present} points)`);
    assert.ok(month.availability.spans.length >= 30, 'a transition a day');
    store.close();
  });
});

function health(routeId: string, state: RouteHealth['state'], upstreams: ('up' | 'down')[]): RouteHealth {
  const urls = [A, B];
  return {
    routeId,
    upstream: '10.0.0.1:8080',
    state,
    since: null,
    checkedAt: null,
    problem: null,
    failedOver: false,
    upstreams: upstreams.map((upState, i) => ({ url: urls[i] as string, address: '', state: upState, since: null, lastCheck: null, coolingUntil: null, passiveFailures: 0, problem: null, drained: false, backup: false, weight: 1, available: upState === 'up', served: 0, inFlight: 0 })),
  };
}
