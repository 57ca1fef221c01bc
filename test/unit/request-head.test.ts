// The passes over a request's head, each alone. Their input is what Node's own parser makes of raw
// bytes (a throwaway server on 127.0.0.1 configured as the engine's), so the tests see exactly the
// rawHeaders, joined headers and url the request path sees.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ProxyError } from '../../src-main/core/proxy/errors.js';
import {
  clientAddress,
  connectionTokens,
  downstreamHeaders,
  realClient,
  requestTarget,
  TrustedProxies,
  upstreamHeaders,
  withoutSessionCookies,
  type ForwardContext,
  type RequestTarget,
} from '../../src-main/core/proxy/request-head.js';

let server: Server;
let port: number;
/** Who waits for the request arriving from each client port. */
const waiting = new Map<number, (req: IncomingMessage) => void>();

before(async () => {
  server = createServer({ requireHostHeader: false, joinDuplicateHeaders: false, maxHeaderSize: 16 * 1024 }, (req, res) => {
    waiting.get(req.socket.remotePort ?? 0)?.(req);
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as { port: number }).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** The IncomingMessage Node builds from `lines` (a request head, CRLF added). */
async function head(...lines: string[]): Promise<IncomingMessage> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  await once(socket, 'connect');
  const local = socket.localPort as number;
  const received = new Promise<IncomingMessage>((resolve) => waiting.set(local, resolve));
  socket.end(`${lines.join('\r\n')}\r\n\r\n`);
  socket.resume();
  let timer: NodeJS.Timeout | undefined;
  const parseFailed = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Node's parser did not accept ${JSON.stringify(lines)}`)), 2000);
  });
  try {
    return await Promise.race([received, parseFailed]);
  } finally {
    clearTimeout(timer);
    waiting.delete(local);
  }
}

function refused(req: IncomingMessage, code: ProxyError['code']): void {
  assert.throws(
    () => requestTarget(req),
    (error: unknown) => error instanceof ProxyError && error.code === code,
    `${req.method} ${req.url} ${JSON.stringify(req.rawHeaders)} should be refused with ${code}`,
  );
}

describe('requestTarget', () => {
  test('origin form: the Host header names the route, normalized; the authority is kept as sent', async () => {
    const cases: [string, RequestTarget][] = [
      ['a.example', { hostname: 'a.example', authority: 'a.example', path: '/x?y=1' }],
      ['Jellyfin.Home.ARPA:8080', { hostname: 'jellyfin.home.arpa', authority: 'Jellyfin.Home.ARPA:8080', path: '/x?y=1' }],
      ['a.example.', { hostname: 'a.example', authority: 'a.example.', path: '/x?y=1' }],
      ['a.example.:80', { hostname: 'a.example', authority: 'a.example.:80', path: '/x?y=1' }],
      ['[::1]:8080', { hostname: '[::1]', authority: '[::1]:8080', path: '/x?y=1' }],
      ['[fe80::1]', { hostname: '[fe80::1]', authority: '[fe80::1]', path: '/x?y=1' }],
      ['10.0.0.4', { hostname: '10.0.0.4', authority: '10.0.0.4', path: '/x?y=1' }],
      ['under_score.example', { hostname: 'under_score.example', authority: 'under_score.example', path: '/x?y=1' }],
      ['single', { hostname: 'single', authority: 'single', path: '/x?y=1' }],
    ];
    for (const [host, expected] of cases) {
      assert.deepEqual(requestTarget(await head('GET /x?y=1 HTTP/1.1', `Host: ${host}`)), expected, host);
    }
  });

  test('absolute form wins over Host, and its path becomes origin form', async () => {
    const cases: [string, RequestTarget][] = [
      ['http://a.example/p?q', { hostname: 'a.example', authority: 'a.example', path: '/p?q' }],
      ['http://a.example', { hostname: 'a.example', authority: 'a.example', path: '/' }],
      ['http://a.example?q=1', { hostname: 'a.example', authority: 'a.example', path: '/?q=1' }],
      ['HTTPS://A.Example:8443/p', { hostname: 'a.example', authority: 'A.Example:8443', path: '/p' }],
      ['http://[::1]:81/', { hostname: '[::1]', authority: '[::1]:81', path: '/' }],
    ];
    for (const [target, expected] of cases) {
      assert.deepEqual(requestTarget(await head(`GET ${target} HTTP/1.1`, 'Host: b.example')), expected, target);
    }
  });

  test('a repeated Host is refused, whatever its case, even when both agree', async () => {
    refused(await head('GET / HTTP/1.1', 'Host: a.example', 'Host: b.example'), 'bad_host');
    refused(await head('GET / HTTP/1.1', 'Host: a.example', 'HOST: a.example'), 'bad_host');
    refused(await head('GET / HTTP/1.1', 'host: a.example', 'hOsT: a.example'), 'bad_host');
  });

  test('a missing, empty or malformed Host is refused with bad_host', async () => {
    refused(await head('GET / HTTP/1.1'), 'bad_host');
    refused(await head('GET / HTTP/1.0'), 'bad_host');
    for (const host of ['', ' ', 'a b', 'user@a.example', 'a.example/x', 'a..', '.a.example', '-a', 'a-', 'a.example:', 'a.example:123456', 'a.example:x', '[::1', '[zz::1]', 'a%2ex', '<script>', 'a.example,b.example', 'a.example;x']) {
      refused(await head('GET / HTTP/1.1', `Host: ${host}`), 'bad_host');
    }
  });

  test('an absolute-form target without a usable host, and any other form, is refused with bad_target', async () => {
    // (Markup in the target, as in http://<b>/, never gets this far: Node's parser refuses it.)
    for (const target of ['http:///p', 'http://user@a.example/', 'http://a.example:xx/', 'http://a%20b/']) {
      refused(await head(`GET ${target} HTTP/1.1`, 'Host: a.example'), 'bad_target');
    }
    for (const target of ['*', 'ftp://a.example/', 'ws://a.example/', 'file:///etc/passwd']) {
      refused(await head(`${target === '*' ? 'OPTIONS' : 'GET'} ${target} HTTP/1.1`, 'Host: a.example'), 'bad_target');
    }
  });
});

