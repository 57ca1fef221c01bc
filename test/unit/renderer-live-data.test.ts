// The live parts of the pages: the access log (loaded, appended from batches, filtered, bounded,
// paused) and the dashboard's stats poller (polls only while the page is visible).
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApiClient } from '../../shared/api.js';
import type { StatsSnapshot } from '../../shared/status.js';
import { FakeGatehouse, sampleLogEntry } from '../../src-renderer/dev/fake-gatehouse.js';

const { AccessLog, KEPT_ROWS, matchesStatus } = await import('../../src-renderer/pages/logs/access-log.svelte.js');
const { StatsPoller, STATS_INTERVAL_MS } = await import('../../src-renderer/pages/dashboard/stats-poller.svelte.js');

const at = (second: number) => new Date(Date.UTC(2026, 10, 21, 10, 0, second)).toISOString();

describe('AccessLog', () => {
  it('shows the recent entries newest first, then each live batch on top', async () => {
    const fake = new FakeGatehouse({ log: [sampleLogEntry({ time: at(1), path: '/a' }), sampleLogEntry({ time: at(2), path: '/b' })] });
    const log = new AccessLog(createApiClient(fake));
    log.connect();
    await log.reload();
    assert.deepEqual(log.rows.map((row) => row.path), ['/b', '/a']);
    assert.deepEqual(fake.callsOf('recentLog').at(-1), { limit: 500 });

    fake.emit('log', [sampleLogEntry({ time: at(3), path: '/c' }), sampleLogEntry({ time: at(4), path: '/d' })]);
    assert.deepEqual(log.rows.map((row) => row.path), ['/d', '/c', '/b', '/a']);
    assert.equal(new Set(log.rows.map((row) => row.key)).size, 4, 'each row has its own key');
  });

  it('keeps a batch that arrives during the first read, without the copy the read already has', async () => {
    const both = sampleLogEntry({ time: at(5), path: '/both' });
    const fake = new FakeGatehouse({ log: [sampleLogEntry({ time: at(1), path: '/old' }), both] });
    const log = new AccessLog(createApiClient(fake));
    const stop = log.connect(); // the read is on its way...
    fake.emit('log', [both, sampleLogEntry({ time: at(6), path: '/new' })]); // ...when a batch arrives
    await log.reload();
    assert.deepEqual(log.rows.map((row) => row.path), ['/new', '/both', '/old']);
    stop();
    assert.equal(fake.listenerCount, 0);
  });

  it(`keeps at most ${KEPT_ROWS} rows, dropping the oldest`, async () => {
    const log = new AccessLog(createApiClient(new FakeGatehouse()));
    const fake = new FakeGatehouse();
    const live = new AccessLog(createApiClient(fake));
    live.connect();
    await live.reload();
    for (let batch = 0; batch < 12; batch += 1) {
      fake.emit('log', Array.from({ length: 100 }, (_, i) => sampleLogEntry({ path: `/${batch * 100 + i}` })));
    }
    assert.equal(live.rows.length, KEPT_ROWS);
    assert.equal(live.rows[0]?.path, '/1199', 'newest first');
    assert.equal(live.rows.at(-1)?.path, `/${1200 - KEPT_ROWS}`, 'the oldest were dropped');
    assert.equal(log.rows.length, 0);
  });

  it('filters by route and by status class, and "Errors only" means failures', async () => {
    const entries = [
      sampleLogEntry({ routeId: 'a', status: 200, path: '/ok' }),
      sampleLogEntry({ routeId: 'a', status: 302, path: '/moved' }),
      sampleLogEntry({ routeId: 'b', status: 404, path: '/missing' }),
      sampleLogEntry({ routeId: 'b', status: 502, path: '/refused', error: 'upstream_refused', detail: 'Proxmox at 10.33.0.9:8006 refused the connection.' }),
      sampleLogEntry({ routeId: null, status: 503, path: '/upstream-5xx' }),
    ];
    const log = new AccessLog(createApiClient(new FakeGatehouse({ log: entries })));
    log.connect();
    await log.reload();
    const paths = () => log.visible.map((row) => row.path).reverse();

    log.routeFilter = 'b';
    assert.deepEqual(paths(), ['/missing', '/refused']);
    log.statusFilter = '5xx';
    assert.deepEqual(paths(), ['/refused']);
    log.routeFilter = '';
    assert.deepEqual(paths(), ['/refused', '/upstream-5xx']);
    log.statusFilter = 'errors';
    assert.deepEqual(paths(), ['/refused', '/upstream-5xx']);
    log.statusFilter = '3xx';
    assert.deepEqual(paths(), ['/moved']);
    log.statusFilter = 'all';
    assert.equal(log.visible, log.rows, 'no filter, no copy');
    assert.equal(matchesStatus(sampleLogEntry({ status: 200, error: 'client_aborted' }), 'errors'), true);
  });

  it('holds batches while paused and shows them on resume', async () => {
    const fake = new FakeGatehouse();
    const log = new AccessLog(createApiClient(fake));
    log.connect();
    await log.reload();
    log.pause();
    fake.emit('log', [sampleLogEntry({ path: '/1' }), sampleLogEntry({ path: '/2' })]);
    assert.equal(log.rows.length, 0, 'the table stands still');
    assert.equal(log.waiting, 2);
    log.resume();
    assert.deepEqual(log.rows.map((row) => row.path), ['/2', '/1']);
    assert.equal(log.waiting, 0);
  });
});

