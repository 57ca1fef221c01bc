// The headless transport's small parts: the route table built from `endpoints`, the token check,
// and the static-file path resolution that keeps requests inside dist/renderer.
import assert from 'node:assert/strict';
import { sep } from 'node:path';
import { test } from 'node:test';
import { endpoints } from '../../shared/api.js';
import { bearerMatches } from '../../src-main/headless/admin-token.js';
import { createApiRouter, takesBody } from '../../src-main/headless/api-router.js';
import { formatEvent } from '../../src-main/headless/event-stream.js';
import { contentTypeFor, resolveInside } from '../../src-main/headless/static-files.js';

test('every endpoint is reachable at its own method and path', () => {
  const route = createApiRouter();
  for (const [member, spec] of Object.entries(endpoints)) {
    const path = spec.path.replace(':id', 'abc');
    const match = route(spec.method, path);
    assert.equal(match.kind, 'endpoint', `${spec.method} ${path}`);
    if (match.kind === 'endpoint') assert.equal(match.member, member);
  }
});

test('path parameters are decoded; wrong methods and unknown paths are told apart', () => {
  const route = createApiRouter();
  assert.deepEqual(route('GET', '/api/routes/a%20b'), { kind: 'endpoint', member: 'getRoute', params: { id: 'a b' } });
  assert.deepEqual(route('GET', '/api/routes/'), { kind: 'endpoint', member: 'listRoutes', params: {} });
  assert.deepEqual(route('PATCH', '/api/routes/x'), { kind: 'wrong_method', allowed: ['GET', 'PUT', 'DELETE'] });
  assert.deepEqual(route('GET', '/api/routes/x/y'), { kind: 'none' });
  assert.deepEqual(route('GET', '/api/routes/%E0%A4%A'), { kind: 'none' });
  assert.equal(takesBody('addRoute'), true);
  assert.equal(takesBody('removeRoute'), false);
});

test('the bearer token must match exactly', () => {
  const token = 'k'.repeat(43);
  assert.equal(bearerMatches(token, `Bearer ${token}`), true);
  assert.equal(bearerMatches(token, `bearer ${token}`), true, 'the scheme is case-insensitive');
  assert.equal(bearerMatches(token, `Bearer ${token}x`), false);
  assert.equal(bearerMatches(token, `Bearer ${token.slice(1)}`), false);
  assert.equal(bearerMatches(token, token), false, 'the scheme is required');
  assert.equal(bearerMatches(token, 'Bearer '), false);
  assert.equal(bearerMatches(token, undefined), false);
});

test('static paths stay inside the renderer directory', () => {
  const root = `${sep}srv${sep}renderer`;
  assert.equal(resolveInside(root, '/'), `${root}${sep}index.html`);
  assert.equal(resolveInside(root, '/assets/app-1234.js'), `${root}${sep}assets${sep}app-1234.js`);
  for (const evil of ['/../secret', '/%2e%2e/secret', '/assets/..%2f..%2fsecret', '/a%00.js', '/%E0%A4%A', '/..%5c..%5csecret']) {
    const resolved = resolveInside(root, evil);
    assert.ok(resolved === null || resolved.startsWith(root + sep), `${evil} → ${resolved}`);
  }
  assert.equal(contentTypeFor('x/app.js'), 'text/javascript; charset=utf-8');
  assert.equal(contentTypeFor('index.HTML'), 'text/html; charset=utf-8');
  assert.equal(contentTypeFor('font.woff2'), 'font/woff2');
  assert.equal(contentTypeFor('blob.bin'), 'application/octet-stream');
});

test('an event is one event line and one data line', () => {
  assert.equal(formatEvent({ type: 'routes', data: [] }), 'event: routes\ndata: []\n\n');
});
