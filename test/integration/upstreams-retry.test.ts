// Which failed requests go to another upstream (docs/balancing.md, "Retries"), on real servers on
// 127.0.0.2/.3/.4: any method when the connection was refused (nothing was sent); an idempotent
// request when the upstream closed before answering; never a request whose body was sent; never
// past the route's try budget. And the two answers no upstream gives: every upstream drained (503
// no_upstream with Retry-After) and every upstream marked down while one still works (served).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { defaultBalancing, type Balancing } from '../../shared/upstreams.js';
import { UpstreamHealth } from '../../src-main/core/upstreams/health.js';
import { waitUntil } from '../helpers/proxy-harness.js';
import { deadUrl, fakeHealth, poolRoute, poolServer, send, startPoolProxy, type PoolProxy, type PoolServer } from '../helpers/upstream-pool.js';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function server(name: string, host: string): Promise<PoolServer> {
  const started = await poolServer(name, host);
  cleanups.push(() => started.kill());
  return started;
}

async function proxy(...args: Parameters<typeof startPoolProxy>): Promise<PoolProxy> {
  const started = await startPoolProxy(...args);
  cleanups.push(() => started.stop());
  return started;
}

const balancing = (extra: Partial<Balancing>): Balancing => ({ ...defaultBalancing(), ...extra });

/** Reads the whole body, then closes the connection without answering. */
function readThenHangUp(received: string[]): PoolServer['answer'] {
  return (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push(`${req.method} ${body}`);
      res.socket?.destroy();
    });
  };
}

describe('retries', () => {
  test('a POST is retried when the connection was refused: nothing was sent, and its body arrives whole once', async () => {
    const dead = await deadUrl('127.0.0.2');
    const good = await server('good', '127.0.0.3');
    const bodies: string[] = [];
    good.answer = (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        bodies.push(body);
        res.end(`stored ${body.length}`);
      });
    };
    const health = fakeHealth();
    const { port, logged } = await proxy([poolRoute('svc', ['svc.example'], [dead, good.url])], { health });
    const payload = 'p'.repeat(100_000);
    const got = await send(port, 'svc.example', { method: 'POST', path: '/save', body: payload });
    assert.equal(got.status, 200);
    assert.equal(got.body, `stored ${payload.length}`);
    assert.deepEqual(bodies, [payload]);
    assert.deepEqual(health.failures, [dead.slice('http://'.length)], 'the refused attempt counts against its upstream');
    await waitUntil(() => logged.some((e) => e.path === '/save'), 3000, 'the log entry');
    assert.equal(logged.find((e) => e.path === '/save')?.upstream, good.address);
  });

  test('a GET is retried when the upstream closed before any byte of its answer', async () => {
    const closing = await server('closing', '127.0.0.2');
    const received: string[] = [];
    closing.answer = readThenHangUp(received);
    const good = await server('good', '127.0.0.3');
    const { port } = await proxy([poolRoute('svc', ['svc.example'], [closing.url, good.url])]);
    const got = await send(port, 'svc.example', { path: '/page' });
    assert.equal(got.status, 200);
    assert.equal(got.body, 'from good');
    assert.deepEqual(received, ['GET '], 'the first upstream had it first');
  });

  test('a POST whose body was sent is never retried, whatever happens after', async () => {
    const closing = await server('closing', '127.0.0.2');
    const received: string[] = [];
    closing.answer = readThenHangUp(received);
    const good = await server('good', '127.0.0.3');
    const { port, logged } = await proxy([poolRoute('svc', ['svc.example'], [closing.url, good.url])]);
    const got = await send(port, 'svc.example', { method: 'POST', path: '/pay', body: 'amount=10' });
    assert.equal(got.status, 502);
    assert.deepEqual(received, ['POST amount=10']);
    assert.equal(good.hits, 0, 'the other upstream never saw the POST');
    // A PUT with a body is idempotent, but its body was sent: not repeated either (it is streamed, not kept).
    const put = await send(port, 'svc.example', { method: 'PUT', path: '/doc', body: 'v2' });
    assert.equal(put.status, 502);
    assert.equal(good.hits, 0);
    await waitUntil(() => logged.some((e) => e.path === '/doc'), 3000, 'the log entry');
    assert.equal(logged.find((e) => e.path === '/pay')?.error, 'upstream_reset');
  });

  test('never past the try budget: with tries 2, two refusing upstreams end it, though a third works', async () => {
    const first = await deadUrl('127.0.0.2');
    const second = await deadUrl('127.0.0.3');
    const third = await server('third', '127.0.0.4');
    const { port, logged } = await proxy([poolRoute('svc', ['svc.example'], [first, second, third.url], { balancing: balancing({ tries: 2 }) })]);
    const got = await send(port, 'svc.example', { path: '/budget' });
    assert.equal(got.status, 502);
    assert.equal(third.hits, 0);
    await waitUntil(() => logged.some((e) => e.path === '/budget'), 3000, 'the log entry');
    const entry = logged.find((e) => e.path === '/budget');
    assert.equal(entry?.error, 'upstream_refused');
    assert.match(entry?.detail ?? '', /tried 2 upstreams/);
    assert.equal(entry?.upstream, second.slice('http://'.length), 'the log names the last upstream tried');
    // tries 1: never retried.
    const once = await proxy([poolRoute('once', ['once.example'], [first, third.url], { balancing: balancing({ tries: 1 }) })]);
    assert.equal((await send(once.port, 'once.example')).status, 502);
    assert.equal(third.hits, 0);
  });

  test('a hung upstream (headers timeout) is not retried: the request was sent', async () => {
    const hung = await server('hung', '127.0.0.2');
    hung.answer = () => {};
    const good = await server('good', '127.0.0.3');
    const { port } = await proxy([poolRoute('svc', ['svc.example'], [hung.url, good.url])], { timeouts: { upstreamHeadersMs: 300 } });
    const got = await send(port, 'svc.example', { path: '/slow' });
    assert.equal(got.status, 504);
    assert.equal(good.hits, 0);
  });
});

