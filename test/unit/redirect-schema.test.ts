// The redirect field of a route: targets are normalized absolute http(s) bases, a redirect route has
// no upstreams, and a forwarding route still needs one; the Location never leaves the target's host.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RouteInputSchema, RouteSchema, RouteUpdateSchema } from '../../shared/model.js';
import { parseRedirectTarget, redirectLocation } from '../../shared/redirect.js';

const messages = (result: { success: boolean; error?: { issues: { message: string }[] } }) => (result.error?.issues ?? []).map((issue) => issue.message);

test('a forwarding route still needs an upstream, with the same words', () => {
  const result = RouteInputSchema.safeParse({ names: ['tv.home.arpa'], upstreams: [] });
  assert.equal(result.success, false);
  assert.deepEqual(messages(result), ['a route needs at least one upstream']);
});

test('a redirect route has no upstreams; both together is refused with what to do', () => {
  const ok = RouteInputSchema.parse({ names: ['old.example'], upstreams: [], redirect: { to: 'https://new.example/' } });
  assert.deepEqual(ok.redirect, { to: 'https://new.example', status: 301, keepPath: true });
  const both = RouteInputSchema.safeParse({ names: ['old.example'], upstream: '10.0.0.4:80', redirect: { to: 'https://new.example' } });
  assert.equal(both.success, false);
  assert.match(messages(both).join(' '), /a redirect route has no upstreams/);
  assert.equal(RouteSchema.safeParse({ id: 'r1', names: ['old.example'], upstreams: [], redirect: { to: 'https://new.example' } }).success, true);
  assert.equal(RouteUpdateSchema.safeParse({ id: 'r1', names: ['old.example'], upstreams: [], redirect: null }).success, false);
});

test('stored routes without the field read as forwarding routes', () => {
  assert.equal(RouteSchema.parse({ id: 'r1', names: ['tv.home.arpa'], upstream: '10.0.0.4:8096' }).redirect, null);
});

test('statuses, passthrough and bad targets are refused clearly', () => {
  assert.match(messages(RouteInputSchema.safeParse({ names: ['a.example'], upstreams: [], redirect: { to: 'https://b.example', status: 303 } })).join(), /301, 302, 307 or 308/);
  assert.match(messages(RouteInputSchema.safeParse({ names: ['a.example'], upstreams: [], redirect: { to: 'https://b.example' }, tls: { mode: 'passthrough' } })).join(), /passed-through/);
  for (const [input, problem] of [
    ['new.example', /must start with http/],
    ['ftp://new.example', /must start with http/],
    ['https://user:pw@new.example', /user name or password/],
    ['https://new.example/?a=1', /query or fragment/],
    ['https://new.example#top', /query or fragment/],
    ['', /enter the address/],
  ] as const) {
    const parsed = parseRedirectTarget(input);
    assert.ok('problem' in parsed, input);
    assert.match(parsed.problem, problem);
  }
  assert.deepEqual(parseRedirectTarget(' HTTPS://New.Example:8443/App/ '), { url: 'https://new.example:8443/App' });
});

test('the Location keeps the host whatever the path says', () => {
  const keep = { to: 'https://new.example', keepPath: true };
  assert.equal(redirectLocation(keep, '/a?b=c'), 'https://new.example/a?b=c');
  assert.equal(redirectLocation(keep, '//evil.example/x'), 'https://new.example//evil.example/x');
  assert.equal(redirectLocation(keep, '@evil.example'), 'https://new.example/@evil.example');
  assert.equal(redirectLocation(keep, '*'), 'https://new.example/');
  for (const path of ['//evil.example', '/\\evil.example', '@evil.example', ':443@evil.example', '/..//evil.example']) {
    assert.equal(new URL(redirectLocation(keep, path)).host, 'new.example', path);
    assert.equal(new URL(redirectLocation({ to: 'https://new.example/app', keepPath: true }, path)).host, 'new.example', path);
  }
  assert.equal(redirectLocation({ to: 'https://new.example', keepPath: false }, '/a'), 'https://new.example/');
  assert.equal(redirectLocation({ to: 'https://new.example/app', keepPath: false }, '/a'), 'https://new.example/app');
});
