// The inspector's core below the proxy (the integration test drives it through real sockets):
// which header names count as secrets, the ring under new settings, and what a capture reports
// when a body was cut or never read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Inspector, isSecretHeader, maskedQuery, maskedValue, shownHeader } from '../../src-main/core/insight/inspector.js';
import type { Exchange } from '../../src-main/core/proxy/exchange.js';

/** The part of an Exchange a capture reads. */
function exchange(path: string, headers: Record<string, string> = {}, hasBody = false): Exchange {
  const rawHeaders = Object.entries(headers).flat();
  return {
    startedAt: Date.now(),
    startedPerf: performance.now(),
    req: { method: hasBody ? 'POST' : 'GET', url: path, headers, rawHeaders },
    target: { path, authority: 'app.test', hostname: 'app.test' },
    client: '192.0.2.7',
    peer: '192.0.2.7',
    secure: false,
    h2: false,
    socket: { remotePort: 40000 },
    requestHasBody: hasBody,
    error: null,
    upstream: null,
  } as unknown as Exchange;
}

describe('inspector core', () => {
  it('masks the named secret headers and any name with token, secret, password, api key or session', () => {
    for (const name of ['Authorization', 'proxy-authorization', 'Cookie', 'Set-Cookie', 'X-Api-Key', 'X-Auth-Token', 'X-CSRF-Token', 'X-Client-Secret', 'X-Password', 'apikey', 'Api_Key', 'X-Session-Id']) {
      assert.equal(isSecretHeader(name), true, name);
    }
    for (const name of ['X-Emby-Authorization', 'X-Authorization', 'X-Auth-Key', 'X-Forwarded-Cookie', 'X-Amz-Signature', 'X-Credential', 'X-Passwd']) assert.equal(isSecretHeader(name), true, name);
    for (const name of ['Accept', 'Content-Type', 'User-Agent', 'X-Request-Id', 'Host', 'Sec-WebSocket-Key', 'Referer']) assert.equal(isSecretHeader(name), false, name);
    assert.equal(maskedValue('Bearer abc'), '••• masked (10 characters)');
  });

  it('masks secret query parameters in paths and URL-valued headers, leaving the rest as sent', () => {
    assert.equal(maskedQuery('/a?X-Plex-Token=t1&page=2&api_key=k&access_token=o#f'), '/a?X-Plex-Token=masked&page=2&api_key=masked&access_token=masked#f');
    assert.equal(maskedQuery('/s?sig=abc&Signature=x&key=1&auth=2&password=3&secret=4&q=hello%20there'), '/s?sig=masked&Signature=masked&key=masked&auth=masked&password=masked&secret=masked&q=hello%20there');
    assert.equal(maskedQuery('/plain?a=1&b'), '/plain?a=1&b', 'nothing secret: unchanged');
    assert.equal(maskedQuery('/no-query'), '/no-query');
    assert.equal(shownHeader('Referer', 'https://plex.test/web?X-Plex-Token=t1'), 'https://plex.test/web?X-Plex-Token=masked');
    assert.equal(shownHeader('Location', '/login?next=%2F&token=abc'), '/login?next=%2F&token=masked');
    assert.equal(shownHeader('Accept', 'text/html?token=abc'), 'text/html?token=abc', 'only URL-valued headers are read as URLs');
    const inspector = new Inspector();
    inspector.configure([{ routeId: 'a', keep: 2, bodyBytes: 0 }]);
    inspector.begin('a', exchange('/x?X-Plex-Token=plex-secret&page=1', { referer: 'http://a.test/?api_key=k1' }));
    const [capture] = inspector.view('a').captures;
    assert.equal(capture?.path, '/x?X-Plex-Token=masked&page=1');
    assert.deepEqual(capture?.requestHeaders, [['referer', 'http://a.test/?api_key=masked']]);
    assert.equal(inspector.capture('a', capture!.id)!.path, '/x?X-Plex-Token=plex-secret&page=1', 'the replay keeps the original');
  });

  it('knows a replay by its connection\'s own address and port, on any address', () => {
    const inspector = new Inspector();
    inspector.configure([{ routeId: 'a', keep: 5, bodyBytes: 0 }]);
    const seen: string[] = [];
    const forget = inspector.expectReplay('10.88.0.1', 40001, (capture) => seen.push(capture.path));
    const at = (address: string, port: number, path: string) => {
      const ex = exchange(path);
      (ex as unknown as { socket: object }).socket = { remoteAddress: address, remotePort: port };
      return ex;
    };
    inspector.begin('a', at('10.88.0.2', 40001, '/other-machine'))?.finish(200, exchange('/'));
    inspector.begin('a', at('::ffff:10.88.0.1', 40001, '/replay'))?.finish(200, exchange('/'));
    inspector.begin('a', at('10.88.0.1', 40001, '/again'))?.finish(200, exchange('/'));
    forget();
    assert.deepEqual(seen, ['/replay'], 'only the replay\'s own connection, once');
    assert.deepEqual(inspector.view('a').captures.map((c) => [c.path, c.replay]), [['/again', false], ['/replay', true], ['/other-machine', false]]);
  });

  it('keeps all routes\' captures together under the cap, dropping the largest route\'s oldest first', () => {
    const inspector = new Inspector(200_000);
    inspector.configure([{ routeId: 'big', keep: 100, bodyBytes: 10_000 }, { routeId: 'small', keep: 100, bodyBytes: 10_000 }]);
    const fill = (routeId: string, path: string, bytes: number) => {
      const capture = inspector.begin(routeId, exchange(path, { 'content-length': String(bytes) }, true))!;
      capture.requestChunk(Buffer.alloc(bytes));
      capture.requestEnd();
      capture.finish(200, exchange('/'));
    };
    for (let i = 0; i < 3; i++) fill('small', `/s${i}`, 1000);
    for (let i = 0; i < 40; i++) fill('big', `/b${i}`, 10_000);
    inspector.enforceCap();
    assert.ok(inspector.bytesHeld <= 200_000, `held ${inspector.bytesHeld}`);
    const big = inspector.view('big').captures.map((c) => c.path);
    assert.equal(big[0], '/b39', 'the newest stays');
    assert.ok(!big.includes('/b0'), 'the oldest went');
    assert.deepEqual(inspector.view('small').captures.map((c) => c.path), ['/s2', '/s1', '/s0'], 'the small route keeps its captures');
  });

  it('is a no-op for routes not inspected, keeps the newest `keep`, and keeps captures through new settings', () => {
    const inspector = new Inspector();
    assert.equal(inspector.begin('a', exchange('/x')), null, 'nothing inspected');
    inspector.configure([{ routeId: 'a', keep: 3, bodyBytes: 10 }]);
    assert.equal(inspector.begin('b', exchange('/x')), null, 'another route');
    for (let i = 0; i < 5; i++) inspector.begin('a', exchange(`/r${i}`))?.finish(200, exchange('/'));
    assert.deepEqual(inspector.view('a').captures.map((c) => c.path), ['/r4', '/r3', '/r2']);
    inspector.configure([{ routeId: 'a', keep: 2, bodyBytes: 10 }]);
    assert.deepEqual(inspector.view('a').captures.map((c) => c.path), ['/r4', '/r3'], 'a smaller ring keeps the newest');
    inspector.configure([{ routeId: 'a', keep: 4, bodyBytes: 10 }]);
    inspector.begin('a', exchange('/r5'));
    assert.deepEqual(inspector.view('a').captures.map((c) => c.path), ['/r5', '/r4', '/r3']);
    inspector.configure([]);
    assert.deepEqual(inspector.view('a'), { routeId: 'a', enabled: false, keep: 50, bodyBytes: 4096, captures: [], bytesHeld: 0 });
  });

  it('keeps bodyBytes of a body, and refuses to replay one that was cut or never read', () => {
    const inspector = new Inspector();
    inspector.configure([{ routeId: 'a', keep: 5, bodyBytes: 4 }]);
    const cut = inspector.begin('a', exchange('/cut', { 'content-type': 'text/plain' }, true))!;
    cut.requestChunk(Buffer.from('abc'));
    cut.requestChunk(Buffer.from('defg'));
    cut.requestEnd();
    const unread = inspector.begin('a', exchange('/unread', {}, true))!;
    unread.answered(403, { 'content-type': 'text/plain' }, 'no');
    const whole = inspector.begin('a', exchange('/whole', { 'content-length': '3' }, true))!;
    whole.requestChunk(Buffer.from('xyz'));
    whole.requestEnd();
    const [w, u, c] = inspector.view('a').captures;
    assert.deepEqual(c?.requestBody, { base64: Buffer.from('abcd').toString('base64'), totalBytes: 7, truncated: true, contentType: 'text/plain' });
    assert.equal(u?.requestBody.totalBytes, null);
    assert.equal(u?.status, 403);
    assert.equal(Buffer.from(u?.responseBody.base64 ?? '', 'base64').toString(), 'no');
    assert.equal(w?.requestBody.totalBytes, 3);
    assert.match(inspector.capture('a', c!.id)!.notReplayable ?? '', /7 bytes\) was longer than the 4 bytes kept/);
    assert.match(inspector.capture('a', u!.id)!.notReplayable ?? '', /never read in full/);
    assert.equal(inspector.capture('a', w!.id)!.notReplayable, null);
  });
});
