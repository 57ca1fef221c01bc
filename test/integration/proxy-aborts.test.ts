// Either side may vanish at any moment, and the proxy must shrug: a client that leaves during its
// head, while the upstream thinks, mid-upload, mid-download, mid-handshake or mid-tunnel; an
// upstream that leaves before its head, mid-body or mid-upgrade. Then ~200 randomized abort points.
// After each, the same engine serves a normal request, no error escaped as an uncaught exception
// or unhandled rejection, and the upstream side of an abandoned exchange was released.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, WebSocketServer } from 'ws';
import { collect, getThrough, openRaw, parseResponses, startProxy, startRecordingUpstream, testRoute, waitFor, type ProxyUnderTest, type RecordingUpstream } from '../helpers/raw-http.js';

/** Every error that escaped to the process while this file ran. */
const stray: unknown[] = [];
const onStray = (error: unknown) => stray.push(error);
process.on('uncaughtException', onStray);
process.on('unhandledRejection', onStray);

const WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const wsAccept = (key: string) => createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
const upgradeHead = (host: string) =>
  `GET /socket HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${WS_KEY}\r\n\r\n`;

/** Counts what the upstream side of abandoned exchanges went through. */
const upstreamSide = {
  slowAnswered: 0,
  slowAbandoned: 0,
  streamsStarted: 0,
  streamsAbandoned: 0,
  upgradesSeen: 0,
  /** Upgrade sockets whose peer (the proxy) ended or closed them. */
  upgradeSocketsReleased: 0,
  tunnelsOpen: 0,
};

interface Upstreams {
  echo: RecordingUpstream;
  slow: RecordingUpstream;
  stream: RecordingUpstream;
  drop: RecordingUpstream;
  cut: RecordingUpstream;
  ws: { url: string; server: WebSocketServer };
  wsSlow: { url: string; server: Server };
  wsDrop: { url: string; server: Server };
}

/** Upgraded sockets are not the HTTP server's any more: closeAllConnections() does not reach them. */
const upgradeSockets = new Set<Socket>();

