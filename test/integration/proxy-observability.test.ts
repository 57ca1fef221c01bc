// What Gatehouse tells the user about traffic: one access-log entry per request (reported to the
// engine's listener and written by AccessLog as JSON lines that rotate by size), the newest entries
// in memory for the live log, and per-route counters with latency percentiles.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Agent } from 'undici';
import type { AccessLogEntry, RouteStats } from '../../shared/status.js';
import { AccessLog } from '../../src-main/core/proxy/access-log.js';
import {
  closeWs,
  fetchThrough,
  openWs,
  route,
  sleep,
  startProxy,
  startServer,
  startWsUpstream,
  waitUntil,
  type RunningProxy,
  type TestServer,
  type WsUpstream,
} from '../helpers/proxy-harness.js';

/** An entry as the engine would log it, with `n` in the path so order can be checked. */
function entry(n: number): AccessLogEntry {
  return {
    time: new Date(1_700_000_000_000 + n).toISOString(),
    client: '192.0.2.7',
    host: 'app.home.arpa',
    method: 'GET',
    path: `/item/${n}?padding=${'p'.repeat(120)}`,
    status: 200,
    bytes: n,
    durationMs: 1.25,
    routeId: 'app',
    upstream: '10.0.0.4:8080',
    error: null,
    detail: null,
    rule: null,
    user: null,
  };
}

const sequence = (e: AccessLogEntry) => Number(/^\/item\/(\d+)/.exec(e.path)?.[1]);

async function jsonLines(file: string): Promise<AccessLogEntry[]> {
  const text = await readFile(file, 'utf8');
  assert.ok(text.endsWith('\n'), `${file} does not end with a newline`);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line, i) => {
      try {
        return JSON.parse(line) as AccessLogEntry;
      } catch {
        return assert.fail(`line ${i + 1} of ${file} is not JSON: ${line.slice(0, 80)}`);
      }
    });
}

describe('access log entries from the engine', () => {
  let app: TestServer;
  let proxy: RunningProxy;
  let dir: string;
  let log: AccessLog;
  const client = new Agent();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-log-'));
    log = new AccessLog({ dir, settings: { accessLog: true, maxFileBytes: 1 << 20, keepFiles: 2, combinedLog: false } });
    app = await startServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/created') res.writeHead(201, { 'content-length': 7 }).end('created');
        else res.writeHead(200, { 'content-length': 10 }).end('0123456789');
      });
    });
    proxy = await startProxy([route('app', app.url, ['app.home.arpa'])]);
  });

  after(async () => {
    await proxy?.stop();
    await client.close();
    await app?.close();
    await log?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('each request is logged once, with every field, and AccessLog writes it as a JSON line', async () => {
    const started = Date.now();
    const first = proxy.logged.length;
    const ok = await fetchThrough(client, proxy.port, 'App.Home.Arpa:8080', '/page?x=1');
    assert.equal(ok.status, 200);
    const created = await fetchThrough(client, proxy.port, 'app.home.arpa', '/created', { method: 'POST', body: 'payload' });
    assert.equal(created.status, 201);
    const missing = await fetchThrough(client, proxy.port, 'nowhere.home.arpa', '/');
    assert.equal(missing.status, 404);
    await waitUntil(() => proxy.logged.length >= first + 3, 3000, 'three access-log entries');
    await sleep(50);
    const entries = proxy.logged.slice(first);
    assert.equal(entries.length, 3, `expected one entry per request, got ${JSON.stringify(entries)}`);
    for (const e of entries) log.write(e);

    const [page, post, unknown] = entries as [AccessLogEntry, AccessLogEntry, AccessLogEntry];
    const time = Date.parse(page.time);
    assert.ok(time >= started - 1000 && time <= Date.now(), `time ${page.time} is not now`);
    assert.equal(page.client, '127.0.0.1');
    assert.equal(page.host, 'app.home.arpa');
    assert.equal(page.method, 'GET');
    assert.equal(page.path, '/page?x=1');
    assert.equal(page.status, 200);
    assert.equal(page.bytes, 10);
    assert.equal(typeof page.durationMs, 'number');
    assert.ok(page.durationMs >= 0 && page.durationMs < 5000, `durationMs ${page.durationMs}`);
    assert.equal(page.routeId, 'app');
    assert.equal(page.upstream, `127.0.0.1:${app.port}`);
    assert.equal(page.error, null);

    assert.equal(post.method, 'POST');
    assert.equal(post.status, 201);
    assert.equal(post.bytes, 7);

    assert.equal(unknown.status, 404);
    assert.equal(unknown.routeId, null);
    assert.equal(unknown.upstream, null);
    assert.equal(unknown.error, 'no_route');

    await log.close();
    const written = await jsonLines(join(dir, 'access.log'));
    assert.deepEqual(written, entries);
  });
});

