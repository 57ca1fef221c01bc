// The admin's session cookies never reach a service: over HTTPS the browser sends
// __Host-gatehouse-session to every port of the admin's host name, Gatehouse's own proxy included,
// so a route on that name would otherwise hand the owner's session to whatever runs upstream. The
// real proxy (HTTP/1.1, and HTTP/2 whose split Cookie fields it joins) in front of an upstream that
// echoes the Cookie fields it received; other cookies arrive intact, in order.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:http2';
import { after, before, test } from 'node:test';
import { PLAIN_COOKIE_NAME, SECURE_COOKIE_NAME } from '../../src-main/core/session-cookie-names.js';
import { localTls, rawRequest, route, startServer, within, type TestServer } from '../helpers/proxy-harness.js';
import { openTestCa, startTlsProxy, TestCertificates, type RunningTlsProxy, type TestCa } from '../helpers/tls-proxy.js';

const NAME = 'admin.home.arpa';
let ca: TestCa;
let upstream: TestServer;
let proxy: RunningTlsProxy;

before(async () => {
  ca = await openTestCa();
  const certs = new TestCertificates(await ca.leaf(['gatehouse.home.arpa']));
  certs.byRoute.set('app', await ca.leaf([NAME]));
  upstream = await startServer((req, res) => {
    const cookies: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'cookie') cookies.push(req.rawHeaders[i + 1]!);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(cookies));
  });
  const tls = localTls();
  proxy = await startTlsProxy([route('app', upstream.url, [NAME], { tls })], certs);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
  await ca?.remove();
});

/** The Cookie fields the upstream received for an HTTP/1.1 request carrying `cookies`. */
async function overHttp1(...cookies: string[]): Promise<string[]> {
  const lines = ['GET / HTTP/1.1', `Host: ${NAME}`, 'Connection: close', ...cookies.map((value) => `Cookie: ${value}`), '', ''];
  const answer = await rawRequest(proxy.httpPort, lines.join('\r\n'));
  assert.equal(answer.status, 200, answer.body.toString('utf8'));
  return JSON.parse(answer.body.toString('utf8')) as string[];
}

test('HTTP/1.1: both session cookie names are taken out, the others stay as sent', async () => {
  assert.deepEqual(await overHttp1(`theme=dark; ${PLAIN_COOKIE_NAME}=s3cret; lang=en`), ['theme=dark; lang=en']);
  assert.deepEqual(await overHttp1(`${SECURE_COOKIE_NAME}=s3cret;theme=dark`), ['theme=dark']);
  assert.deepEqual(await overHttp1(`a=1; ${PLAIN_COOKIE_NAME}=x`, `${SECURE_COOKIE_NAME}=y`), ['a=1'], 'a field that held only the session is dropped');
  assert.deepEqual(await overHttp1(`${PLAIN_COOKIE_NAME}=x; ${SECURE_COOKIE_NAME}=y`), [], 'no Cookie field at all');
});

test('HTTP/1.1: a Cookie header without them, or with look-alike names, passes byte for byte', async () => {
  assert.deepEqual(await overHttp1('a=1;b=2;  c=3'), ['a=1;b=2;  c=3']);
  assert.deepEqual(await overHttp1(`my-${PLAIN_COOKIE_NAME}=1; ${PLAIN_COOKIE_NAME}-x=2`), [`my-${PLAIN_COOKIE_NAME}=1; ${PLAIN_COOKIE_NAME}-x=2`]);
});

test('HTTP/2: the split Cookie fields are joined without the session cookies', async () => {
  const session = connect(`https://127.0.0.1:${proxy.httpsPort}`, { ca: await readFile(ca.caPath, 'utf8'), servername: NAME });
  session.on('error', () => {});
  try {
    const received = await within(
      new Promise<string[]>((resolve, reject) => {
        const stream = session.request({ ':path': '/', ':authority': NAME, cookie: ['a=1', `${SECURE_COOKIE_NAME}=s3cret`, 'b=2'] });
        let body = '';
        stream.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        stream.on('end', () => resolve(JSON.parse(body) as string[]));
        stream.on('error', reject);
      }),
      5000,
      'the HTTP/2 answer',
    );
    assert.deepEqual(received, ['a=1; b=2']);
  } finally {
    session.close();
  }
});
