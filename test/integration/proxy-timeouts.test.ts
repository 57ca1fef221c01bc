// Every timeout the proxy documents, measured on real sockets: the header deadline (slowloris), the
// client idle timer while a body is due, the keep-alive idle timer, the upstream's header and body
// deadlines, and the WebSocket idle timer. Each test starts its own engine with small timeouts, and
// checks both sides: the slow party is cut in about the configured time, and not much earlier.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, WebSocketServer } from 'ws';
import { defaultSettings, type Timeouts } from '../../shared/model.js';
import {
  collect,
  dribble,
  getThrough,
  openRaw,
  parseResponses,
  startProxy,
  startRecordingUpstream,
  startTcpUpstream,
  testRoute,
  waitFor,
  type ProxyUnderTest,
  type RecordingUpstream,
} from '../helpers/raw-http.js';

/** Everything a test started, stopped in `after` even when the test failed half-way. */
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function proxyTo(upstream: string, timeouts: Partial<Timeouts>, title = 'Slow service'): Promise<ProxyUnderTest> {
  const proxy = await startProxy([testRoute('svc', ['svc.example'], upstream, { title })], timeouts);
  cleanups.push(() => proxy.stop());
  return proxy;
}

async function recordingUpstream(...args: Parameters<typeof startRecordingUpstream>): Promise<RecordingUpstream> {
  const upstream = await startRecordingUpstream(...args);
  cleanups.push(() => upstream.close());
  return upstream;
}


describe('documented defaults', () => {
  test('defaultSettings() has the timeouts model.ts documents, and every timeout documents one', async () => {
    const source = await readFile(new URL('../../shared/model.ts', import.meta.url), 'utf8');
    const block = source.slice(source.indexOf('export const TimeoutsSchema'), source.indexOf('export type Timeouts'));
    const documented: Record<string, number> = {};
    for (const match of block.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*(\w+):/g)) {
      const value = /Default: (\d+)/.exec(match[1] as string);
      assert.ok(value, `${match[2]} does not document its default`);
      documented[match[2] as string] = Number(value[1]);
    }
    const defaults = defaultSettings().proxy.timeouts;
    assert.deepEqual(Object.keys(documented).sort(), Object.keys(defaults).sort(), 'every timeout field is documented');
    assert.deepEqual(defaults, documented);
    // And the values the issue promises users.
    assert.deepEqual(defaults, {
      headersMs: 15_000,
      clientIdleMs: 60_000,
      keepAliveMs: 5_000,
      upstreamConnectMs: 5_000,
      upstreamHeadersMs: 60_000,
      upstreamBodyIdleMs: 60_000,
      websocketIdleMs: 3_600_000,
    });
  });
});

