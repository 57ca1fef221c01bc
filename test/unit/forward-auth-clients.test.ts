// The providers' pools follow the settings: one per provider, kept while its address and headers
// stay the same (a rename keeps the connections), closed when it changes or goes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SignInProvider } from '../../shared/access.js';
import { ForwardAuthClients, FORWARD_AUTH_PRESETS } from '../../src-main/core/access/forward-auth.js';

const provider = (id: string, url: string, extra: Partial<SignInProvider> = {}): SignInProvider => ({ id, name: id, kind: 'authelia', url, copyHeaders: [], insecureTls: false, ...extra });

test('a pool per provider: kept across a rename, replaced and closed when the address changes, closed when removed', async () => {
  const clients = new ForwardAuthClients();
  clients.apply([provider('a', 'http://127.0.0.1:9091/api/authz/forward-auth'), provider('b', 'http://127.0.0.1:3000/api/auth/traefik', { kind: 'tinyauth' })]);
  const a = clients.get('a');
  const b = clients.get('b');
  assert.ok(a && b);
  assert.equal(a.path, '/api/authz/forward-auth');
  assert.deepEqual(a.copy.map(([name]) => name), ['Remote-User', 'Remote-Groups', 'Remote-Email', 'Remote-Name']);

  clients.apply([provider('a', 'http://127.0.0.1:9091/api/authz/forward-auth', { name: 'renamed' }), provider('b', 'http://127.0.0.1:3001/api/auth/traefik', { kind: 'tinyauth' })]);
  assert.equal(clients.get('a')?.pool, a.pool, 'same address: same pool');
  assert.equal(clients.get('a')?.provider.name, 'renamed');
  assert.notEqual(clients.get('b')?.pool, b.pool);
  assert.equal(b.pool.closed, true, 'the old pool is closed');

  clients.apply([]);
  assert.equal(clients.get('a'), undefined);
  assert.equal(a.pool.closed, true);
  await clients.close();
});

test('copy headers: the configured list replaces the preset\'s, and framing or forwarding headers are never copied', async () => {
  const clients = new ForwardAuthClients();
  clients.apply([provider('c', 'http://127.0.0.1:1/x', { kind: 'custom', copyHeaders: ['X-User', 'Host', 'X-Forwarded-For', 'x-user', 'Content-Length'] })]);
  assert.deepEqual(clients.get('c')?.copy, [['x-user', 'x-user']]);
  await clients.close();
});

test('every preset names its endpoint path, port, headers, documentation and a hint', () => {
  assert.deepEqual(FORWARD_AUTH_PRESETS.map((preset) => preset.kind), ['authelia', 'authentik', 'tinyauth', 'oauth2-proxy']);
  for (const preset of FORWARD_AUTH_PRESETS) {
    assert.match(preset.path, /^\//);
    assert.ok(preset.examplePort > 0 && preset.copyHeaders.length > 0);
    assert.match(preset.docs, /^https:\/\//);
    assert.ok(preset.hint.includes(preset.path), `${preset.kind}'s hint names its path`);
  }
});
