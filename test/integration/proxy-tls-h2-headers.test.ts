// Response headers an HTTP/1.1 upstream may send but HTTP/2 cannot carry as they are: a repeated
// header HTTP/2 allows once (Location, Content-Type, …) and connection-specific ones (HTTP2-Settings).
// Over a real HTTP/2 connection the client gets the answer with the first value kept and the
// connection-specific headers dropped: no hang, no 502, and a healthy upstream is not marked down.
// A head Node still refuses is Gatehouse's own failure (response_invalid), never the service's.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { after, before, test } from 'node:test';
import type { PassiveHealth } from '../../src-main/core/proxy/health.js';
import { HTTP2_SINGLE_VALUE_HEADERS } from '../../src-main/core/proxy/request-head.js';
import { route, startServer, within, type TestServer } from '../helpers/proxy-harness.js';
import { httpsGet } from '../helpers/tls-clients.js';
import { openTestCa, startTlsProxy, TestCertificates, type RunningTlsProxy, type TestCa } from '../helpers/tls-proxy.js';

let ca: TestCa;
let upstream: TestServer;
let proxy: RunningTlsProxy;
/** Answers every request with a status line whose reason phrase Node will not write ("Ok ✓"). */
let oddReason: TcpServer;
const failures: string[] = [];
const health: PassiveHealth = { answered() {}, failed: (address) => void failures.push(address) };

/** What the upstream answers for each path: the status and the raw header lines it sends. */
const answers: Record<string, [number, [string, string][]]> = {
  '/two-locations': [302, [['Location', '/first'], ['Location', '/second']]],
  '/http2-settings': [200, [['Content-Type', 'text/plain'], ['HTTP2-Settings', 'AAMAAABkAAQAAP__']]],
  '/two-content-types': [200, [['Content-Type', 'text/plain'], ['Content-Type', 'text/html']]],
  '/two-nosniff': [200, [['X-Content-Type-Options', 'nosniff'], ['X-Content-Type-Options', 'nosniff']]],
  '/keep-alive': [200, [['Keep-Alive', 'timeout=5'], ['Proxy-Connection', 'keep-alive'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]],
};

before(async () => {
  ca = await openTestCa();
  const certs = new TestCertificates(await ca.leaf(['gatehouse.home.arpa']));
  certs.byRoute.set('app', await ca.leaf(['app.home.arpa']));
  upstream = await startServer((req: IncomingMessage, res: ServerResponse) => {
    const [status, lines] = answers[req.url ?? ''] ?? [404, []];
    const flat = lines.flat();
    // writeHead with a flat [name, value, …] list sends every line as given, repeats included.
    res.writeHead(status, flat);
    res.end('body');
  });
  oddReason = createTcpServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.end(Buffer.from('HTTP/1.1 200 Ok \u2713\r\ncontent-length: 2\r\n\r\nhi', 'utf8')));
  });
  oddReason.listen(0, '127.0.0.1');
  await new Promise((resolve) => oddReason.once('listening', resolve));
  certs.byRoute.set('odd', await ca.leaf(['odd.home.arpa']));
  const tls = { mode: 'local' as const, certificateId: null, redirectHttp: false, hsts: false };
  const oddUpstream = `http://127.0.0.1:${(oddReason.address() as { port: number }).port}`;
  proxy = await startTlsProxy(
    [route('app', upstream.url, ['app.home.arpa'], { tls }), route('odd', oddUpstream, ['odd.home.arpa'], { tls: { ...tls, hsts: true } })],
    certs,
    { engine: { health } },
  );
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
  oddReason?.close();
  await ca?.remove();
});

async function h2Session(): Promise<ClientHttp2Session> {
  const session = connect(`https://127.0.0.1:${proxy.httpsPort}`, { ca: await readFile(ca.caPath, 'utf8'), servername: 'app.home.arpa' });
  session.on('error', () => {});
  return session;
}

function h2Get(session: ClientHttp2Session, path: string): Promise<{ headers: IncomingHttpHeaders; body: string }> {
  const answer = new Promise<{ headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const stream = session.request({ ':path': path, ':authority': 'app.home.arpa' });
    let headers: IncomingHttpHeaders = {};
    let body = '';
    stream.on('response', (received) => (headers = received));
    stream.setEncoding('utf8').on('data', (text: string) => (body += text));
    stream.on('end', () => resolve({ headers, body }));
    stream.on('error', reject);
  });
  return within(answer, 5000, `an HTTP/2 answer for ${path}`);
}

