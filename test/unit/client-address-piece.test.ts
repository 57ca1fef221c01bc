// The client-address piece alone: no pass on a route that trusts nobody (the engine's peer stands),
// a pass that names the client behind a trusted proxy, and "your address" under the global list.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { ClientAddress } from '../../src-main/core/access/client-address.js';
import type { PassRequest } from '../../src-main/core/proxy/passes/pass.js';
import { TrustedProxies } from '../../src-main/core/proxy/real-client.js';
import type { ProvisionedRoute } from '../../src-main/core/proxy/route-table.js';
import { route } from '../helpers/proxy-harness.js';

const base = (trusted: TrustedProxies) => ({ trusted }) as unknown as Omit<ProvisionedRoute, 'passes'>;

test('no pass where nobody is trusted; behind a trusted proxy the pass sets the client', () => {
  const piece = new ClientAddress();
  const stored = route('r', 'http://127.0.0.1:1', ['a.test']);
  assert.equal(piece.passFor(stored, base(new TrustedProxies([]))), null);
  const pass = piece.passFor(stored, base(new TrustedProxies(['10.0.0.1'])));
  assert.equal(pass?.name, 'client-address');
  const request = { req: { headers: { 'x-forwarded-for': '203.0.113.9' } } as unknown as IncomingMessage, peer: '10.0.0.1', client: '10.0.0.1' } as PassRequest;
  assert.equal(pass?.run(request), undefined);
  assert.equal(request.client, '203.0.113.9');
  const untrusted = { ...request, peer: '10.0.0.2', client: '10.0.0.2' } as PassRequest;
  pass?.run(untrusted);
  assert.equal(untrusted.client, '10.0.0.2');
});

test('yourAddress: the admin caller under the global trusted proxies; null in the desktop window', () => {
  const piece = new ClientAddress();
  const context = { client: { address: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.9' } } };
  assert.equal(piece.yourAddress(context), '127.0.0.1');
  let trusted = new TrustedProxies(['127.0.0.1']);
  piece.useTrustedProxies(() => trusted);
  assert.equal(piece.yourAddress(context), '203.0.113.9');
  trusted = new TrustedProxies([]);
  assert.equal(piece.yourAddress(context), '127.0.0.1', 'follows the list in force');
  assert.equal(piece.yourAddress({ client: null }), null);
  assert.equal(piece.yourAddress(undefined), null);
});
