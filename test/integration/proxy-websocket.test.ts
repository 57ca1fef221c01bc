// WebSocket through the proxy with the `ws` package on both ends: echo of text, binary and a 5 MB
// message; the upstream sees the client's Host and X-Forwarded-For; a refusal from the upstream is
// relayed; a route with WebSocket off refuses; h2c is ignored (answered over HTTP/1.1); and nothing is tunnelled
// before the upstream answers 101.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { needTools } from '../helpers/tools.js';
import {
  closeWs,
  openWs,
  proxySettings,
  rawRequest,
  roundTrip,
  route,
  run,
  sleep,
  startProxy,
  startWsUpstream,
  within,
  type Echoed,
  type RunningProxy,
  type WsUpstream,
} from '../helpers/proxy-harness.js';

const WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** The HTTP answer to an upgrade the proxy or upstream refused. */
function refusal(port: number, host: string, path: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return within(
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { host } });
      ws.once('open', () => {
        ws.terminate();
        reject(new Error('the upgrade was accepted'));
      });
      ws.once('unexpected-response', (req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() });
        });
      });
      ws.once('error', reject);
    }),
    5000,
    `the refusal of ${host}${path}`,
  );
}

describe('WebSocket through the proxy', () => {
  let upstream: WsUpstream;
  let proxy: RunningProxy;

  before(async () => {
    upstream = await startWsUpstream();
    proxy = await startProxy([
      route('app', upstream.url, ['app.test']),
      route('nows', upstream.url, ['nows.test'], { websocket: false }),
    ]);
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  test('text and binary messages echo through, and a 5 MB message arrives intact', async () => {
    const ws = await openWs(proxy.port, 'app.test');
    try {
      const text = await roundTrip(ws, 'hello through the proxy');
      assert.equal(text.isBinary, false);
      assert.equal(text.data.toString(), 'hello through the proxy');
      const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const binary = await roundTrip(ws, everyByte);
      assert.equal(binary.isBinary, true);
      assert.deepEqual(binary.data, everyByte);
      const big = randomBytes(5 * 1024 * 1024);
      const echoed = await roundTrip(ws, big);
      assert.equal(echoed.isBinary, true);
      assert.equal(echoed.data.length, big.length);
      assert.ok(echoed.data.equals(big), 'the 5 MB message came back different');
    } finally {
      await closeWs(ws);
    }
    const entry = await proxy.nextLogged((e) => e.status === 101 && e.host === 'app.test');
    assert.equal(entry.routeId, 'app');
    assert.ok(entry.bytes >= 5 * 1024 * 1024, `the log counted ${entry.bytes} bytes to the client`);
  });

  test('the upstream sees the client\'s Host and who the client is', async () => {
    const before = upstream.upgrades.length;
    const ws = await openWs(proxy.port, 'App.Test:8080', '/echo?room=1');
    await closeWs(ws);
    const seen = upstream.upgrades[before];
    assert.ok(seen, 'the upstream saw no upgrade');
    assert.equal(seen.url, '/echo?room=1');
    assert.equal(seen.headers.host, 'App.Test:8080');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], 'App.Test:8080');
    assert.equal(seen.headers.upgrade?.toLowerCase(), 'websocket');
    assert.ok(seen.headers['sec-websocket-key'], 'the WebSocket key did not reach the upstream');
  });

  test('an upstream that refuses the upgrade with 403 is relayed as its 403', async () => {
    const res = await refusal(proxy.port, 'app.test', '/refuse');
    assert.equal(res.status, 403);
    assert.equal(res.headers['x-reason'], 'no-token');
    assert.equal(res.headers['x-gatehouse-error'], undefined, 'the proxy answered instead of relaying');
    assert.equal(res.body, 'upstream says: nope');
  });

  test('a route with WebSocket turned off answers 403 websocket_disabled and never asks the upstream', async () => {
    const before = upstream.upgrades.length;
    const res = await refusal(proxy.port, 'nows.test', '/echo');
    assert.equal(res.status, 403);
    assert.equal(res.headers['x-gatehouse-error'], 'websocket_disabled');
    assert.match(res.body, /WebSocket is turned off/);
    assert.equal(upstream.upgrades.length, before);
  });

  test('an upgrade to h2c is ignored: answered over HTTP/1.1, never tunnelled, Upgrade not forwarded', async () => {
    const before = upstream.upgrades.length;
    const res = await rawRequest(
      proxy.port,
      'GET /h2c HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
    );
    assert.equal(res.status, 200, res.head);
    assert.match(res.head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(upstream.upgrades.length, before, 'the h2c upgrade reached the upstream');
    const echoed = JSON.parse(res.body.toString()) as Echoed;
    assert.equal(echoed.url, '/h2c');
    assert.equal(echoed.headers.upgrade, undefined);
    assert.equal(echoed.headers['http2-settings'], undefined);
  });

  test('an h2c upgrade that carries a body is refused (its body cannot be read once upgraded)', async () => {
    const before = upstream.upgrades.length;
    const res = await rawRequest(
      proxy.port,
      'POST /h2c HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nContent-Length: 5\r\n\r\nhello',
    );
    assert.equal(res.status, 400, res.head);
    assert.equal(res.headers['x-gatehouse-error'], 'upgrade_refused');
    assert.equal(upstream.upgrades.length, before);
  });

  test('curl --http2 against the http listener is never switched to h2c', { skip: needTools('curl') }, async () => {
    const before = upstream.upgrades.length;
    const port = proxy.port;
    const out = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', '--http2', '--resolve', `app.test:${port}:127.0.0.1`, `http://app.test:${port}/curl`]);
    assert.equal(out.code, 0, out.stderr);
    const [version, code] = out.stdout.split(' ');
    assert.equal(version, '1.1', `curl ended up speaking HTTP/${version}`);
    assert.equal(code, '200', `curl got ${code}`);
    assert.equal(upstream.upgrades.length, before, 'the h2c upgrade reached the upstream');
  });
});

describe('WebSocket before the upstream answers', () => {
  let upstream: WsUpstream;
  let proxy: RunningProxy;

  before(async () => {
    upstream = await startWsUpstream();
    proxy = await startProxy([route('app', upstream.url, ['app.test'])], { settings: proxySettings({ timeouts: { upstreamHeadersMs: 300 } }) });
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  test('an upstream that never answers the upgrade gets a 504 after upstreamHeadersMs, and no client bytes reach it', async () => {
    const started = performance.now();
    const res = await rawRequest(
      proxy.port,
      'GET /silent HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${WS_KEY}\r\n\r\n` +
        'EARLY-FRAME-BYTES',
      { ms: 5000 },
    );
    const elapsed = performance.now() - started;
    assert.equal(res.status, 504, res.head);
    assert.equal(res.headers['x-gatehouse-error'], 'upstream_timeout');
    assert.ok(elapsed >= 250, `the 504 came after ${Math.round(elapsed)} ms, before the timeout`);
    await sleep(100);
    assert.equal(upstream.upgrades.length, 1);
    assert.equal(Buffer.concat(upstream.silentData).toString(), '', 'bytes were tunnelled before the upstream answered 101');
  });

  test('a frame sent together with the upgrade request is delivered once the upstream answers 101', async () => {
    // One masked text frame, as a client may pipeline it right behind its upgrade request.
    const payload = Buffer.from('sent early');
    const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
    const masked = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] as number)));
    const frame = Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
    const head = Buffer.from(
      'GET /echo HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${WS_KEY}\r\n\r\n`,
    );
    const socket = connect(proxy.port, '127.0.0.1');
    try {
      let received = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
      socket.write(Buffer.concat([head, frame]));
      const echo = Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
      await within(
        (async () => {
          while (!received.includes(echo)) await sleep(10);
        })(),
        3000,
        'the echoed early frame',
      ).catch((error: Error) => assert.fail(`${error.message}; received ${JSON.stringify(received.toString('latin1'))}`));
      assert.match(received.toString('latin1'), /^HTTP\/1\.1 101 /);
      assert.ok(received.indexOf(echo) > received.indexOf('\r\n\r\n'), 'the frame came back before the 101 head');
    } finally {
      socket.destroy();
    }
  });
});
