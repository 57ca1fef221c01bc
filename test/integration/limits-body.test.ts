// The per-route request body limit: a Content-Length above it is answered 413 before a byte goes
// upstream; a chunked body that grows past it while streaming is cut, answered 413, and the
// upstream never receives more than the limit; a body within it arrives whole. It holds for this
// machine's network too: it is what the service can take, not a lockout.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { closeClients, clientFrom, openRoute, startGuardedProxy, type GuardedProxy } from '../helpers/limits-harness.js';
import { fetchThrough, parseResponse, rawRequest, startServer, waitUntil, within, type TestServer } from '../helpers/proxy-harness.js';

const LIMIT = 1000;
let upstream: TestServer;
let proxy: GuardedProxy;
/** What the upstream received, per request path: bytes, and whether the body ended. */
const received = new Map<string, { bytes: number; done: boolean }>();

before(async () => {
  upstream = await startServer((req: IncomingMessage, res) => {
    const seen = { bytes: 0, done: false };
    received.set(req.url ?? '', seen);
    req.on('data', (chunk: Buffer) => (seen.bytes += chunk.length));
    req.on('error', () => {});
    req.on('close', () => (seen.done = true));
    req.on('end', () => res.end(`got ${seen.bytes}`));
  });
  proxy = await startGuardedProxy([openRoute('upload', upstream.url, { limits: { requestsPerMinute: 0, loginPerMinute: 0, maxBodyBytes: LIMIT, limitLan: false } })]);
});

after(async () => {
  await closeClients();
  await proxy.stop();
  await upstream.close();
});

test('a declared body above the limit is refused at once, for the LAN too', async () => {
  for (const from of ['127.0.0.6', '127.0.0.1']) {
    const res = await fetchThrough(clientFrom(from), proxy.port, 'upload.test', `/declared-${from}`, { method: 'PUT', body: Buffer.alloc(LIMIT + 1) });
    assert.equal(res.status, 413, from);
    assert.equal(received.has(`/declared-${from}`), false, 'nothing went upstream');
    const entry = await proxy.nextLogged((e) => e.path === `/declared-${from}`);
    assert.equal(entry.error, 'body_too_large');
    assert.equal(entry.rule, `body: at most ${LIMIT} bytes`);
  }
});

test('a body within the limit arrives whole', async () => {
  const res = await fetchThrough(clientFrom('127.0.0.6'), proxy.port, 'upload.test', '/fits', { method: 'PUT', body: Buffer.alloc(LIMIT) });
  assert.equal(res.status, 200);
  assert.equal(res.text, `got ${LIMIT}`);
});

test('a chunked body that grows past the limit is cut: 413, and the upstream got no more than the limit', async () => {
  const chunk = (size: number) => `${size.toString(16)}\r\n${'x'.repeat(size)}\r\n`;
  const socket = connect({ port: proxy.port, host: '127.0.0.1', localAddress: '127.0.0.7' });
  const answer: Buffer[] = [];
  socket.on('data', (data: Buffer) => answer.push(data));
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  // 800 bytes stream through to the upstream while the client is still sending…
  socket.write(`POST /chunked HTTP/1.1\r\nHost: upload.test\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(400)}${chunk(400)}`);
  await waitUntil(() => received.get('/chunked')?.bytes === 800, 3000, 'the first 800 bytes upstream');
  // …then the next 400 take the body past 1000. The last chunk is never sent.
  socket.write(chunk(400));
  await within(closed, 5000, 'the proxy to answer and close');
  const res = parseResponse(Buffer.concat(answer), { closed: true });
  assert.equal(res?.status, 413);
  assert.equal(res?.headers.connection, 'close', 'the rest of the body is never read');
  await waitUntil(() => received.get('/chunked')?.done === true, 3000, 'the upstream request to be dropped');
  const got = received.get('/chunked')?.bytes ?? -1;
  assert.ok(got <= LIMIT, `the upstream received ${got} bytes, more than the ${LIMIT}-byte limit`);
  const entry = await proxy.nextLogged((e) => e.path === '/chunked');
  assert.equal(entry.error, 'body_too_large');
  assert.equal(entry.status, 413);
});

test('a chunked body within the limit streams through', async () => {
  const head = 'POST /chunked-ok HTTP/1.1\r\nHost: upload.test\r\nTransfer-Encoding: chunked\r\n\r\n';
  const res = await rawRequest(proxy.port, `${head}1f4\r\n${'y'.repeat(500)}\r\n1f4\r\n${'y'.repeat(500)}\r\n0\r\n\r\n`);
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), `got ${LIMIT}`);
});