describe('upstreamHeaders', () => {
  const context = (target: RequestTarget, extra: Partial<ForwardContext> = {}): ForwardContext => ({
    client: '192.168.1.20',
    clientTrusted: false,
    proto: 'http',
    target,
    rewriteHost: null,
    ...extra,
  });

  /** The flat list as [name, value] pairs. */
  const pairs = (flat: string[]) => Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]] as [string, string]);
  const get = (flat: string[], name: string) => pairs(flat).filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);

  test('hop-by-hop headers and every header Connection names are dropped; the rest keep order and case', async () => {
    const req = await head(
      'POST / HTTP/1.1',
      'Host: a.example',
      'X-First: 1',
      'Connection: keep-alive, X-Secret, close',
      'Keep-Alive: timeout=5',
      'Proxy-Connection: keep-alive',
      'Proxy-Authorization: Basic Zm9vOmJhcg==',
      'TE: trailers',
      'Trailer: X-T',
      'Transfer-Encoding: chunked',
      'Upgrade: h2c',
      'Expect: 100-continue',
      'X-Secret: hop only',
      'Cookie: a=1',
      'Cookie: b=2',
      'x-Last: 2',
    );
    const target = requestTarget(req);
    const out = upstreamHeaders(req, context(target));
    const names = pairs(out).map(([name]) => name);
    assert.deepEqual(names.slice(0, 4), ['X-First', 'Cookie', 'Cookie', 'x-Last']);
    for (const dropped of ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect', 'x-secret']) {
      assert.deepEqual(get(out, dropped), [], dropped);
    }
    assert.deepEqual(get(out, 'cookie'), ['a=1', 'b=2']);
  });

  test('from an untrusted client, forwarding headers are replaced, never extended', async () => {
    const req = await head(
      'GET / HTTP/1.1',
      'Host: a.example',
      'X-Forwarded-For: 6.6.6.6',
      'X-Forwarded-Proto: https',
      'X-Forwarded-Host: evil.example',
      'Forwarded: for=6.6.6.6;proto=https',
    );
    const out = upstreamHeaders(req, context(requestTarget(req)));
    assert.deepEqual(get(out, 'host'), ['a.example']);
    assert.deepEqual(get(out, 'x-forwarded-for'), ['192.168.1.20']);
    assert.deepEqual(get(out, 'x-forwarded-proto'), ['http']);
    assert.deepEqual(get(out, 'x-forwarded-host'), ['a.example']);
    assert.deepEqual(get(out, 'forwarded'), ['for=192.168.1.20;host=a.example;proto=http']);
    assert.ok(!out.join('\n').includes('6.6.6.6'));
    assert.ok(!out.join('\n').includes('evil.example'));
  });

  test('from a trusted proxy, the chain is extended: every X-Forwarded-For line, the first proto and host', async () => {
    const req = await head(
      'GET / HTTP/1.1',
      'Host: a.example',
      'X-Forwarded-For: 203.0.113.7, 10.0.0.9',
      'X-Forwarded-For: 10.0.0.8',
      'X-Forwarded-Proto: https',
      'X-Forwarded-Proto: http',
      'X-Forwarded-Host: public.example',
      'Forwarded: for=203.0.113.7;proto=https',
    );
    const out = upstreamHeaders(req, context(requestTarget(req), { client: '10.0.0.1', clientTrusted: true }));
    assert.deepEqual(get(out, 'x-forwarded-for'), ['203.0.113.7, 10.0.0.9, 10.0.0.8, 10.0.0.1']);
    assert.deepEqual(get(out, 'x-forwarded-proto'), ['https']);
    assert.deepEqual(get(out, 'x-forwarded-host'), ['public.example']);
    assert.deepEqual(get(out, 'forwarded'), ['for=203.0.113.7;proto=https, for=10.0.0.1;host=a.example;proto=http']);
  });

  test('from a trusted proxy too, underscore twins of the forwarding headers are dropped; the dashed ones pass', async () => {
    const req = await head(
      'GET / HTTP/1.1',
      'Host: a.example',
      'X-Forwarded-For: 203.0.113.7',
      'X-Forwarded-Port: 443',
      'X_Forwarded_For: 10.0.0.66',
      'x_forwarded_proto: https',
      'x_forwarded_host: evil.example',
      'X_Real_IP: 10.0.0.66',
      'X_Forwarded_Port: 1',
      'Cf_Connecting_IP: 10.0.0.66',
      'True_Client_IP: 10.0.0.66',
    );
    const out = upstreamHeaders(req, context(requestTarget(req), { client: '10.0.0.1', clientTrusted: true }));
    const names = out.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
    assert.deepEqual(names.filter((name) => name.includes('_')), [], `twins passed: ${names.join(' ')}`);
    assert.ok(!out.includes('10.0.0.66') && !out.includes('evil.example'));
    assert.deepEqual(get(out, 'x-forwarded-for'), ['203.0.113.7, 10.0.0.1']);
    assert.deepEqual(get(out, 'x-forwarded-port'), ['443'], "a trusted proxy's own dashed header still passes");
  });

  test('rewriteHost replaces Host only; X-Forwarded-Host and Forwarded keep the name the client used', async () => {
    const req = await head('GET / HTTP/1.1', 'Host: nas.home.arpa:8080');
    const out = upstreamHeaders(req, context(requestTarget(req), { rewriteHost: 'localhost:5000', proto: 'https' }));
    assert.deepEqual(get(out, 'host'), ['localhost:5000']);
    assert.deepEqual(get(out, 'x-forwarded-host'), ['nas.home.arpa:8080']);
    assert.deepEqual(get(out, 'x-forwarded-proto'), ['https']);
    assert.deepEqual(get(out, 'forwarded'), ['for=192.168.1.20;host="nas.home.arpa:8080";proto=https']);
  });

  test('an IPv6 client is quoted and bracketed in Forwarded', async () => {
    const req = await head('GET / HTTP/1.1', 'Host: a.example');
    const out = upstreamHeaders(req, context(requestTarget(req), { client: 'fd00::20' }));
    assert.deepEqual(get(out, 'x-forwarded-for'), ['fd00::20']);
    assert.deepEqual(get(out, 'forwarded'), ['for="[fd00::20]";host=a.example;proto=http']);
  });
});

