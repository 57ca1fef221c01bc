// The retry rule (upstreams/retry.ts) and the sticky cookie's request-side helpers
// (proxy/sticky-cookie.ts), as pure functions; the integration tests run them on real sockets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { appendSetCookie, stickyCookie, stickyTagOf, stripStickyCookie } from '../../src-main/core/proxy/sticky-cookie.js';
import { retryable, withTriedCount } from '../../src-main/core/upstreams/retry.js';

const err = (code: string) => Object.assign(new Error(code), { code });

describe('retryable', () => {
  const fresh = { method: 'POST', bodyPulled: false, answered: false };
  test('a connection never made: any method', () => {
    for (const code of ['ECONNREFUSED', 'EHOSTUNREACH', 'ENOTFOUND', 'UND_ERR_CONNECT_TIMEOUT', 'DEPTH_ZERO_SELF_SIGNED_CERT']) assert.equal(retryable(err(code), fresh), true, code);
  });
  test('a reset before any answer: idempotent methods only', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']) assert.equal(retryable(err('ECONNRESET'), { ...fresh, method }), true, method);
    for (const method of ['POST', 'PATCH', 'CONNECT']) assert.equal(retryable(err('UND_ERR_SOCKET'), { ...fresh, method }), false, method);
  });
  test('never once a body byte was pulled or the client got anything, never for timeouts or bad answers', () => {
    assert.equal(retryable(err('ECONNREFUSED'), { ...fresh, bodyPulled: true }), false);
    assert.equal(retryable(err('ECONNRESET'), { method: 'GET', bodyPulled: false, answered: true }), false);
    for (const code of ['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'HPE_INVALID_CONSTANT']) assert.equal(retryable(err(code), { ...fresh, method: 'GET' }), false, code);
  });
  test('the final detail says how many upstreams were tried', () => {
    assert.equal(withTriedCount('A refused the connection.', 1), 'A refused the connection.');
    assert.equal(withTriedCount('A refused the connection.', 3), 'A refused the connection; tried 3 upstreams.');
    assert.equal(withTriedCount('Is it running?', 2), 'Is it running? (tried 2 upstreams)');
  });
});

describe('sticky cookie on the request path', () => {
  test('reads the tag among other cookies, joined or split', () => {
    assert.equal(stickyTagOf(undefined), null);
    assert.equal(stickyTagOf('a=1; b=2'), null);
    assert.equal(stickyTagOf('a=1; gatehouse_upstream=t1.x; b=2'), 't1.x');
    assert.equal(stickyTagOf(['a=1', 'gatehouse_upstream=t2']), 't2');
    assert.equal(stickyTagOf('gatehouse_upstream='), null);
  });
  test('strips ours from every Cookie field sent upstream; a field left empty goes', () => {
    const headers = ['host', 'x', 'cookie', 'a=1; gatehouse_upstream=t; b=2', 'Cookie', 'gatehouse_upstream=t', 'x-other', 'gatehouse_upstream=kept'];
    stripStickyCookie(headers);
    assert.deepEqual(headers, ['host', 'x', 'cookie', 'a=1; b=2', 'x-other', 'gatehouse_upstream=kept']);
  });
  test('sets it after the service\'s own cookies, Secure over HTTPS', () => {
    const head: Record<string, string | string[]> = { 'set-cookie': 'app=1' };
    appendSetCookie(head, stickyCookie('tag', true));
    assert.deepEqual(head['set-cookie'], ['app=1', 'gatehouse_upstream=tag; Path=/; HttpOnly; SameSite=Lax; Secure']);
    const plain: Record<string, string | string[]> = {};
    appendSetCookie(plain, stickyCookie('tag', false));
    assert.deepEqual(plain['set-cookie'], ['gatehouse_upstream=tag; Path=/; HttpOnly; SameSite=Lax']);
  });
});
