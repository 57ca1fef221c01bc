// The body limit over HTTP/2, where a body need not declare its length: a stream that grows past
// the limit is answered 413 and the upstream receives no more than the limit; a declared length
// above it is refused before anything goes upstream; the connection carries on for other streams.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { connect, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { after, before, test } from 'node:test';
import { defaultAccessSettings } from '../../shared/access.js';
import { AccessRuntime } from '../../src-main/core/access/access-runtime.js';
import { OnlyLocalhost, openRoute } from '../helpers/limits-harness.js';
import { startServer, waitUntil, within, type TestServer } from '../helpers/proxy-harness.js';
import { openTestCa, startTlsProxy, TestCertificates, type RunningTlsProxy, type TestCa } from '../helpers/tls-proxy.js';

const LIMIT = 1000;
const HOST = 'upload.home.arpa';
let ca: TestCa;
let upstream: TestServer;
let runtime: AccessRuntime;
let proxy: RunningTlsProxy;
let session: ClientHttp2Session;
const received = new Map<string, { bytes: number; done: boolean }>();

before(async () => {
  ca = await openTestCa();
  upstream = await startServer((req: IncomingMessage, res) => {
    const seen = { bytes: 0, done: false };
    received.set(req.url ?? '', seen);
    req.on('data', (chunk: Buffer) => (seen.bytes += chunk.length));
    req.on('error', () => {});
    req.on('close', () => (seen.done = true));
    req.on('end', () => res.end(`got ${seen.bytes}`));
  });
  const certs = new TestCertificates(await ca.leaf(['gatehouse.home.arpa']));
  certs.byRoute.set('upload', await ca.leaf([HOST]));
  const ownNetworks = new OnlyLocalhost();
  runtime = await AccessRuntime.open({ dataDir: ca.dir, ownNetworks, settings: defaultAccessSettings() });
  const upload = openRoute('upload', upstream.url, { limits: { requestsPerMinute: 0, loginPerMinute: 0, maxBodyBytes: LIMIT, limitLan: false } });
  proxy = await startTlsProxy([{ ...upload, names: [HOST] }], certs, { engine: { passesFor: runtime.passesFor, ownNetworks } });
  session = connect(`https://127.0.0.1:${proxy.httpsPort}`, { ca: await readFile(ca.caPath, 'utf8'), servername: HOST });
  session.on('error', () => {});
});

after(async () => {
  session.destroy();
  await proxy.stop();
  await runtime.close();
  await upstream.close();
  await ca.remove();
});

function answer(stream: ClientHttp2Stream): Promise<{ headers: IncomingHttpHeaders; body: string }> {
  return within(
    new Promise((resolve, reject) => {
      let headers: IncomingHttpHeaders = {};
      let body = '';
      stream.on('response', (h) => (headers = h));
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => (body += text));
      stream.on('end', () => resolve({ headers, body }));
      stream.on('error', reject);
    }),
    5000,
    'the HTTP/2 answer',
  );
}

test('a stream without a length that grows past the limit: 413, the upstream got at most the limit', async () => {
  const stream = session.request({ ':method': 'POST', ':path': '/h2-stream', ':authority': HOST });
  const answered = answer(stream);
  stream.write(Buffer.alloc(800, 'x'));
  await waitUntil(() => received.get('/h2-stream')?.bytes === 800, 3000, 'the first 800 bytes upstream');
  stream.write(Buffer.alloc(400, 'x'));
  const { headers } = await answered;
  assert.equal(headers[':status'], 413);
  await waitUntil(() => received.get('/h2-stream')?.done === true, 3000, 'the upstream request to be dropped');
  assert.ok((received.get('/h2-stream')?.bytes ?? -1) <= LIMIT, `the upstream received ${received.get('/h2-stream')?.bytes} bytes`);
  const entry = await proxy.nextLogged((e) => e.path === '/h2-stream');
  assert.equal(entry.error, 'body_too_large');
});

test('a declared length above the limit is refused before anything goes upstream; the connection carries on', async () => {
  const stream = session.request({ ':method': 'PUT', ':path': '/h2-declared', ':authority': HOST, 'content-length': String(LIMIT + 1) });
  const answered = answer(stream);
  stream.end(Buffer.alloc(LIMIT + 1));
  assert.equal((await answered).headers[':status'], 413);
  assert.equal(received.has('/h2-declared'), false);
  const fits = session.request({ ':method': 'PUT', ':path': '/h2-fits', ':authority': HOST });
  const fitted = answer(fits);
  fits.end(Buffer.alloc(LIMIT));
  const { headers, body } = await fitted;
  assert.equal(headers[':status'], 200);
  assert.equal(body, `got ${LIMIT}`);
});
