// Adversarial review of issue 17 (insight): defects found in pure code, each proven by a test that
// fails until it is fixed.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseInput } from '../../shared/api.js';
import { searchAccessLog, type LogSearchQuery } from '../../src-main/core/insight/log-search.js';
import { HistoryStore, type HistoryRoute } from '../../src-main/core/insight/history-store.js';
import { outcomeOf, ProxyStats } from '../../src-main/core/proxy/stats.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('review of issue 17: history', () => {
  // Upstream files are named `up-${fileNameOf(url).slice(0, 200)}.ghh`: two upstreams of one route
  // whose URLs differ only after ~190 characters (long but valid DNS names, such as generated
  // Kubernetes/Tailscale names) share one file, so each overwrites the other's buckets.
  test('two upstreams whose URLs differ only after 200 characters keep separate histories', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-review-history-'));
    dirs.push(dir);
    const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}`;
    const one = `http://${long}.one.test:8080`;
    const two = `http://${long}.two.test:8080`;
    const clock = { now: Date.UTC(2026, 11, 1, 0, 0, 0) };
    const stats = new ProxyStats();
    const store = HistoryStore.open({ dir, now: () => clock.now, drain: (visit) => stats.drain(visit), warn: () => {} });
    const route: HistoryRoute = { id: 'r1', enabled: true, upstreams: [{ url: one }, { url: two }] as HistoryRoute['upstreams'] };
    store.setRoutes([route]);
    const counters = stats.counters('r1');
    for (let i = 0; i < 3; i++) counters.record(5, false, 10, 100, clock.now + 1000, outcomeOf(200, false), `${long}.one.test:8080`);
    counters.record(5, false, 10, 100, clock.now + 1000, outcomeOf(200, false), `${long}.two.test:8080`);
    clock.now = (Math.floor(clock.now / 10_000) + 1) * 10_000 + 25;
    store.tick();
    const hour = store.history('r1', '1h');
    assert.equal(hour.series.requests.at(-1), 4, 'the route saw 4 requests');
    const counts = hour.upstreams.map((upstream) => upstream.series.requests.at(-1));
    const files = readdirSync(join(dir, 'r1')).filter((name) => name.startsWith('up-'));
    assert.deepEqual(counts, [3, 1], `each upstream's own requests (files: ${files.length})`);
    store.close();
  });

  // A route's folder is fileNameOf(route.id), which writes every byte outside [A-Za-z0-9.-] as _XX:
  // a valid route id (RouteIdSchema: any 1–100 characters, e.g. from importSettings) of 30 CJK
  // characters, or 90 underscores, becomes a name longer than the file system's 255 bytes, and the
  // route silently has no history (the API answers "could not be opened").
  test('a route with a valid but long non-ASCII id (30 CJK characters) still gets its history', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-review-history-'));
    dirs.push(dir);
    const clock = { now: Date.UTC(2026, 11, 1, 0, 0, 0) };
    const stats = new ProxyStats();
    const warnings: string[] = [];
    const store = HistoryStore.open({ dir, now: () => clock.now, drain: (visit) => stats.drain(visit), warn: (message) => warnings.push(message) });
    const id = '家庭媒体服务器路由'.repeat(3) + '家庭媒';
    assert.equal([...id].length, 30);
    store.setRoutes([{ id, enabled: true, upstreams: [{ url: 'http://10.0.0.1:8080' }] as HistoryRoute['upstreams'] }]);
    stats.counters(id).record(5, false, 10, 100, clock.now + 1000, outcomeOf(200, false), '10.0.0.1:8080');
    clock.now = (Math.floor(clock.now / 10_000) + 1) * 10_000 + 25;
    store.tick();
    let requests: number | null | undefined;
    assert.doesNotThrow(() => (requests = store.history(id, '1h').series.requests.at(-1)), `warnings: ${warnings.join(' | ')}`);
    assert.equal(requests, 1);
    store.close();
  });

  // writeSeries skips a period older than the bucket under way ("the clock went back: leave the
  // newer bucket be") but still empties what was taken: after the clock is set back (an RTC ahead
  // of NTP, a VM restored from a snapshot), every request until the clock catches up again is
  // dropped from the history, while the dashboard's live numbers count them.
  test('requests after the clock is set back 30 minutes are not dropped from the history', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-review-history-'));
    dirs.push(dir);
    const start = Date.UTC(2026, 11, 1, 0, 0, 0);
    const clock = { now: start };
    const stats = new ProxyStats();
    const store = HistoryStore.open({ dir, now: () => clock.now, drain: (visit) => stats.drain(visit), warn: () => {} });
    store.setRoutes([{ id: 'r1', enabled: true, upstreams: [{ url: 'http://10.0.0.1:8080' }] as HistoryRoute['upstreams'] }]);
    const counters = stats.counters('r1');
    const sample = () => {
      clock.now = (Math.floor(clock.now / 10_000) + 1) * 10_000 + 25;
      store.tick();
    };
    // An hour ahead (a wrong clock), two requests.
    clock.now = start + 3600_000;
    for (let i = 0; i < 2; i++) counters.record(5, false, 10, 100, clock.now, outcomeOf(200, false), '10.0.0.1:8080');
    sample();
    // NTP sets the clock back half an hour; five requests come in.
    clock.now = start + 1800_000;
    for (let i = 0; i < 5; i++) counters.record(5, false, 10, 100, clock.now, outcomeOf(200, false), '10.0.0.1:8080');
    sample();
    sample();
    const hour = store.history('r1', '1h');
    const total = hour.series.requests.reduce<number>((sum, value) => sum + (value ?? 0), 0);
    assert.equal(total, 5, 'the five requests since the clock was set back are in the last hour of history');
    store.close();
  });
});

describe('review of issue 17: log search', () => {
  // The client filter is a prefix (startsWith), also for a complete address: searching the Logs
  // page for the visitor 192.168.1.1 (the router) also lists 192.168.1.10–19 and .100–199, and
  // fd00::1 lists fd00::1a2b. "The start of one" (192.168.1.) should stay a prefix; a whole address
  // should find that address.
  test('a complete client address finds that client only, not every address it is the start of', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-review-logs-'));
    dirs.push(dir);
    const file = join(dir, 'access.log');
    const base = Date.UTC(2026, 11, 1, 0, 0, 0);
    const clients = ['192.168.1.1', '192.168.1.10', '192.168.1.123', 'fd00::1', 'fd00::1a2b'];
    const text = clients
      .map((client, i) =>
        JSON.stringify({ time: new Date(base + i * 1000).toISOString(), client, host: 'nas.home.arpa', method: 'GET', path: `/n/${i}`, status: 200, bytes: 1, durationMs: 1, routeId: 'nas', upstream: '10.0.0.4:80', error: null, detail: null, rule: null, user: null }) + '\n',
      )
      .join('');
    writeFileSync(file, text);
    const source = { file, flush: async () => {} };
    const search = async (client: string) => (await searchAccessLog(parseInput('searchLog', { client }) as LogSearchQuery, source)).entries.map((entry) => entry.client);
    assert.deepEqual(await search('192.168.1.'), ['192.168.1.123', '192.168.1.10', '192.168.1.1'], 'a prefix still finds the network');
    assert.deepEqual(await search('192.168.1.1'), ['192.168.1.1']);
    assert.deepEqual(await search('fd00::1'), ['fd00::1']);
  });
});