async function upgradeServer(onUpgrade: (req: IncomingMessage, socket: Socket) => void): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => res.end('not an upgrade'));
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    upgradeSockets.add(socket);
    socket.on('error', () => {});
    upstreamSide.upgradesSeen++;
    // Like a half-open-capable server, this one never closes on its own: the proxy must let go.
    let released = false;
    const release = () => {
      if (!released) upstreamSide.upgradeSocketsReleased++;
      released = true;
    };
    socket.on('end', release);
    socket.on('close', release);
    onUpgrade(req, socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

async function startUpstreams(): Promise<Upstreams> {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  const [echo, slow, stream, drop, cut] = await Promise.all([
    startRecordingUpstream('echo'),
    // Answers 300 ms after the head arrived, unless the proxy gave up on it first.
    startRecordingUpstream('slow', (_req, res) => {
      const timer = setTimeout(() => {
        upstreamSide.slowAnswered++;
        res.end('slow answer');
      }, 300);
      res.on('close', () => {
        clearTimeout(timer);
        if (!res.writableFinished) upstreamSide.slowAbandoned++;
      });
    }),
    // Streams up to 200 × 64 KiB, one every 5 ms.
    startRecordingUpstream('stream', (_req, res) => {
      upstreamSide.streamsStarted++;
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let sent = 0;
      const timer = setInterval(() => {
        if (sent++ >= 200) {
          clearInterval(timer);
          res.end();
        } else res.write(chunk);
      }, 5);
      res.on('close', () => {
        clearInterval(timer);
        if (!res.writableFinished) upstreamSide.streamsAbandoned++;
      });
    }),
    // Leaves before answering.
    startRecordingUpstream('drop', (req) => req.socket.destroy()),
    // Promises 100 000 bytes, sends 1000, leaves.
    startRecordingUpstream('cut', (_req, res) => {
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(1000, 'c'));
      setTimeout(() => res.socket?.destroy(), 20);
    }),
  ]);
  const wsServer = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wsServer, 'listening');
  wsServer.on('connection', (socket) => {
    upstreamSide.tunnelsOpen++;
    socket.on('error', () => {});
    socket.on('close', () => upstreamSide.tunnelsOpen--);
    socket.on('message', (data, binary) => socket.send(data, { binary }));
  });
  const wsSlow = await upgradeServer((req, socket) => {
    setTimeout(() => {
      if (socket.destroyed) return;
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${wsAccept(req.headers['sec-websocket-key'] ?? '')}\r\n\r\n`);
    }, 300);
  });
  const wsDrop = await upgradeServer((_req, socket) => socket.destroy());
  return { echo, slow, stream, drop, cut, ws: { url: `http://127.0.0.1:${(wsServer.address() as { port: number }).port}`, server: wsServer }, wsSlow, wsDrop };
}

describe('aborts at any moment', () => {
  let up: Upstreams;
  let proxy: ProxyUnderTest;

  before(async () => {
    up = await startUpstreams();
    proxy = await startProxy([
      testRoute('echo', ['echo.example'], up.echo.url),
      testRoute('slow', ['slow.example'], up.slow.url),
      testRoute('stream', ['stream.example'], up.stream.url),
      testRoute('drop', ['drop.example'], up.drop.url),
      testRoute('cut', ['cut.example'], up.cut.url),
      testRoute('ws', ['ws.example'], up.ws.url),
      testRoute('ws-slow', ['ws-slow.example'], up.wsSlow.url),
      testRoute('ws-drop', ['ws-drop.example'], up.wsDrop.url),
    ]);
  });

  afterEach(async () => {
    // The same engine still answers a normal request correctly, and nothing escaped.
    const page = await getThrough(proxy.port, 'echo.example', '/health');
    assert.equal(page.status, 200);
    assert.equal(page.body, 'ok from echo');
    await sleep(20);
    assert.deepEqual(stray.splice(0), [], 'an error escaped as an uncaught exception or unhandled rejection');
  });

  after(async () => {
    await proxy.stop();
    for (const client of up.ws.server.clients) client.terminate();
    for (const socket of upgradeSockets) socket.destroy();
    await Promise.all([
      up.echo.close(),
      up.slow.close(),
      up.stream.close(),
      up.drop.close(),
      up.cut.close(),
      new Promise((resolve) => up.ws.server.close(resolve)),
      new Promise((resolve) => {
        up.wsSlow.server.close(resolve);
        up.wsSlow.server.closeAllConnections();
      }),
      new Promise((resolve) => {
        up.wsDrop.server.close(resolve);
        up.wsDrop.server.closeAllConnections();
      }),
    ]);
    process.off('uncaughtException', onStray);
    process.off('unhandledRejection', onStray);
  });

  test('client leaves during its head (FIN and RST)', async () => {
    for (const reset of [false, true]) {
      const socket = await openRaw(proxy.port);
      socket.write('GET /half HTTP/1.1\r\nHost: echo.exa');
      await sleep(20);
      if (reset) socket.resetAndDestroy();
      else socket.end();
      await sleep(20);
      socket.destroy();
    }
    assert.ok(!up.echo.requests.some((r) => r.url === '/half'));
  });

  test('client leaves after its head, before the upstream answers: the upstream request is abandoned', async () => {
    const before = upstreamSide.slowAbandoned;
    const socket = await openRaw(proxy.port);
    const seen = up.slow.requests.length;
    socket.write('GET /wait HTTP/1.1\r\nHost: slow.example\r\n\r\n');
    await waitFor(() => up.slow.requests.length > seen, 'the upstream to receive the request');
    socket.destroy();
    await waitFor(() => upstreamSide.slowAbandoned > before, 'the upstream request to be abandoned');
    await waitFor(() => proxy.logged.at(-1)?.status === 499, 'the access log to record 499');
  });

  test('client leaves mid-upload: the upstream sees its request aborted', async () => {
    const socket = await openRaw(proxy.port);
    const seen = up.echo.requests.length;
    socket.write('POST /upload HTTP/1.1\r\nHost: echo.example\r\nContent-Length: 100000\r\n\r\n');
    socket.write(Buffer.alloc(5000, 'u'));
    await waitFor(() => (up.echo.requests[seen]?.body.length ?? 0) > 0, 'part of the body to reach the upstream');
    socket.resetAndDestroy();
    await waitFor(() => up.echo.requests[seen]?.aborted === true, 'the upstream request to be aborted');
    assert.equal(up.echo.requests[seen]?.complete, false);
  });

  test('client leaves mid-download: the upstream stream is abandoned, not run to the end', async () => {
    const before = upstreamSide.streamsAbandoned;
    const socket = await openRaw(proxy.port);
    socket.write('GET /big HTTP/1.1\r\nHost: stream.example\r\n\r\n');
    await once(socket, 'data');
    socket.destroy();
    await waitFor(() => upstreamSide.streamsAbandoned > before, 'the upstream response to be abandoned');
  });

  test('client that stops reading mid-download and then leaves releases the upstream too', async () => {
    const before = upstreamSide.streamsAbandoned;
    const socket = await openRaw(proxy.port);
    socket.write('GET /big HTTP/1.1\r\nHost: stream.example\r\n\r\n');
    await once(socket, 'data');
    socket.pause(); // backpressure all the way to the upstream
    await sleep(200);
    socket.resetAndDestroy();
    await waitFor(() => upstreamSide.streamsAbandoned > before, 'the upstream response to be abandoned');
  });

  test('client leaves during the WebSocket handshake: the late 101 is not tunnelled anywhere', async () => {
    const seen = upstreamSide.upgradesSeen;
    const released = upstreamSide.upgradeSocketsReleased;
    const socket = await openRaw(proxy.port);
    socket.write(upgradeHead('ws-slow.example'));
    await waitFor(() => upstreamSide.upgradesSeen > seen, 'the upstream to receive the upgrade');
    socket.destroy();
    await waitFor(() => upstreamSide.upgradeSocketsReleased > released, 'the upstream upgrade socket to be released');
    // Once the late 101 arrives the tunnel must not outlive the client (until websocketIdleMs, 1 h).
    await sleep(400);
    assert.equal(proxy.engine.stats().routes.find((r) => r.routeId === 'ws-slow')?.openWebSockets, 0, 'a tunnel to a client that is gone is still open');
  });

  test('client leaves during a tunnel: the upstream WebSocket is closed and the count drops', async () => {
    const client = new WebSocket(`ws://127.0.0.1:${proxy.port}/`, { headers: { host: 'ws.example' } });
    client.on('error', () => {});
    await once(client, 'open');
    client.send('ping');
    await once(client, 'message');
    assert.equal(upstreamSide.tunnelsOpen, 1);
    client.terminate();
    await waitFor(() => upstreamSide.tunnelsOpen === 0, 'the upstream WebSocket to close');
    await waitFor(() => proxy.engine.stats().routes.find((r) => r.routeId === 'ws')?.openWebSockets === 0, 'the open count to drop');
  });

  test('upstream leaves during a tunnel: the client sees the close', async () => {
    const client = new WebSocket(`ws://127.0.0.1:${proxy.port}/`, { headers: { host: 'ws.example' } });
    client.on('error', () => {});
    await once(client, 'open');
    for (const peer of up.ws.server.clients) peer.terminate();
    await Promise.race([once(client, 'close'), sleep(3000)]);
    assert.equal(client.readyState, WebSocket.CLOSED);
  });

  test('upstream leaves before its head: the client gets a 502 upstream_reset page', async () => {
    const page = await getThrough(proxy.port, 'drop.example');
    assert.equal(page.status, 502);
    assert.equal(page.headers['x-gatehouse-error'], 'upstream_reset');
  });

  test('upstream leaves mid-body: the client gets a cut response and a closed connection, not a hang', async () => {
    const socket = await openRaw(proxy.port);
    const started = performance.now();
    const result = collect(socket, { settleMs: 0, timeoutMs: 3000 }, started);
    socket.write('GET /cut HTTP/1.1\r\nHost: cut.example\r\n\r\n');
    const { text, closed, ms } = await result;
    assert.equal(closed, true, 'the connection is closed');
    assert.ok(ms < 2000, `closed after ${Math.round(ms)} ms`);
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    assert.equal(body.length, 1000, 'the client received what was sent and can tell it is short of 100000');
  });

  test('upstream leaves during the upgrade: the client gets a 502 page', async () => {
    const socket = await openRaw(proxy.port);
    const result = collect(socket, { settleMs: 0, timeoutMs: 3000 });
    socket.write(upgradeHead('ws-drop.example'));
    const { text, closed } = await result;
    assert.equal(closed, true);
    const [page] = parseResponses(text);
    assert.equal(page?.status, 502);
    assert.equal(page?.headers['x-gatehouse-error'], 'upstream_reset');
  });

  test('~200 randomized abort points across every kind of exchange', async () => {
    const seed = Number(process.env.GATEHOUSE_ABORT_SEED ?? 20260601);
    const random = mulberry32(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const exchanges = [
      { host: 'echo.example', bytes: 'GET /r HTTP/1.1\r\nHost: echo.example\r\n\r\n' },
      { host: 'slow.example', bytes: 'GET /r HTTP/1.1\r\nHost: slow.example\r\n\r\n' },
      { host: 'stream.example', bytes: 'GET /r HTTP/1.1\r\nHost: stream.example\r\n\r\n' },
      { host: 'cut.example', bytes: 'GET /r HTTP/1.1\r\nHost: cut.example\r\n\r\n' },
      { host: 'drop.example', bytes: 'GET /r HTTP/1.1\r\nHost: drop.example\r\n\r\n' },
      { host: 'echo.example', bytes: `POST /r HTTP/1.1\r\nHost: echo.example\r\nContent-Length: 20000\r\n\r\n${'p'.repeat(20000)}` },
      { host: 'echo.example', bytes: `POST /r HTTP/1.1\r\nHost: echo.example\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n${'q'.repeat(1024)}\r\n0\r\n\r\n` },
      { host: 'ws.example', bytes: upgradeHead('ws.example') },
      { host: 'ws-slow.example', bytes: upgradeHead('ws-slow.example') },
      { host: 'ws-drop.example', bytes: upgradeHead('ws-drop.example') },
      { host: 'nowhere.example', bytes: 'POST /r HTTP/1.1\r\nHost: nowhere.example\r\nContent-Length: 10\r\n\r\n0123456789' },
    ];
    const runOne = async () => {
      const exchange = pick(exchanges);
      const socket = await openRaw(proxy.port);
      socket.resume();
      // Abort at a random byte of the request, or after all of it and a random pause.
      const cutAt = random() < 0.5 ? Math.floor(random() * exchange.bytes.length) : exchange.bytes.length;
      socket.write(exchange.bytes.slice(0, cutAt));
      await sleep(Math.floor(random() * 60));
      if (random() < 0.5) socket.resetAndDestroy();
      else socket.destroy();
    };
    const deadline = performance.now() + 20_000;
    for (let round = 0; round < 20 && performance.now() < deadline; round++) {
      await Promise.all(Array.from({ length: 10 }, runOne));
    }
    // Everything settles: no tunnel left open on either side.
    await waitFor(() => upstreamSide.tunnelsOpen === 0, 'every upstream WebSocket to close', 5000);
    await waitFor(() => proxy.engine.stats().routes.every((r) => r.openWebSockets === 0), 'the open-WebSocket counts to drop', 5000);
  });

  test('stop() is prompt afterwards: no aborted exchange is still counted as in flight', async () => {
    await sleep(400); // the slow upstream's answers and the streams abandoned above finish
    // One more request, then a stop that must not wait out its grace period (500 ms here).
    assert.equal((await getThrough(proxy.port, 'echo.example')).status, 200);
    const stopStarted = performance.now();
    await proxy.stop();
    const stopMs = performance.now() - stopStarted;
    assert.ok(stopMs < 450, `stop() took ${Math.round(stopMs)} ms: an aborted exchange is still counted as active`);
    // afterEach needs an engine: restart on a new port.
    proxy = await startProxy([testRoute('echo', ['echo.example'], up.echo.url)]);
  });
});

/** A small seeded PRNG, so a failing sequence can be replayed with GATEHOUSE_ABORT_SEED. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