describe('client timeouts', () => {
  test('slowloris: a head trickled one byte every 200 ms is cut after headersMs (1 s) with 408', async () => {
    const upstream = await recordingUpstream();
    const proxy = await proxyTo(upstream.url, { headersMs: 1000 });
    const socket = await openRaw(proxy.port);
    const started = performance.now();
    const result = collect(socket, { settleMs: 0, timeoutMs: 5000 }, started);
    const head = `GET / HTTP/1.1\r\nHost: svc.example\r\nX-Slow: ${'a'.repeat(100)}\r\n\r\n`;
    void dribble(socket, head, 200);
    const { text, closed, ms } = await result;
    socket.destroy();
    assert.equal(closed, true, 'the connection is closed');
    // Node checks deadlines every connectionsCheckingInterval (1 s, set by the engine).
    assert.ok(ms >= 900 && ms <= 3000, `cut after ${Math.round(ms)} ms, expected 1–3 s`);
    if (text !== '') {
      const [response] = parseResponses(text);
      assert.equal(response?.status, 408);
      assert.equal(response?.headers['x-gatehouse-error'], 'request_timeout');
    }
    assert.equal(upstream.requests.length, 0);
    assert.ok(proxy.logged.some((entry) => entry.status === 408 && entry.error === 'request_timeout'), 'the cut is logged as 408');
  });

  test('a connection that never sends a byte is closed after headersMs', async () => {
    const upstream = await recordingUpstream();
    const proxy = await proxyTo(upstream.url, { headersMs: 1000 });
    const socket = await openRaw(proxy.port);
    const { closed, ms } = await collect(socket, { settleMs: 0, timeoutMs: 5000 });
    socket.destroy();
    assert.equal(closed, true);
    assert.ok(ms <= 3000, `closed after ${Math.round(ms)} ms`);
  });

  test('a body that stalls is cut after clientIdleMs (1 s) and the upstream request is aborted', async () => {
    const upstream = await recordingUpstream();
    const proxy = await proxyTo(upstream.url, { clientIdleMs: 1000 });
    const socket = await openRaw(proxy.port);
    socket.write('POST /upload HTTP/1.1\r\nHost: svc.example\r\nContent-Length: 1000\r\n\r\n0123456789');
    const started = performance.now();
    const { closed, ms } = await collect(socket, { settleMs: 0, timeoutMs: 5000 }, started);
    socket.destroy();
    assert.equal(closed, true, 'the stalled connection is closed');
    assert.ok(ms >= 800 && ms <= 3000, `cut after ${Math.round(ms)} ms, expected about 1 s`);
    await waitFor(() => upstream.requests[0]?.aborted === true, 'the upstream to see its request aborted');
    assert.equal(upstream.requests[0]?.body, '0123456789');
    assert.equal(upstream.requests[0]?.complete, false);
    await waitFor(() => proxy.logged.length > 0, 'the access-log entry');
    assert.equal(proxy.logged[0]?.error, 'request_timeout');
    assert.equal(proxy.logged[0]?.status, 408);
  });

  test('a body that keeps arriving within clientIdleMs is not cut', async () => {
    const upstream = await recordingUpstream();
    const proxy = await proxyTo(upstream.url, { clientIdleMs: 1000 });
    const socket = await openRaw(proxy.port);
    const result = collect(socket, { settleMs: 0, timeoutMs: 5000 });
    socket.write('POST /upload HTTP/1.1\r\nHost: svc.example\r\nContent-Length: 6\r\nConnection: close\r\n\r\n');
    await dribble(socket, 'abcdef', 300); // 1.8 s in all, never 1 s silent
    const { text, closed } = await result;
    socket.destroy();
    assert.equal(closed, true);
    assert.equal(parseResponses(text)[0]?.status, 200);
    assert.equal(upstream.requests[0]?.body, 'abcdef');
  });

  test('an idle keep-alive connection is closed by the server after keepAliveMs (0.5 s, plus Node\'s 1 s buffer)', async () => {
    const upstream = await recordingUpstream();
    const proxy = await proxyTo(upstream.url, { keepAliveMs: 500 });
    const socket = await openRaw(proxy.port);
    const first = collect(socket, { settleMs: 50, timeoutMs: 3000 });
    socket.write('GET /one HTTP/1.1\r\nHost: svc.example\r\n\r\n');
    const answered = await first;
    assert.equal(answered.closed, false, 'keep-alive: the connection stays open after the answer');
    assert.equal(parseResponses(answered.text)[0]?.status, 200);
    const idleStarted = performance.now() - 50; // the answer arrived one settle period ago
    const { closed, ms } = await collect(socket, { settleMs: 0, timeoutMs: 4000 }, idleStarted);
    socket.destroy();
    assert.equal(closed, true, 'the server closes the idle connection');
    // Node keeps the socket a fixed 1 s past the advertised keep-alive time, so that a client honouring
    // `Keep-Alive: timeout=` closes first and never races the server's close: 0.5 s + 1 s here.
    // Without keepAliveMs applied it would be the default 5 s (+1 s).
    assert.ok(ms >= 450 && ms <= 2300, `closed after ${Math.round(ms)} ms idle, expected 0.5 s (+1 s Node buffer)`);
  });

  test('a keep-alive connection used within keepAliveMs serves the next request', async () => {
    const upstream = await recordingUpstream();
    const proxy = await proxyTo(upstream.url, { keepAliveMs: 1000 });
    const socket = await openRaw(proxy.port);
    for (const path of ['/one', '/two', '/three']) {
      const answer = collect(socket, { settleMs: 50, timeoutMs: 3000 });
      socket.write(`GET ${path} HTTP/1.1\r\nHost: svc.example\r\n\r\n`);
      const { text, closed } = await answer;
      assert.equal(closed, false);
      assert.equal(parseResponses(text)[0]?.status, 200);
      await sleep(400);
    }
    socket.destroy();
    assert.deepEqual(upstream.requests.map((r) => r.url), ['/one', '/two', '/three']);
    assert.equal(upstream.connections, 1);
  });
});