/** A page whose visibility the test switches, and intervals the test fires by hand. */
function fakePage() {
  const listeners = new Set<() => void>();
  const intervals = new Map<number, { run: () => void; ms: number }>();
  let next = 1;
  const page = {
    visibilityState: 'visible' as DocumentVisibilityState,
    addEventListener: (_type: 'visibilitychange', listener: () => void) => void listeners.add(listener),
    removeEventListener: (_type: 'visibilitychange', listener: () => void) => void listeners.delete(listener),
  };
  const timers = {
    setInterval: (run: () => void, ms: number) => {
      intervals.set(next, { run, ms });
      return next++;
    },
    clearInterval: (handle: unknown) => void intervals.delete(handle as number),
  };
  const show = (state: DocumentVisibilityState) => {
    page.visibilityState = state;
    for (const listener of [...listeners]) listener();
  };
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  /** Lets answers on their way arrive, fires each interval once, and lets its answer arrive. */
  const tick = async () => {
    await settle();
    for (const interval of [...intervals.values()]) interval.run();
    await settle();
  };
  return { page, timers, intervals, listeners, show, tick };
}

describe('StatsPoller', () => {
  const snapshot = (requestsPerMinute: number): StatsSnapshot => ({
    time: at(0),
    unmatched: 2,
    routes: [{ routeId: 'a', requests: 10, errors: 1, bytesIn: 0, bytesOut: 0, p50Ms: 3, p99Ms: 12.4, requestsPerMinute, openWebSockets: 0, refused: 0, refusedPerMinute: 0 }],
  });

  it('polls at once and every 2 s while visible, and stops while hidden', async () => {
    const env = fakePage();
    let polls = 0;
    const poller = new StatsPoller(async () => snapshot(++polls), env.page, env.timers);
    const stop = poller.start();
    await env.tick();
    assert.equal([...env.intervals.values()][0]?.ms, STATS_INTERVAL_MS);
    assert.ok(STATS_INTERVAL_MS <= 2000);
    assert.equal(polls, 2, 'one at start, one per tick');
    assert.equal(poller.byRoute.get('a')?.requestsPerMinute, 2);

    env.show('hidden');
    assert.equal(env.intervals.size, 0, 'no polling from a hidden window');
    await env.tick();
    assert.equal(polls, 2);

    env.show('visible');
    await env.tick();
    assert.equal(polls, 4, 'polls again at once when shown, then on the tick');
    assert.equal(env.intervals.size, 1, 'one interval, not two');

    stop();
    assert.equal(env.intervals.size, 0);
    assert.equal(env.listeners.size, 0);
  });

  it('does not start a poll while one is still on its way, and keeps the last numbers on failure', async () => {
    const env = fakePage();
    let calls = 0;
    let release: (value: StatsSnapshot) => void = () => {};
    const poller = new StatsPoller(
      () => {
        calls += 1;
        if (calls === 1) return Promise.resolve(snapshot(5));
        if (calls === 2) return new Promise<StatsSnapshot>((resolve) => (release = resolve));
        return Promise.reject(new Error('gone'));
      },
      env.page,
      env.timers,
    );
    poller.start();
    await env.tick(); // second poll starts and hangs
    await env.tick(); // skipped: the second is still on its way
    assert.equal(calls, 2);
    release(snapshot(7));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(poller.byRoute.get('a')?.requestsPerMinute, 7);
    await env.tick(); // third fails
    assert.equal(poller.fresh, false);
    assert.equal(poller.byRoute.get('a')?.requestsPerMinute, 7, 'the last good numbers stay');
  });
});
