// The request inspector through a real gateway and real upstreams (docs/inspector.md): off by
// default; once on, requests are captured with secrets masked in everything the API returns,
// bodies kept up to bodyBytes while a 5 MB body streams through unaltered, the ring holds `keep`,
// HTTP/2 requests are captured too, a replay reaches the upstream with the original Authorization,
// Gatehouse's own failures carry their code, the entry survives a restart (the captures do not),
// removing the route prunes it, and the memory held stays bounded.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { CapturedRequest, InspectorView } from '../../shared/insight.js';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { call, rejectsWith, settingsFile } from '../helpers/gateway-calls.js';
import { freePort } from '../helpers/ports.js';
import { localTls } from '../helpers/proxy-harness.js';
import { makeDataDir } from '../helpers/serve.js';
import { requestThrough, startEchoUpstream, startUpstream, type EchoBody, type Upstream } from '../helpers/upstream.js';

const local = localTls();
const SECRET_BEARER = 'Bearer s3cr3t-bearer-9f8e7d6c5b4a';
const SECRET_COOKIE = 'sid=c00kie-value-0123456789';
const SECRET_KEY = 'k3y-abcdefabcdefabcdef';
const SECRET_SESSION = 'sess-zyxwvutsrq';
const SECRET_SET_COOKIE = 'session=upstream-s3t-c00kie; HttpOnly';
const LARGE = 5 * 1024 * 1024;