describe('when no upstream is available', () => {
  test('every upstream drained: 503 no_upstream with Retry-After, and no upstream address on the page', async () => {
    const a = await server('a', '127.0.0.2');
    const b = await server('b', '127.0.0.3');
    const { port, logged } = await proxy(
      [
        poolRoute('svc', ['svc.example'], [
          { url: a.url, drained: true },
          { url: b.url, drained: true },
        ]),
      ],
      { settings: { errorDetails: 'nobody' } },
    );
    for (const accept of ['text/html', '*/*']) {
      const got = await send(port, 'svc.example', { path: '/x', headers: { accept } });
      assert.equal(got.status, 503);
      assert.ok(Number(got.headers['retry-after']) > 0, `Retry-After: ${String(got.headers['retry-after'])}`);
      assert.equal(got.headers['x-gatehouse-error'], 'service_unavailable');
      for (const secret of [a.address, b.address, '127.0.0.', String(a.port)]) assert.equal(got.body.includes(secret), false, `the page shows ${secret}`);
    }
    assert.equal(a.hits + b.hits, 0);
    await waitUntil(() => logged.length >= 2, 3000, 'the log entries');
    assert.equal(logged[0]?.error, 'no_upstream');
  });

  test('every upstream marked down, one actually works: it is still served (the last-upstream rule)', async () => {
    const dead = await deadUrl('127.0.0.2');
    const works = await server('works', '127.0.0.3');
    // Both down; the dead one failed least recently, so it is tried first, then the working one.
    const health = fakeHealth({ available: () => false, lastFailedAt: (address) => (address === works.address ? 2000 : 1000) });
    const { port } = await proxy([poolRoute('svc', ['svc.example'], [dead, works.url])], { health });
    const got = await send(port, 'svc.example');
    assert.equal(got.status, 200);
    assert.equal(got.body, 'from works');
  });

  test('with real checks: a check that fails on both (a wrong path) never takes the working service offline', async () => {
    const a = await server('a', '127.0.0.2');
    const b = await server('b', '127.0.0.3');
    for (const s of [a, b]) {
      const serve = s.answer;
      s.answer = (req, res) => {
        if (req.url === '/wrong-health') {
          res.writeHead(503).end('no such page');
          return;
        }
        serve(req, res);
      };
    }
    const route = poolRoute('svc', ['svc.example'], [a.url, b.url]);
    route.healthCheck = { ...route.healthCheck, active: { ...route.healthCheck.active, path: '/wrong-health', fails: 1 } };
    const health = new UpstreamHealth({ onChange: () => {}, intervalMs: 100, timeoutMs: 400, jitterMs: 0 });
    cleanups.push(() => health.close());
    health.setRoutes([route]);
    const { port } = await proxy([route], { health });
    await waitUntil(() => !health.isAvailable(a.address) && !health.isAvailable(b.address), 5000, 'both upstreams marked down by the check');
    a.hits = b.hits = 0;
    const got = await send(port, 'svc.example', { path: '/app' });
    assert.equal(got.status, 200);
    assert.match(got.body, /^from [ab]$/);
    // Then one really dies: the other is still served, through a retry if need be.
    await a.kill();
    for (let i = 0; i < 5; i++) assert.equal((await send(port, 'svc.example', { path: '/app' })).body, 'from b');
  });
});
