// Response headers an HTTP/1.1 upstream may send but HTTP/2 cannot carry as they are: a repeated
// header HTTP/2 allows once (Location, Content-Type, …) and connection-specific ones (HTTP2-Settings).
// Over a real HTTP/2 connection the client gets the answer with the first value kept and the
// connection-specific headers dropped: no hang, no 502, and a healthy upstream is not marked down.
// A head Node still refuses is Gatehouse's own failure (response_invalid), never the service's.
// A raw-TCP service ("raw") sends heads byte for byte as written, where Node's own server would not:
// every header its Connection names is dropped too, and a head that cannot be framed (two
// Content-Lengths) or passed on (a status HTTP/2 has no room for) is answered 502 response_invalid
// with no header of the failed attempt left on the page.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { after, before, test } from 'node:test';
import type { UpstreamHealthLink } from '../../src-main/core/upstreams/health-view.js';
import { HTTP2_SINGLE_VALUE_HEADERS } from '../../src-main/core/proxy/request-head.js';
import { localTls, route, startServer, within, type TestServer } from '../helpers/proxy-harness.js';
import { startTcpUpstream, type TcpUpstream } from '../helpers/raw-http.js';
import { httpsGet } from '../helpers/tls-clients.js';
import { openTestCa, startTlsProxy, TestCertificates, type RunningTlsProxy, type TestCa } from '../helpers/tls-proxy.js';

/** The head (and body) the service writes for each path; each answer closes its connection. */
const heads: Record<string, string> = {
  '/connection-specific':
    'HTTP/1.1 200 OK\r\nConnection: close, X-Secret, X-Other\r\nX-Secret: 1\r\nX-Other: 2\r\nKeep-Alive: timeout=5\r\n' +
    'Proxy-Connection: keep-alive\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nX-Kept: yes\r\nContent-Length: 4\r\n\r\nbody',
  '/chunked': 'HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n',
  '/repeated':
    'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Type: text/plain\r\nETag: "v1"\r\nETag: "v1"\r\n' +
    'Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 4\r\n\r\nbody',
  '/two-lengths': 'HTTP/1.1 200 OK\r\nConnection: close\r\nX-Kept: yes\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nbody!',
  '/status-600': 'HTTP/1.1 600 Odd\r\nConnection: close\r\nX-Kept: yes\r\nContent-Length: 4\r\n\r\nbody',
};

/** The raw-TCP service's name. */
const RAW = 'raw.home.arpa';
let ca: TestCa;
let upstream: TestServer;
let service: TcpUpstream;
let proxy: RunningTlsProxy;
/** Answers every request with a status line whose reason phrase Node will not write ("Ok ✓"). */
let oddReason: TcpServer;
const failures: string[] = [];
const answered: string[] = [];
const health: UpstreamHealthLink = {
  answered: (_routeId, address) => void answered.push(address),
  failed: (_routeId, address) => void failures.push(address),
  isAvailable: () => true,
  lastFailedAt: () => 0,
};

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
  service = await startTcpUpstream((socket) => {
    socket.once('data', (chunk: Buffer) => {
      const path = /^[A-Z]+ (\S+)/.exec(chunk.toString('latin1'))?.[1] ?? '';
      socket.end(heads[path] ?? 'HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', 'latin1');
    });
  });
  certs.byRoute.set('raw', await ca.leaf(['raw.home.arpa']));
  const tls = localTls();
  const oddUpstream = `http://127.0.0.1:${(oddReason.address() as { port: number }).port}`;
  proxy = await startTlsProxy(
    [
      route('app', upstream.url, ['app.home.arpa'], { tls }),
      route('odd', oddUpstream, ['odd.home.arpa'], { tls: { ...tls, hsts: true } }),
      // HSTS on: Gatehouse sets a header of its own before the service's head is tried.
      route('raw', service.url, ['raw.home.arpa'], { tls: { ...tls, hsts: true }, title: 'Raw service' }),
    ],
    certs,
    { engine: { health } },
  );
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
  oddReason?.close();
  await service?.close();
  await ca?.remove();
});

async function h2Session(servername = 'app.home.arpa'): Promise<ClientHttp2Session> {
  const session = connect(`https://127.0.0.1:${proxy.httpsPort}`, { ca: await readFile(ca.caPath, 'utf8'), servername });
  session.on('error', () => {});
  return session;
}