describe('AccessLog files and memory', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-rotate-'));
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('rotates by size, keeping keepFiles old files, every line valid JSON and in order', async () => {
    const maxFileBytes = 65536;
    const log = new AccessLog({ dir, settings: { accessLog: true, maxFileBytes, keepFiles: 2, combinedLog: false } });
    let n = 0;
    try {
      // ~300 bytes each, in batches a few milliseconds apart as requests arrive: about 600 KB. While
      // a rotation is under way, entries wait and go out together, so the pace keeps rotations apart.
      for (let batch = 0; batch < 100; batch++) {
        for (let i = 0; i < 20; i++) log.write(entry(n++));
        await sleep(5);
      }
    } finally {
      await log.close();
    }
    // The last batch may have crossed the limit and rotated access.log away as the log closed (under
    // load the batches grow); a log opened again on the same directory starts access.log anew after
    // whatever rotation happened, which is what a restart does.
    const reopened = new AccessLog({ dir, settings: { accessLog: true, maxFileBytes, keepFiles: 2, combinedLog: false } });
    reopened.write(entry(n++));
    await reopened.close();
    const file = join(dir, 'access.log');
    assert.ok(existsSync(file), 'access.log is missing');
    assert.ok(existsSync(`${file}.1`), 'access.log.1 is missing');
    assert.ok(existsSync(`${file}.2`), 'access.log.2 is missing');
    assert.ok(!existsSync(`${file}.3`), 'access.log.3 exists, but keepFiles is 2');
    // Oldest to newest: the entries that survived run on without a gap; older files were dropped.
    let previous: number | null = null;
    for (const name of [`${file}.2`, `${file}.1`, file]) {
      const { size } = await stat(name);
      // A file rotates once it reaches the limit: it overshoots by what was written meanwhile, not more.
      assert.ok(size < 2 * maxFileBytes, `${name} is ${size} bytes`);
      const lines = await jsonLines(name);
      assert.ok(lines.length > 0, `${name} is empty`);
      for (const line of lines) {
        if (previous !== null) assert.equal(sequence(line), previous + 1, `${name}: entry ${sequence(line)} follows ${previous}`);
        previous = sequence(line);
      }
    }
    assert.equal(previous, 2000, 'the newest entry is not last in access.log');
    const kept = (await Promise.all([`${file}.2`, `${file}.1`, file].map(jsonLines))).flat();
    assert.ok(kept.length < 2001, 'nothing was dropped, so nothing rotated out');
  });

  test('recent(n) returns the newest n entries, newest last', async () => {
    const log = new AccessLog({ dir: join(dir, 'recent'), settings: { accessLog: false, maxFileBytes: 65536, keepFiles: 1, combinedLog: false } });
    try {
      for (let n = 1; n <= 5; n++) log.write(entry(n));
      assert.deepEqual(log.recent(3).map(sequence), [3, 4, 5]);
      assert.deepEqual(log.recent(10).map(sequence), [1, 2, 3, 4, 5]);
      for (let n = 6; n <= 1005; n++) log.write(entry(n));
      const all = log.recent(5000);
      assert.equal(all.length, 1000);
      assert.equal(sequence(all[0] as AccessLogEntry), 6);
      assert.equal(sequence(all[999] as AccessLogEntry), 1005);
    } finally {
      await log.close();
    }
    // accessLog: false keeps entries in memory only.
    assert.ok(!existsSync(join(dir, 'recent', 'access.log')), 'a disabled access log wrote a file');
  });
});