/** An upstream that streams LARGE random bytes in 64 KiB chunks (GET /large), hashes what it is sent (POST /upload), or echoes. */
async function startBulkUpstream(): Promise<{ url: string; close(): Promise<void>; sentHash: () => string; uploads: { bytes: number; hash: string }[] }> {
  const payload = randomBytes(LARGE);
  const uploads: { bytes: number; hash: string }[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    if (req.url === '/large') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let offset = 0;
      const pump = () => {
        while (offset < payload.length) {
          const chunk = payload.subarray(offset, offset + 65536);
          offset += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    req.on('end', () => {
      const digest = hash.digest('hex');
      uploads.push({ bytes, hash: digest });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${bytes} ${digest}`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    uploads,
    sentHash: () => createHash('sha256').update(payload).digest('hex'),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** GET through the proxy, hashing the answer as it streams (never held whole). */
function hashThrough(port: number, host: string, path: string): Promise<{ status: number; bytes: number; hash: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        bytes += chunk.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, hash: hash.digest('hex') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** POSTs `body` through the proxy in 64 KiB writes. */
function uploadThrough(port: number, host: string, path: string, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { host, 'content-type': 'application/octet-stream' }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (part: string) => (text += part));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    for (let offset = 0; offset < body.length; offset += 65536) req.write(body.subarray(offset, offset + 65536));
    req.end();
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function header(capture: CapturedRequest, side: 'request' | 'response', name: string): string | undefined {
  const list = side === 'request' ? capture.requestHeaders : capture.responseHeaders;
  return list.find(([key]) => key.toLowerCase() === name)?.[1];
}

const decoded = (body: CapturedRequest['requestBody']) => Buffer.from(body.base64, 'base64');

describe('the request inspector through the gateway', () => {
  let dataDir: string;
  let gateway: Gateway;
  let echo: Upstream;
  let secretive: Upstream;
  let bulk: Awaited<ReturnType<typeof startBulkUpstream>>;
  const ports = { http: 0, https: 0 };
  const routeIds = { echo: '', secret: '', bulk: '', h2: '', dead: '' };

  async function open(): Promise<void> {
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    await gateway.startup();
    const status = await call(gateway, 'getStatus');
    assert.equal(status.state, 'running', JSON.stringify(status.problem));
    ports.http = status.http!.port;
    ports.https = status.https!.port;
  }

  /** The route's captures once `count` of them have ended (the log entry comes when the response closes). */
  async function captures(routeId: string, count: number): Promise<InspectorView> {
    return waitFor(`${count} finished captures of ${routeId}`, async () => {
      const view = await call(gateway, 'getInspector', { routeId });
      return view.captures.filter((capture) => capture.phases.totalMs !== null).length >= count ? view : undefined;
    });
  }

  before(async () => {
    dataDir = await makeDataDir();
    echo = await startEchoUpstream('echo');
    secretive = await startUpstreamWithSecrets();
    bulk = await startBulkUpstream();
    await open();
    routeIds.echo = (await call(gateway, 'addRoute', { title: 'Echo', names: ['echo.test'], upstream: echo.url })).id;
    routeIds.secret = (await call(gateway, 'addRoute', { title: 'Secret', names: ['secret.test'], upstream: secretive.url })).id;
    routeIds.bulk = (await call(gateway, 'addRoute', { title: 'Bulk', names: ['bulk.test'], upstream: bulk.url })).id;
    routeIds.h2 = (await call(gateway, 'addRoute', { title: 'H2', names: ['h2.home.arpa'], upstream: echo.url, tls: local })).id;
    routeIds.dead = (await call(gateway, 'addRoute', { title: 'Dead', names: ['dead.test'], upstream: `http://127.0.0.1:${await freePort()}` })).id;
  });

  after(async () => {
    await gateway?.close();
    await Promise.all([echo?.close(), secretive?.close(), bulk?.close()]);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('off by default: nothing is captured; on saves the entry with its defaults', async () => {
    const off = await call(gateway, 'getInspector', { routeId: routeIds.echo });
    assert.equal(off.enabled, false);
    await requestThrough(ports.http, 'echo.test', '/before');
    assert.deepEqual((await call(gateway, 'getInspector', { routeId: routeIds.echo })).captures, []);

    const on = await call(gateway, 'setInspector', { routeId: routeIds.echo, enabled: true });
    assert.deepEqual({ enabled: on.enabled, keep: on.keep, bodyBytes: on.bodyBytes, captures: on.captures }, { enabled: true, keep: 50, bodyBytes: 4096, captures: [] });
    assert.deepEqual((await settingsFile(dataDir)).insight.inspector, [{ routeId: routeIds.echo, keep: 50, bodyBytes: 4096 }]);

    const answer = await requestThrough(ports.http, 'echo.test', '/hello?x=1', { method: 'POST', headers: { 'content-type': 'application/json', 'x-trace': 'abc' }, body: '{"hello":"world"}' });
    assert.equal(answer.status, 200);
    const [capture] = (await captures(routeIds.echo, 1)).captures;
    assert.ok(capture);
    assert.equal(capture.method, 'POST');
    assert.equal(capture.path, '/hello?x=1');
    assert.equal(capture.host, 'echo.test');
    assert.equal(capture.client, '127.0.0.1');
    assert.equal(capture.status, 200);
    assert.equal(capture.upstream, echo.address);
    assert.equal(capture.error, null);
    assert.equal(capture.replay, false);
    assert.equal(header(capture, 'request', 'x-trace'), 'abc');
    assert.equal(decoded(capture.requestBody).toString(), '{"hello":"world"}');
    assert.deepEqual({ ...capture.requestBody, base64: '' }, { base64: '', totalBytes: 17, truncated: false, contentType: 'application/json' });
    // The response body is the echo's JSON, kept whole (it is under 4096 bytes).
    assert.equal((JSON.parse(decoded(capture.responseBody).toString()) as EchoBody).url, '/hello?x=1');
    assert.equal(capture.responseBody.totalBytes, Buffer.byteLength(answer.body));
    assert.equal(capture.responseBody.contentType, 'application/json');
    assert.equal(header(capture, 'response', 'x-upstream'), 'echo');
    const { connectedMs, headersMs, totalMs } = capture.phases;
    assert.ok(connectedMs !== null && headersMs !== null && totalMs !== null, JSON.stringify(capture.phases));
    assert.ok(connectedMs <= headersMs && headersMs <= totalMs, `phases in order: ${JSON.stringify(capture.phases)}`);
  });

  test('secrets are masked in everything the API returns, in both directions, and never appear in it', async () => {
    await call(gateway, 'setInspector', { routeId: routeIds.secret, enabled: true });
    const answer = await requestThrough(ports.http, 'secret.test', '/private', {
      headers: { authorization: SECRET_BEARER, cookie: SECRET_COOKIE, 'x-api-key': SECRET_KEY, 'x-my-session-id': SECRET_SESSION, 'x-plain': 'shown' },
    });
    assert.equal(answer.status, 200);
    const view = await captures(routeIds.secret, 1);
    const [capture] = view.captures;
    assert.ok(capture);
    assert.equal(header(capture, 'request', 'authorization'), `••• masked (${SECRET_BEARER.length} characters)`);
    assert.equal(header(capture, 'request', 'cookie'), `••• masked (${SECRET_COOKIE.length} characters)`);
    assert.equal(header(capture, 'request', 'x-api-key'), `••• masked (${SECRET_KEY.length} characters)`);
    assert.equal(header(capture, 'request', 'x-my-session-id'), `••• masked (${SECRET_SESSION.length} characters)`);
    assert.equal(header(capture, 'request', 'x-plain'), 'shown');
    assert.equal(header(capture, 'response', 'set-cookie'), `••• masked (${SECRET_SET_COOKIE.length} characters)`);
    assert.equal(header(capture, 'response', 'x-refresh-token'), `••• masked (${'rt-98765'.length} characters)`);
    // The client got the real Set-Cookie: the inspector changed nothing.
    assert.deepEqual(answer.headers['set-cookie'], [SECRET_SET_COOKIE]);
    const json = JSON.stringify(view);
    for (const secret of [SECRET_BEARER, 's3cr3t-bearer', SECRET_COOKIE, 'c00kie-value', SECRET_KEY, SECRET_SESSION, 'upstream-s3t-c00kie', 'rt-98765']) {
      assert.ok(!json.includes(secret), `the API answer contains ${secret}`);
    }
  });

  test('bodies are kept up to bodyBytes; the upstream and the client get them whole', async () => {
    await call(gateway, 'setInspector', { routeId: routeIds.echo, enabled: true, bodyBytes: 100 });
    assert.deepEqual((await settingsFile(dataDir)).insight.inspector.find((entry) => entry.routeId === routeIds.echo), { routeId: routeIds.echo, keep: 50, bodyBytes: 100 });
    await call(gateway, 'clearInspector', { routeId: routeIds.echo });
    const body = 'abcdefghij'.repeat(100);
    const answer = await requestThrough(ports.http, 'echo.test', '/truncate', { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
    assert.equal((JSON.parse(answer.body) as EchoBody).body, body, 'the upstream got all 1000 bytes');
    const [capture] = (await captures(routeIds.echo, 1)).captures;
    assert.ok(capture);
    assert.equal(decoded(capture.requestBody).toString(), body.slice(0, 100));
    assert.equal(capture.requestBody.totalBytes, 1000);
    assert.equal(capture.requestBody.truncated, true);
    assert.equal(decoded(capture.responseBody).length, 100);
    assert.equal(capture.responseBody.totalBytes, Buffer.byteLength(answer.body));
    assert.equal(capture.responseBody.truncated, true);

    // A truncated body cannot be replayed faithfully: refused, saying why.
    const refused = await rejectsWith(call(gateway, 'replayRequest', { routeId: routeIds.echo, captureId: capture.id }), 'conflict');
    assert.match(refused.message, /1000 bytes.*longer than the 100 bytes kept/);
  });

  test('a 5 MB download and a 5 MB upload stream through unaltered while only bodyBytes are kept', async () => {
    await call(gateway, 'setInspector', { routeId: routeIds.bulk, enabled: true, bodyBytes: 2048, keep: 5 });
    const download = await hashThrough(ports.http, 'bulk.test', '/large');
    assert.equal(download.status, 200);
    assert.equal(download.bytes, LARGE);
    assert.equal(download.hash, bulk.sentHash(), 'the client got exactly the bytes the upstream sent');

    const upload = randomBytes(LARGE);
    const uploaded = await uploadThrough(ports.http, 'bulk.test', '/upload', upload);
    assert.equal(uploaded.status, 200);
    assert.equal(uploaded.text, `${LARGE} ${createHash('sha256').update(upload).digest('hex')}`, 'the upstream got exactly the bytes the client sent');

    const view = await captures(routeIds.bulk, 2);
    const [up, down] = view.captures;
    assert.ok(up && down);
    assert.equal(down.path, '/large');
    assert.equal(down.responseBody.totalBytes, LARGE);
    assert.equal(decoded(down.responseBody).length, 2048);
    assert.equal(down.responseBody.truncated, true);
    assert.equal(down.responseBody.contentType, null, 'octet-stream is not text');
    assert.equal(up.path, '/upload');
    assert.equal(up.requestBody.totalBytes, LARGE);
    assert.deepEqual(decoded(up.requestBody), upload.subarray(0, 2048));
    assert.ok(view.bytesHeld < 64 * 1024, `two captures of 5 MB exchanges hold ${view.bytesHeld} bytes`);
  });

  test('the ring keeps the newest `keep` captures, newest first, and memory stays bounded', async () => {
    await call(gateway, 'setInspector', { routeId: routeIds.echo, enabled: true, keep: 3, bodyBytes: 1024 });
    await call(gateway, 'clearInspector', { routeId: routeIds.echo });
    const big = 'x'.repeat(50_000);
    for (let i = 0; i < 12; i++) await requestThrough(ports.http, 'echo.test', `/r${i}`, { method: 'POST', body: big });
    const view = await waitFor('the newest capture to end', async () => {
      const current = await call(gateway, 'getInspector', { routeId: routeIds.echo });
      return current.captures[0]?.path === '/r11' && current.captures[0].phases.totalMs !== null ? current : undefined;
    });
    assert.deepEqual(view.captures.map((capture) => capture.path), ['/r11', '/r10', '/r9']);
    // 3 captures × (1024 request + 1024 response bytes + heads): far below the 12 × 100 KB that went by.
    assert.ok(view.bytesHeld > 3 * 2048 && view.bytesHeld < 3 * 8 * 1024, `bytesHeld ${view.bytesHeld}`);
  });

  test('HTTP/2 requests are captured through the same engine', async () => {
    await call(gateway, 'setInspector', { routeId: routeIds.h2, enabled: true });
    const session = http2Connect(`https://127.0.0.1:${ports.https}`, { servername: 'h2.home.arpa', rejectUnauthorized: false });
    session.on('error', () => {});
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/over-h2', ':authority': 'h2.home.arpa', authorization: SECRET_BEARER, 'content-type': 'text/plain' });
      stream.end('h2 body');
      let status = 0;
      let text = '';
      stream.on('response', (headers) => (status = Number(headers[':status'])));
      stream.setEncoding('utf8').on('data', (part: string) => (text += part));
      await once(stream, 'end');
      assert.equal(status, 200);
      assert.equal((JSON.parse(text) as EchoBody).body, 'h2 body');
    } finally {
      session.close();
    }
    const [capture] = (await captures(routeIds.h2, 1)).captures;
    assert.ok(capture);
    assert.equal(capture.method, 'POST');
    assert.equal(capture.path, '/over-h2');
    assert.equal(capture.host, 'h2.home.arpa');
    assert.equal(capture.status, 200);
    assert.equal(decoded(capture.requestBody).toString(), 'h2 body');
    assert.ok(!capture.requestHeaders.some(([name]) => name.startsWith(':')), 'pseudo-headers are not listed as headers');
    assert.equal(header(capture, 'request', 'authorization'), `••• masked (${SECRET_BEARER.length} characters)`);
    assert.equal((JSON.parse(decoded(capture.responseBody).toString()) as EchoBody).url, '/over-h2');

    // Replayed over HTTPS with the same name: the upstream sees the original Authorization again.
    const before = echo.requests.length;
    const { capture: replayed } = await call(gateway, 'replayRequest', { routeId: routeIds.h2, captureId: capture.id });
    assert.equal(replayed.replay, true);
    assert.equal(replayed.status, 200);
    assert.equal(echo.requests.length, before + 1);
    assert.equal(echo.requests.at(-1)?.headers.authorization, SECRET_BEARER);
    assert.equal(echo.requests.at(-1)?.headers['x-forwarded-proto'], 'https');
    assert.equal(echo.requests.at(-1)?.body, 'h2 body');
  });

  test('a replay reaches the real upstream with the original headers and body, and its answer is shown', async () => {
    await call(gateway, 'setInspector', { routeId: routeIds.echo, enabled: true, keep: 10, bodyBytes: 4096 });
    await call(gateway, 'clearInspector', { routeId: routeIds.echo });
    await requestThrough(ports.http, 'echo.test', '/replay-me?q=1', { method: 'PUT', headers: { authorization: SECRET_BEARER, 'content-type': 'application/json', 'x-order': 'first' }, body: '{"n":1}' });
    const [original] = (await captures(routeIds.echo, 1)).captures;
    assert.ok(original);
    const before = echo.requests.length;
    const result = await call(gateway, 'replayRequest', { routeId: routeIds.echo, captureId: original.id });
    assert.equal(echo.requests.length, before + 1);
    const seen = echo.requests.at(-1)!;
    assert.equal(seen.method, 'PUT');
    assert.equal(seen.url, '/replay-me?q=1');
    assert.equal(seen.headers.authorization, SECRET_BEARER, 'the upstream sees the original Authorization');
    assert.equal(seen.headers['x-order'], 'first');
    assert.equal(seen.headers.host, 'echo.test');
    assert.equal(seen.body, '{"n":1}');

    const { capture } = result;
    assert.equal(capture.replay, true);
    assert.notEqual(capture.id, original.id);
    assert.equal(capture.status, 200);
    assert.equal(capture.method, 'PUT');
    assert.equal((JSON.parse(decoded(capture.responseBody).toString()) as EchoBody).body, '{"n":1}');
    assert.ok(!JSON.stringify(result).includes('s3cr3t'), 'the replay answer masks the secret too');
    const listed = await call(gateway, 'getInspector', { routeId: routeIds.echo });
    assert.deepEqual(listed.captures.map((entry) => entry.replay), [true, false], 'the replay is captured, marked, newest first');

    await rejectsWith(call(gateway, 'replayRequest', { routeId: routeIds.echo, captureId: 'nope' }), 'not_found');
  });

  test('Gatehouse\'s own answer is captured with its code', async () => {
    await call(gateway, 'setInspector', { routeId: routeIds.dead, enabled: true });
    const answer = await requestThrough(ports.http, 'dead.test', '/down');
    assert.equal(answer.status, 502);
    const [capture] = (await captures(routeIds.dead, 1)).captures;
    assert.ok(capture);
    assert.equal(capture.status, 502);
    assert.equal(capture.error, 'upstream_refused');
    assert.equal(capture.phases.headersMs, null);
    assert.ok((capture.responseBody.totalBytes ?? 0) > 0, 'the error page is kept');

    // Replayed after the route lost that name: no route answers it now, so the replay is refused
    // before anything is sent (the captured credentials must never reach another route).
    const route = await call(gateway, 'getRoute', { id: routeIds.dead });
    await call(gateway, 'updateRoute', { ...route, names: ['dead-renamed.test'] });
    try {
      const refused = await rejectsWith(call(gateway, 'replayRequest', { routeId: routeIds.dead, captureId: capture.id }), 'conflict');
      assert.match(refused.message, /no route answers that name now.*nothing was sent/);
    } finally {
      await call(gateway, 'updateRoute', route);
    }
  });

  test('turning it off drops the captures and the entry; unknown routes are not_found', async () => {
    await requestThrough(ports.http, 'dead.test', '/again');
    await captures(routeIds.dead, 1);
    const off = await call(gateway, 'setInspector', { routeId: routeIds.dead, enabled: false });
    assert.deepEqual({ enabled: off.enabled, captures: off.captures }, { enabled: false, captures: [] });
    assert.ok(!(await settingsFile(dataDir)).insight.inspector.some((entry) => entry.routeId === routeIds.dead));
    await requestThrough(ports.http, 'dead.test', '/after-off');
    assert.deepEqual((await call(gateway, 'getInspector', { routeId: routeIds.dead })).captures, []);
    await rejectsWith(call(gateway, 'getInspector', { routeId: 'nosuchroute' }), 'not_found');
    await rejectsWith(call(gateway, 'setInspector', { routeId: 'nosuchroute', enabled: true }), 'not_found');
    await rejectsWith(call(gateway, 'clearInspector', { routeId: 'nosuchroute' }), 'not_found');
  });

  test('a replay is refused while the proxy is stopped', async () => {
    await requestThrough(ports.http, 'echo.test', '/stopped');
    const view = await captures(routeIds.echo, 1);
    const capture = view.captures.find((entry) => entry.path === '/stopped')!;
    await call(gateway, 'stopProxy');
    try {
      const refused = await rejectsWith(call(gateway, 'replayRequest', { routeId: routeIds.echo, captureId: capture.id }), 'conflict');
      assert.match(refused.message, /proxy is stopped/);
    } finally {
      await call(gateway, 'startProxy');
      const status = await call(gateway, 'getStatus');
      ports.http = status.http!.port;
      ports.https = status.https!.port;
    }
  });

  test('the entry survives a restart, its captures do not; removing the route prunes it in the same save', async () => {
    await requestThrough(ports.http, 'echo.test', '/before-restart');
    assert.ok((await captures(routeIds.echo, 1)).captures.length > 0);
    await gateway.close();
    await open();
    const after = await call(gateway, 'getInspector', { routeId: routeIds.echo });
    assert.deepEqual({ enabled: after.enabled, keep: after.keep, bodyBytes: after.bodyBytes, captures: after.captures }, { enabled: true, keep: 10, bodyBytes: 4096, captures: [] });
    await requestThrough(ports.http, 'echo.test', '/after-restart');
    assert.equal((await captures(routeIds.echo, 1)).captures[0]?.path, '/after-restart');

    await call(gateway, 'removeRoute', { id: routeIds.echo });
    const saved = await settingsFile(dataDir);
    assert.ok(!saved.routes.some((route) => route.id === routeIds.echo));
    assert.ok(!saved.insight.inspector.some((entry) => entry.routeId === routeIds.echo), 'the entry went with the route');
    assert.ok(saved.insight.inspector.some((entry) => entry.routeId === routeIds.secret), 'other routes keep theirs');
    await rejectsWith(call(gateway, 'getInspector', { routeId: routeIds.echo }), 'not_found');
    // A gateway opened on what was saved accepts it (no dangling entry for the schema to refuse).
    await gateway.close();
    await open();
    assert.equal((await call(gateway, 'getInspector', { routeId: routeIds.secret })).enabled, true);
  });
});

/** An upstream that answers with a session cookie and a token header. */
function startUpstreamWithSecrets(): Promise<Upstream> {
  return startUpstream((_req, res) => {
    res.writeHead(200, { 'set-cookie': SECRET_SET_COOKIE, 'x-refresh-token': 'rt-98765', 'content-type': 'text/plain' });
    res.end('private page');
  });
}