function h2Get(session: ClientHttp2Session, path: string, authority = 'app.home.arpa'): Promise<{ headers: IncomingHttpHeaders; body: string }> {
  const answer = new Promise<{ headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const stream = session.request({ ':path': path, ':authority': authority });
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

test('connection-specific headers, and those the service\'s Connection names, never reach an HTTP/2 client', async () => {
  const session = await h2Session(RAW);
  try {
    const { headers, body } = await h2Get(session, '/connection-specific', RAW);
    assert.equal(headers[':status'], 200);
    for (const name of ['connection', 'x-secret', 'x-other', 'keep-alive', 'proxy-connection', 'upgrade', 'http2-settings']) {
      assert.equal(headers[name], undefined, `${name} was dropped`);
    }
    assert.equal(headers['x-kept'], 'yes');
    assert.equal(body, 'body');
    const chunked = await h2Get(session, '/chunked', RAW);
    assert.equal(chunked.headers[':status'], 200);
    assert.equal(chunked.headers['transfer-encoding'], undefined);
    assert.equal(chunked.body, 'body');
  } finally {
    session.close();
  }
});

test('identical repeats of a single-value header arrive once; repeatable ones stay repeated', async () => {
  const session = await h2Session(RAW);
  try {
    const { headers, body } = await h2Get(session, '/repeated', RAW);
    assert.equal(headers[':status'], 200);
    assert.equal(headers['content-type'], 'text/plain');
    assert.equal(headers.etag, '"v1"');
    assert.deepEqual(headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(body, 'body');
  } finally {
    session.close();
  }
});

test('two different Content-Lengths: 502 response_invalid over HTTP/2 and HTTP/1.1, the service not reported failing', async () => {
  failures.length = answered.length = 0;
  const session = await h2Session(RAW);
  try {
    const { headers, body } = await h2Get(session, '/two-lengths', RAW);
    assert.equal(headers[':status'], 502);
    assert.equal(headers['x-gatehouse-error'], 'response_invalid');
    assert.equal(headers['x-kept'], undefined, 'nothing of the refused head is passed on');
    assert.match(body, /Raw service at 127\.0\.0\.1:\d+ answered with a Content-Length that cannot be trusted/);
  } finally {
    session.close();
  }
  const entry = await proxy.nextLogged((e) => e.path === '/two-lengths');
  assert.equal(entry.status, 502);
  assert.equal(entry.error, 'response_invalid');
  assert.match(entry.detail ?? '', /Content-Length that cannot be trusted \(repeated/);
  const overHttp1 = await httpsGet(proxy.httpsPort, 'raw.home.arpa', ca.caPath, { path: '/two-lengths' });
  assert.equal(overHttp1.status, 502);
  assert.equal(overHttp1.headers['x-gatehouse-error'], 'response_invalid');
  assert.deepEqual(failures, [], 'the service answered: it is not reported as failing');
  assert.equal(answered.length, 2, 'each answer counts as the service being up');
});

test('a status HTTP/2 cannot carry: 502 response_invalid, no header of the failed attempt left, the stream and the service fine', async () => {
  failures.length = 0;
  const session = await h2Session(RAW);
  try {
    const { headers, body } = await h2Get(session, '/status-600', RAW);
    assert.equal(headers[':status'], 502);
    assert.equal(headers['x-gatehouse-error'], 'response_invalid');
    assert.equal(headers['x-kept'], undefined, 'headers set before the refusal are cleared');
    assert.match(body, /Raw service at 127\.0\.0\.1:\d+ answered with status 600, which is not an HTTP status/);
    // The same HTTP/2 connection carries on.
    assert.equal((await h2Get(session, '/repeated', RAW)).headers[':status'], 200);
  } finally {
    session.close();
  }
  const entry = await proxy.nextLogged((e) => e.path === '/status-600');
  assert.equal(entry.error, 'response_invalid');
  assert.deepEqual(failures, []);
  // HTTP/1.1 could carry any three-digit status, but one outside 100–599 is not HTTP (docs/api.md): 502 there too.
  assert.equal((await httpsGet(proxy.httpsPort, 'raw.home.arpa', ca.caPath, { path: '/status-600' })).status, 502);
});