describe('upstream timeouts', () => {
  test('an upstream that accepts but never answers gets a 504 upstream_timeout page after upstreamHeadersMs', async () => {
    // An upstream that accepts, reads, and never answers.
    let accepted = 0;
    const silent = await startTcpUpstream((socket) => {
      accepted++;
      socket.resume();
    });
    cleanups.push(() => silent.close());
    const proxy = await proxyTo(silent.url, { upstreamHeadersMs: 500 }, 'Frozen app');
    const started = performance.now();
    const response = await getThrough(proxy.port, 'svc.example');
    const ms = performance.now() - started;
    assert.equal(response.status, 504);
    assert.equal(response.headers['x-gatehouse-error'], 'upstream_timeout');
    assert.match(response.body, /Frozen app/);
    assert.ok(response.body.includes(silent.address), 'the page names host:port');
    assert.match(response.body, /did not answer within 0\.5 s/);
    assert.ok(ms >= 450 && ms <= 2500, `answered after ${Math.round(ms)} ms`);
    assert.equal(accepted, 1, 'the request did reach the upstream');
  });

  test('an upstream body that goes silent is cut after upstreamBodyIdleMs; the client sees a truncated answer', async () => {
    const upstream = await recordingUpstream('stall', (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('x'.repeat(10)); // then nothing
    });
    const proxy = await proxyTo(upstream.url, { upstreamBodyIdleMs: 500 });
    const socket = await openRaw(proxy.port);
    const started = performance.now();
    const result = collect(socket, { settleMs: 0, timeoutMs: 5000 }, started);
    socket.write('GET / HTTP/1.1\r\nHost: svc.example\r\n\r\n');
    const { text, closed, ms } = await result;
    socket.destroy();
    assert.equal(closed, true, 'the connection is cut, not left hanging');
    assert.ok(ms >= 400 && ms <= 3000, `cut after ${Math.round(ms)} ms`);
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.ok(text.endsWith('\r\n\r\n' + 'x'.repeat(10)), 'the 10 bytes sent arrive, and nothing pretends to complete the body');
  });

  test('with the default upstreamBodyIdleMs (60 s) a stream with pauses shorter than that is not cut', async () => {
    const upstream = await recordingUpstream('sse', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      setTimeout(() => res.end('data: last\n\n'), 1500);
    });
    const proxy = await proxyTo(upstream.url, {});
    assert.equal(defaultSettings().proxy.timeouts.upstreamBodyIdleMs, 60_000);
    const response = await getThrough(proxy.port, 'svc.example');
    assert.equal(response.status, 200);
    assert.equal(response.body, 'data: first\n\ndata: last\n\n');
  });

  test('an event stream is exempt from upstreamBodyIdleMs: its silence is normal', async () => {
    const upstream = await recordingUpstream('sse', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      setTimeout(() => res.end('data: last\n\n'), 1500);
    });
    const proxy = await proxyTo(upstream.url, { upstreamBodyIdleMs: 500 });
    const response = await getThrough(proxy.port, 'svc.example');
    assert.equal(response.status, 200);
    assert.equal(response.body, 'data: first\n\ndata: last\n\n');
  });
});

describe('WebSocket idle timeout', () => {
  async function wsUpstream(): Promise<{ url: string; server: WebSocketServer }> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    server.on('connection', (socket) => socket.on('message', (data) => socket.send(data)));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const client of server.clients) client.terminate();
          server.close(() => resolve());
        }),
    );
    const { port } = server.address() as { port: number };
    return { url: `http://127.0.0.1:${port}`, server };
  }

  async function openThrough(proxy: ProxyUnderTest): Promise<WebSocket> {
    const socket = new WebSocket(`ws://127.0.0.1:${proxy.port}/live`, { headers: { host: 'svc.example' } });
    socket.on('error', () => {});
    cleanups.push(() => socket.terminate());
    await once(socket, 'open');
    return socket;
  }

  test('a tunnel with no traffic is closed after websocketIdleMs (1 s)', async () => {
    const upstream = await wsUpstream();
    const proxy = await proxyTo(upstream.url, { websocketIdleMs: 1000 });
    const socket = await openThrough(proxy);
    const opened = performance.now();
    socket.send('hello');
    const [echo] = (await once(socket, 'message')) as [Buffer];
    assert.equal(echo.toString(), 'hello', 'the tunnel works');
    const echoed = performance.now();
    await Promise.race([once(socket, 'close'), sleep(4000)]);
    const idleMs = performance.now() - echoed;
    assert.equal(socket.readyState, WebSocket.CLOSED, `still open ${Math.round(performance.now() - opened)} ms after opening`);
    assert.ok(idleMs >= 800 && idleMs <= 2500, `closed after ${Math.round(idleMs)} ms idle, expected about 1 s`);
    await waitFor(() => proxy.engine.stats().routes[0]?.openWebSockets === 0, 'the open-WebSocket count to drop');
  });

  test('a tunnel that pings every 300 ms stays open past 2 s, then idles out once the pings stop', async () => {
    const upstream = await wsUpstream();
    const proxy = await proxyTo(upstream.url, { websocketIdleMs: 1000 });
    const socket = await openThrough(proxy);
    let pongs = 0;
    socket.on('pong', () => pongs++);
    const pinger = setInterval(() => socket.ping(), 300);
    await sleep(2200);
    clearInterval(pinger);
    assert.equal(socket.readyState, WebSocket.OPEN, 'the tunnel with traffic stays open past 2 s');
    assert.ok(pongs >= 5, `the pings went both ways (${pongs} pongs)`);
    assert.equal(proxy.engine.stats().routes[0]?.openWebSockets, 1);
    const stopped = performance.now();
    await Promise.race([once(socket, 'close'), sleep(4000)]);
    assert.equal(socket.readyState, WebSocket.CLOSED);
    assert.ok(performance.now() - stopped <= 2500);
  });
});
