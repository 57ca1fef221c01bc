// What the user sees when the upstream fails: a page that names the route, the upstream's host:port
// and the cause (refused, reset, not answering, not HTTP), with the right status and code, and
// never a stack trace, a file path or an internal error message. Plus escaping: nothing a client
// or a route title contributes can inject markup into a page.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { proxyErrors } from '../../src-main/core/proxy/errors.js';
import { getThrough, rawExchange, parseResponses, startProxy, startRecordingUpstream, startTcpUpstream, testRoute, type ProxyUnderTest, type RawResponse, type TcpUpstream } from '../helpers/raw-http.js';
import { freePort } from '../helpers/ports.js';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A TCP server that does `onData` with each connection's first bytes (an upstream misbehaving on cue). */
async function tcpUpstream(onData: (socket: Socket) => void): Promise<TcpUpstream> {
  const upstream = await startTcpUpstream((socket) => socket.once('data', () => onData(socket)));
  cleanups.push(() => upstream.close());
  return upstream;
}

async function proxyTo(upstream: string, options: { title?: string; timeouts?: Parameters<typeof startProxy>[1] } = {}): Promise<ProxyUnderTest> {
  const proxy = await startProxy([testRoute('svc', ['svc.example'], upstream, { title: options.title ?? 'Media server' })], options.timeouts);
  cleanups.push(() => proxy.stop());
  return proxy;
}