describe('per-route counters', () => {
  let slow: TestServer;
  let failing: TestServer;
  let ws: WsUpstream;
  let proxy: RunningProxy;
  let refusedPort: number;
  const client = new Agent();

  before(async () => {
    slow = await startServer((req, res) => {
      req.resume();
      req.on('end', () => setTimeout(() => res.writeHead(200, { 'content-length': 100 }).end('s'.repeat(100)), 50));
    });
    failing = await startServer((_req, res) => res.writeHead(500, { 'content-length': 4 }).end('oops'));
    ws = await startWsUpstream('ws');
    // A port that was free a moment ago: connecting to it is refused.
    const probe = await startServer(() => {});
    refusedPort = probe.port;
    await probe.close();
    proxy = await startProxy([
      route('slow', slow.url, ['slow.test']),
      route('failing', failing.url, ['failing.test']),
      route('down', `http://127.0.0.1:${refusedPort}`, ['down.test']),
      route('idle', slow.url, ['idle.test']),
      route('ws', ws.url, ['ws.test']),
    ]);
  });

  after(async () => {
    await proxy?.stop();
    await client.close();
    await Promise.all([slow?.close(), failing?.close(), ws?.close()]);
  });

  const statsOf = (id: string): RouteStats => {
    const found = proxy.engine.stats().routes.find((r) => r.routeId === id);
    assert.ok(found, `no stats for route ${id}`);
    return found;
  };

  test('requests, bytes, latency percentiles and rate of a route whose upstream takes 50 ms', async () => {
    const before = statsOf('slow');
    assert.equal(before.requests, 0);
    assert.equal(before.p50Ms, null);
    assert.equal(before.p99Ms, null);
    for (let i = 0; i < 10; i++) {
      const res = await fetchThrough(client, proxy.port, 'slow.test', `/${i}`, { method: 'POST', body: 'b'.repeat(1000) });
      assert.equal(res.status, 200);
    }
    await waitUntil(() => statsOf('slow').requests === 10, 3000, 'ten requests counted');
    const stats = statsOf('slow');
    assert.equal(stats.errors, 0);
    assert.equal(stats.bytesOut, 1000);
    assert.ok(stats.bytesIn >= 10_000, `bytesIn ${stats.bytesIn} does not cover ten 1000-byte bodies`);
    assert.ok(stats.p50Ms !== null && stats.p50Ms >= 50, `p50 ${stats.p50Ms} ms, but every request took at least 50 ms`);
    assert.ok(stats.p99Ms !== null && stats.p99Ms >= stats.p50Ms, `p99 ${stats.p99Ms} < p50 ${stats.p50Ms}`);
    assert.ok(stats.p99Ms < 2000, `p99 ${stats.p99Ms} ms is implausible for a 50 ms upstream`);
    assert.equal(stats.requestsPerMinute, 10);
    assert.equal(statsOf('idle').requests, 0, 'another route to the same upstream was counted');
  });

  test('a 502 from an unreachable upstream and a 500 from the upstream both count as errors', async () => {
    const down = await fetchThrough(client, proxy.port, 'down.test', '/');
    assert.equal(down.status, 502);
    assert.equal(down.headers['x-gatehouse-error'], 'upstream_refused');
    const failed = await fetchThrough(client, proxy.port, 'failing.test', '/');
    assert.equal(failed.status, 500);
    await waitUntil(() => statsOf('down').requests === 1 && statsOf('failing').requests === 1, 3000, 'the failures counted');
    assert.equal(statsOf('down').errors, 1);
    assert.equal(statsOf('failing').errors, 1);
    assert.equal(statsOf('slow').errors, 0);
  });

  test('names no route claims are counted as unmatched', async () => {
    const before = proxy.engine.stats().unmatched;
    for (let i = 0; i < 3; i++) assert.equal((await fetchThrough(client, proxy.port, 'stranger.test', '/')).status, 404);
    await waitUntil(() => proxy.engine.stats().unmatched === before + 3, 3000, 'three unmatched requests');
  });

  test('open WebSockets are counted while open', async () => {
    const socket = await openWs(proxy.port, 'ws.test');
    try {
      await waitUntil(() => statsOf('ws').openWebSockets === 1, 3000, 'the WebSocket counted as open');
    } finally {
      await closeWs(socket);
    }
    await waitUntil(() => statsOf('ws').openWebSockets === 0, 3000, 'the WebSocket counted as closed');
    assert.equal(statsOf('ws').requests, 1);
  });
});