describe('withoutSessionCookies', () => {
  test("the admin's session cookies go, under either name and anywhere in the header; others stay", () => {
    assert.equal(withoutSessionCookies('a=1; gatehouse-session=abc; b=2'), 'a=1; b=2');
    assert.equal(withoutSessionCookies('__Host-gatehouse-session=abc;theme=dark'), 'theme=dark');
    assert.equal(withoutSessionCookies('gatehouse-session=x; __Host-gatehouse-session=y'), '');
    assert.equal(withoutSessionCookies(' a=1 ;  gatehouse-session ; b=2'), 'a=1; b=2', 'a bare name is the cookie too');
  });

  test('a header without the name comes back as it came; look-alike names are not ours', () => {
    const plain = 'a=1;b=2;  c=3';
    assert.equal(withoutSessionCookies(plain), plain);
    assert.equal(withoutSessionCookies('my-gatehouse-session=1; gatehouse-session-x=2'), 'my-gatehouse-session=1; gatehouse-session-x=2');
    assert.equal(withoutSessionCookies('Gatehouse-Session=1; sid=gatehouse-session'), 'Gatehouse-Session=1; sid=gatehouse-session');
  });
});

describe('realClient and TrustedProxies', () => {
  const trusted = new TrustedProxies(['10.0.0.0/8', '192.168.1.1', 'fd00::/8']);

  test('TrustedProxies matches single addresses, IPv4 and IPv6 ranges, and nothing else', () => {
    assert.equal(trusted.empty, false);
    for (const address of ['10.0.0.1', '10.255.255.255', '192.168.1.1', 'fd00::1', 'fdff::ffff']) assert.equal(trusted.has(address), true, address);
    for (const address of ['11.0.0.1', '192.168.1.2', '::1', 'fe80::1', '', 'not-an-ip']) assert.equal(trusted.has(address), false, address);
    const none = new TrustedProxies([]);
    assert.equal(none.empty, true);
    assert.equal(none.has('10.0.0.1'), false);
  });

  test('an untrusted peer is the client, whatever X-Forwarded-For claims', async () => {
    const req = await head('GET / HTTP/1.1', 'Host: a', 'X-Forwarded-For: 1.2.3.4');
    assert.equal(realClient(req, '203.0.113.9', trusted), '203.0.113.9');
  });

  test('behind trusted proxies, the client is the right-most entry that is not itself a trusted proxy', async () => {
    const cases: [string, string][] = [
      ['203.0.113.5', '203.0.113.5'],
      ['203.0.113.5, 10.0.0.7', '203.0.113.5'],
      // Left-most entries are whatever the client wrote: forged ones must not win.
      ['1.1.1.1, 2.2.2.2, 203.0.113.5, 10.0.0.7', '203.0.113.5'],
      ['6.6.6.6,203.0.113.5 ,  10.1.2.3', '203.0.113.5'],
      ['10.0.0.5, 10.0.0.7', '10.0.0.1'],
      [' , ', '10.0.0.1'],
      ['fd00::9, 2001:db8::1', '2001:db8::1'],
    ];
    for (const [header, expected] of cases) {
      const req = await head('GET / HTTP/1.1', 'Host: a', `X-Forwarded-For: ${header}`);
      assert.equal(realClient(req, '10.0.0.1', trusted), expected, header);
    }
  });

  test('two X-Forwarded-For lines are one list; none at all means the peer', async () => {
    const two = await head('GET / HTTP/1.1', 'Host: a', 'X-Forwarded-For: 9.9.9.9', 'X-Forwarded-For: 203.0.113.5, 10.0.0.7');
    assert.equal(realClient(two, '10.0.0.1', trusted), '203.0.113.5');
    const none = await head('GET / HTTP/1.1', 'Host: a');
    assert.equal(realClient(none, '10.0.0.1', trusted), '10.0.0.1');
  });

  test('clientAddress drops the IPv4-mapped prefix of a dual-stack listener', async (t) => {
    const dual = createServer((req, res) => {
      seen.push(clientAddress(req));
      res.end();
    });
    const seen: string[] = [];
    const listening = await new Promise<boolean>((resolve) => {
      dual.once('error', () => resolve(false));
      dual.listen(0, '::', () => resolve(true));
    });
    if (!listening) return t.skip('this machine has no IPv6 dual-stack listener');
    try {
      const dualPort = (dual.address() as { port: number }).port;
      for (const host of ['127.0.0.1', '::1']) {
        const socket = connect({ host, port: dualPort });
        socket.on('error', () => {});
        socket.end('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
        socket.resume();
        await once(socket, 'close');
      }
    } finally {
      dual.closeAllConnections();
      await new Promise((resolve) => dual.close(resolve));
    }
    assert.equal(seen[0], '127.0.0.1');
    if (seen[1] !== undefined) assert.equal(seen[1], '::1', 'a real IPv6 address is kept as it is');
  });
});

describe('connectionTokens and downstreamHeaders', () => {
  test('connectionTokens lists the extra names, lower-cased, or null when there are none', () => {
    assert.equal(connectionTokens(undefined), null);
    assert.equal(connectionTokens(''), null);
    assert.equal(connectionTokens('close'), null);
    assert.equal(connectionTokens('Keep-Alive, Upgrade ,close'), null);
    assert.deepEqual(connectionTokens('X-A, x-b ,, Keep-Alive'), new Set(['x-a', 'x-b']));
  });

  test('downstreamHeaders drops hop-by-hop and Connection-named headers, keeps the rest as they are', () => {
    const out = downstreamHeaders({
      'content-type': 'text/html',
      'set-cookie': ['a=1', 'b=2'],
      connection: 'keep-alive, X-Internal',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      trailer: 'X-T',
      upgrade: 'h2c',
      'proxy-authenticate': 'Basic',
      'x-internal': 'secret',
      'x-kept': 'yes',
      'x-undefined': undefined,
    });
    assert.deepEqual(out, { 'content-type': 'text/html', 'set-cookie': ['a=1', 'b=2'], 'x-kept': 'yes' });
  });

  test('a Connection header given as a list is honoured too', () => {
    const out = downstreamHeaders({ connection: ['X-One', 'x-two'], 'x-one': '1', 'x-two': '2', 'x-three': '3' });
    assert.deepEqual(out, { 'x-three': '3' });
  });
});