/** Nothing internal leaks onto a page: no stack frame, no file path, no JS error text. */
function assertNoInternals(page: RawResponse): void {
  assert.ok(!page.body.includes('    at '), 'no stack trace');
  assert.ok(!/\/(?:work|home|root|usr|tmp)\/|node_modules|\.ts\b|\.js\b|file:\/\//.test(page.body), `no file paths: ${page.body}`);
  assert.ok(!/\b(?:Type|Reference|Syntax|Range|HTTPParser|Socket)?Error\b:?/.test(page.body), `no internal error names: ${page.body}`);
  assert.ok(!/\bundici\b|\bUND_ERR|\bHPE_/.test(page.body), `no library internals: ${page.body}`);
}

describe('upstream failures', () => {
  test('refused: 502 upstream_refused naming the route, host:port, and that it refused', async () => {
    const port = await freePort();
    const proxy = await proxyTo(`http://127.0.0.1:${port}`);
    const page = await getThrough(proxy.port, 'svc.example');
    assert.equal(page.status, 502);
    assert.equal(page.headers['x-gatehouse-error'], 'upstream_refused');
    assert.match(page.headers['content-type'] ?? '', /^text\/plain/);
    assert.match(page.body, /Media server/);
    assert.ok(page.body.includes(`127.0.0.1:${port}`), page.body);
    assert.match(page.body, /refused the connection/);
    assert.equal(page.headers['cache-control'], 'no-store');
    assertNoInternals(page);
    const html = await getThrough(proxy.port, 'svc.example', '/', 'Accept: text/html\r\n');
    assert.match(html.headers['content-type'] ?? '', /^text\/html/);
    assert.match(html.body, /<h1>Media server is not available right now\.<\/h1>/);
    assert.match(html.body, /<h2>Service refused the connection<\/h2>/);
    assert.ok(html.body.includes(`127.0.0.1:${port}`));
    assert.equal(html.headers['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'");
    assertNoInternals(html);
    const entry = proxy.logged.at(-1);
    assert.equal(entry?.status, 502);
    assert.equal(entry?.error, 'upstream_refused');
    assert.equal(entry?.upstream, `127.0.0.1:${port}`);
  });

  test('reset before answering (RST): 502 upstream_reset', async () => {
    const upstream = await tcpUpstream((socket) => socket.resetAndDestroy());
    const proxy = await proxyTo(upstream.url);
    const page = await getThrough(proxy.port, 'svc.example');
    assert.equal(page.status, 502);
    assert.equal(page.headers['x-gatehouse-error'], 'upstream_reset');
    assert.match(page.body, /Media server at 127\.0\.0\.1:\d+ closed the connection before it finished answering/);
    assertNoInternals(page);
  });

  test('closed before answering (FIN): 502 upstream_reset', async () => {
    const upstream = await tcpUpstream((socket) => socket.end());
    const proxy = await proxyTo(upstream.url);
    const page = await getThrough(proxy.port, 'svc.example');
    assert.equal(page.status, 502);
    assert.equal(page.headers['x-gatehouse-error'], 'upstream_reset');
    assert.ok(page.body.includes(upstream.address));
    assertNoInternals(page);
  });

  test('invalid HTTP from the upstream: 502 upstream_bad_response', async () => {
    const answers = {
      'not HTTP at all': 'garbage\r\n\r\n',
      'a TLS handshake (an https port used as http)': '\x16\x03\x03\x00\x02\x02\x28',
      'a bad status code': 'HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n',
      'an unknown version': 'HTTP/7.1 200 OK\r\nContent-Length: 0\r\n\r\n',
      'a space in a header name': 'HTTP/1.1 200 OK\r\nBad Header: x\r\nContent-Length: 0\r\n\r\n',
      'a non-numeric Content-Length': 'HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n',
    };
    for (const [what, answer] of Object.entries(answers)) {
      const upstream = await tcpUpstream((socket) => socket.end(answer, 'latin1'));
      const proxy = await proxyTo(upstream.url, { title: 'Printer' });
      const page = await getThrough(proxy.port, 'svc.example');
      assert.equal(page.status, 502, what);
      assert.equal(page.headers['x-gatehouse-error'], 'upstream_bad_response', `${what}: ${page.body}`);
      assert.match(page.body, /Printer at 127\.0\.0\.1:\d+ sent a response that is not valid HTTP/, what);
      assertNoInternals(page);
    }
  });

  test('a Content-Length repeated or next to Transfer-Encoding: 502 response_invalid, saying what to fix', async () => {
    // The service is up and answered, so this is not a "broken service" (its health is left alone,
    // see proxy-tls-h2-headers); the page says the answer could not be framed.
    const answers = {
      'Content-Length with Transfer-Encoding': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'two different Content-Lengths': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
      'the same Content-Length twice': 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\nContent-Length: 6\r\n\r\nhello!',
    };
    for (const [what, answer] of Object.entries(answers)) {
      const upstream = await tcpUpstream((socket) => socket.end(answer, 'latin1'));
      const proxy = await proxyTo(upstream.url, { title: 'Printer' });
      const page = await getThrough(proxy.port, 'svc.example');
      assert.equal(page.status, 502, what);
      assert.equal(page.headers['x-gatehouse-error'], 'response_invalid', `${what}: ${page.body}`);
      assert.match(page.body, /Printer at 127\.0\.0\.1:\d+ answered with a Content-Length that cannot be trusted/, what);
      assertNoInternals(page);
    }
  });

  test('a response cut mid-body reaches the client cut (connection closed), never completed or hung', async () => {
    const upstream = await tcpUpstream((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nhello', 'latin1'));
    const proxy = await proxyTo(upstream.url);
    const result = await rawExchange(proxy.port, 'GET / HTTP/1.1\r\nHost: svc.example\r\n\r\n', { settleMs: 0, timeoutMs: 3000 });
    assert.equal(result.closed, true, 'the client connection is closed, so the client sees a short body');
    assert.match(result.text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*content-length: 50\r\n[\s\S]*\r\n\r\nhello$/i);
  });

  test('connect timeout: an upstream whose accept queue is full gets 504 upstream_connect_timeout', async () => {
    // A listener in a child process whose event loop is blocked never accepts: once its backlog is
    // full, the kernel drops further SYNs, which is what a firewalled or sleeping host looks like.
    const child: ChildProcess = spawn(
      process.execPath,
      ['-e', "const s=require('net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>{process.stdout.write(s.address().port+'\\n');Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0)})"],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    cleanups.push(() => void child.kill('SIGKILL'));
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    const port = Number(line.toString().trim());
    const fillers: Socket[] = [];
    cleanups.push(() => fillers.forEach((socket) => socket.destroy()));
    for (let i = 0; i < 10; i++) {
      const socket = connect({ host: '127.0.0.1', port });
      socket.on('error', () => {});
      fillers.push(socket);
      const connected = await Promise.race([once(socket, 'connect').then(() => true), sleep(300).then(() => false)]);
      if (!connected) break; // the queue is full: this SYN is being dropped
    }
    const proxy = await proxyTo(`http://127.0.0.1:${port}`, { title: 'Sleeping NAS', timeouts: { upstreamConnectMs: 500 } });
    const started = performance.now();
    const page = await getThrough(proxy.port, 'svc.example');
    const ms = performance.now() - started;
    assert.equal(page.status, 504);
    assert.equal(page.headers['x-gatehouse-error'], 'upstream_connect_timeout');
    assert.match(page.body, new RegExp(`Sleeping NAS at 127\\.0\\.0\\.1:${port} did not accept a connection within 0\\.5 s`));
    assert.ok(ms >= 400 && ms <= 3000, `answered after ${Math.round(ms)} ms`);
    assertNoInternals(page);
  });

  test('after failures the same engine serves a healthy upstream', async () => {
    const good = await startRecordingUpstream('good');
    cleanups.push(() => good.close());
    const port = await freePort();
    const proxy = await startProxy([testRoute('bad', ['bad.example'], `http://127.0.0.1:${port}`), testRoute('good', ['good.example'], good.url)]);
    cleanups.push(() => proxy.stop());
    for (let i = 0; i < 5; i++) assert.equal((await getThrough(proxy.port, 'bad.example')).status, 502);
    const page = await getThrough(proxy.port, 'good.example');
    assert.equal(page.status, 200);
    assert.equal(page.body, 'ok from good');
    const stats = proxy.engine.stats();
    assert.equal(stats.routes.find((r) => r.routeId === 'bad')?.errors, 5);
    assert.equal(stats.routes.find((r) => r.routeId === 'good')?.errors, 0);
  });
});

describe('error pages', () => {
  test('every page Gatehouse can answer with carries its status and code, and no internals', async () => {
    const port = await freePort();
    const proxy = await proxyTo(`http://127.0.0.1:${port}`);
    const pages: [string, string, number][] = [
      ['GET / HTTP/1.1\r\nHost: nowhere.example\r\n\r\n', 'no_route', 404],
      ['GET / HTTP/1.1\r\nHost: svc.example\r\nHost: svc.example\r\n\r\n', 'bad_host', 400],
      ['GET / HTTP/1.1\r\n\r\n', 'bad_host', 400],
      ['GET ftp://svc.example/ HTTP/1.1\r\nHost: svc.example\r\n\r\n', 'bad_target', 400],
      ['GET / HTTP/1.1\r\nHost: svc.example\r\nX: \x01\r\n\r\n', 'bad_request', 400],
      [`GET / HTTP/1.1\r\nHost: svc.example\r\nX: ${'x'.repeat(17_000)}\r\n\r\n`, 'headers_too_large', 431],
      [`GET / HTTP/1.1\r\nHost: svc.example\r\n${'X: y\r\n'.repeat(101)}\r\n`, 'too_many_headers', 431],
      ['CONNECT svc.example:443 HTTP/1.1\r\nHost: svc.example:443\r\n\r\n', 'method_not_allowed', 405],
      ['POST / HTTP/1.1\r\nHost: svc.example\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 2\r\n\r\nhi', 'upgrade_refused', 400],
      ['GET / HTTP/1.1\r\nHost: svc.example\r\n\r\n', 'upstream_refused', 502],
    ];
    for (const accept of ['', 'Accept: text/html,*/*\r\n']) {
      for (const [bytes, code, status] of pages) {
        const withAccept = bytes.replace('\r\n', `\r\n${accept}`);
        const result = await rawExchange(proxy.port, withAccept, { settleMs: 100 });
        const [page] = parseResponses(result.text);
        assert.ok(page, `${code}: no response`);
        assert.equal(page.status, status, code);
        assert.equal(page.headers['x-gatehouse-error'], code);
        assert.equal(proxyErrors[code as keyof typeof proxyErrors].status, status);
        assert.equal(page.headers['x-content-type-options'], 'nosniff');
        assert.equal(Number(page.headers['content-length']), Buffer.byteLength(page.body, 'latin1'));
        assertNoInternals(page);
      }
    }
  });

  test('a Host with markup is refused as a bad host and never echoed', async () => {
    const proxy = await proxyTo('http://127.0.0.1:9');
    for (const host of ['<script>alert(1)</script>', 'a"onmouseover="x', "x'><img src=x onerror=alert(1)>"]) {
      const page = await getThrough(proxy.port, host, '/', 'Accept: text/html\r\n');
      assert.equal(page.status, 400, host);
      assert.equal(page.headers['x-gatehouse-error'], 'bad_host');
      assert.ok(!page.body.includes('<script>alert') && !page.body.includes('<img') && !page.body.includes('onmouseover'), page.body);
    }
  });

  test('the 404 page names the host, escaped, and the absolute-form authority cannot inject either', async () => {
    const proxy = await proxyTo('http://127.0.0.1:9');
    const page = await getThrough(proxy.port, 'unknown.example', '/', 'Accept: text/html\r\n');
    assert.equal(page.status, 404);
    assert.match(page.body, /No route is set up for unknown\.example\./);
    const injected = await rawExchange(proxy.port, 'GET http://<b>x</b>/ HTTP/1.1\r\nHost: svc.example\r\nAccept: text/html\r\n\r\n');
    const [refused] = parseResponses(injected.text);
    assert.equal(refused?.status, 400);
    assert.ok(!refused?.body.includes('<b>x'), refused?.body);
  });

  test('a route title with markup is escaped on the page', async () => {
    const port = await freePort();
    const proxy = await proxyTo(`http://127.0.0.1:${port}`, { title: '<b>Admin</b> & "Co"' });
    const html = await getThrough(proxy.port, 'svc.example', '/', 'Accept: text/html\r\n');
    assert.equal(html.status, 502);
    assert.ok(!html.body.includes('<b>Admin'), html.body);
    assert.ok(html.body.includes('&lt;b&gt;Admin&lt;/b&gt; &amp; &quot;Co&quot;'), html.body);
    // Plain text is not HTML: it is served as text/plain with nosniff, so it shows the title as typed.
    const text = await getThrough(proxy.port, 'svc.example');
    assert.match(text.headers['content-type'] ?? '', /^text\/plain/);
    assert.equal(text.headers['x-content-type-options'], 'nosniff');
  });
});