test('a 302 with two Location headers reaches an HTTP/2 client with the first one', async () => {
  const session = await h2Session();
  try {
    const { headers } = await h2Get(session, '/two-locations');
    assert.equal(headers[':status'], 302);
    assert.equal(headers.location, '/first');
  } finally {
    session.close();
  }
});

test('HTTP2-Settings and other connection-specific headers from the upstream are dropped over HTTP/2', async () => {
  const session = await h2Session();
  try {
    const settings = await h2Get(session, '/http2-settings');
    assert.equal(settings.headers[':status'], 200);
    assert.equal(settings.headers['http2-settings'], undefined);
    assert.equal(settings.body, 'body');
    const legacy = await h2Get(session, '/keep-alive');
    assert.equal(legacy.headers[':status'], 200);
    assert.equal(legacy.headers['keep-alive'], undefined);
    assert.equal(legacy.headers['proxy-connection'], undefined);
    assert.deepEqual(legacy.headers['set-cookie'], ['a=1', 'b=2'], 'headers HTTP/2 allows repeated stay repeated');
  } finally {
    session.close();
  }
});

test('two Content-Type or two X-Content-Type-Options: the answer passes with the first, the upstream stays up', async () => {
  failures.length = 0;
  const session = await h2Session();
  try {
    const type = await h2Get(session, '/two-content-types');
    assert.equal(type.headers[':status'], 200);
    assert.equal(type.headers['content-type'], 'text/plain');
    assert.equal(type.body, 'body');
    const nosniff = await h2Get(session, '/two-nosniff');
    assert.equal(nosniff.headers[':status'], 200);
    assert.equal(nosniff.headers['x-content-type-options'], 'nosniff');
  } finally {
    session.close();
  }
  const entry = await proxy.nextLogged((e) => e.path === '/two-content-types');
  assert.equal(entry.status, 200);
  assert.equal(entry.error, null);
  assert.deepEqual(failures, [], 'the upstream was not reported as failing');
});

test('a head Node refuses to write is answered 502 response_invalid, and the upstream stays up', async () => {
  failures.length = 0;
  // HTTPS with HSTS: a header is set on the response before the upstream's head is tried.
  const answer = await httpsGet(proxy.httpsPort, 'odd.home.arpa', ca.caPath);
  assert.equal(answer.status, 502);
  assert.equal(answer.headers['x-gatehouse-error'], 'response_invalid');
  assert.match(answer.body, /answered with a status line or header Gatehouse cannot pass on/);
  const entry = await proxy.nextLogged((e) => e.routeId === 'odd');
  assert.equal(entry.error, 'response_invalid');
  assert.deepEqual(failures, [], 'the upstream answered: it is not reported as failing');
  // The connection and the listener carry on.
  assert.equal((await httpsGet(proxy.httpsPort, 'app.home.arpa', ca.caPath, { path: '/two-nosniff' })).status, 200);
});

test('the list of single-value headers is the one Node enforces', async (t) => {
  // Node does not export its list; this pins ours to what this Node refuses, so a Node that adds
  // one (the Electron main process runs a newer Node than the tests) fails here, not in production.
  const { createServer } = await import('node:http2');
  const server = createServer();
  const refused: string[] = [];
  server.on('stream', (stream, headers) => {
    const name = headers['x-name'] as string;
    try {
      stream.respond({ [name]: ['a', 'b'] });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_HTTP2_HEADER_SINGLE_VALUE') refused.push(name);
      stream.respond();
    }
    stream.end();
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  t.after(() => server.close());
  const session = connect(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  const names = Object.entries(constants)
    .filter(([key, value]) => key.startsWith('HTTP2_HEADER_') && typeof value === 'string' && !value.startsWith(':'))
    .map(([, value]) => value as string);
  for (const name of new Set([...names, ...HTTP2_SINGLE_VALUE_HEADERS])) {
    await new Promise<void>((resolve) => {
      const stream = session.request({ ':path': '/', 'x-name': name });
      stream.on('error', () => {});
      stream.resume().on('close', () => resolve());
    });
  }
  session.close();
  assert.deepEqual([...HTTP2_SINGLE_VALUE_HEADERS].sort(), refused.sort());
});
