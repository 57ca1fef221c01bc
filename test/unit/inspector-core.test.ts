// The inspector's core below the proxy (the integration test drives it through real sockets):
// which header names count as secrets, the ring under new settings, and what a capture reports
// when a body was cut or never read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Inspector, isSecretHeader, maskedValue } from '../../src-main/core/insight/inspector.js';
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
    for (const name of ['Accept', 'Content-Type', 'User-Agent', 'X-Request-Id', 'Host']) assert.equal(isSecretHeader(name), false, name);
    assert.equal(maskedValue('Bearer abc'), '••• masked (10 characters)');
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
