// The client-address piece alone: on a route that trusts nobody the engine's peer stands and the
// pass only marks a request from a proxy nobody listed (viaUnknownProxy); behind a trusted proxy it
// names the client; "your address" under the global list.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { ClientAddress, unknownProxyAdvice } from '../../src-main/core/access/client-address.js';
import { NAMED_NO_CLIENT } from '../../src-main/core/net/connection-front.js';
import type { PassRequest } from '../../src-main/core/proxy/passes/pass.js';
import { TrustedProxies } from '../../src-main/core/proxy/real-client.js';
import type { ProvisionedRoute } from '../../src-main/core/proxy/route-table.js';
import { route } from '../helpers/proxy-harness.js';

const base = (trusted: TrustedProxies) => ({ trusted }) as unknown as Omit<ProvisionedRoute, 'passes'>;
const stored = route('r', 'http://127.0.0.1:1', ['a.test']);

function request(peer: string, headers: Record<string, string>, socket: object = {}): PassRequest {
  return { req: { headers } as unknown as IncomingMessage, peer, client: peer, socket: socket as Socket } as PassRequest;
}

test('behind a trusted proxy the pass sets the client; an untrusted peer stays the client', () => {
  const pass = new ClientAddress().passFor(stored, base(new TrustedProxies(['10.0.0.1'])));
  assert.equal(pass.name, 'client-address');
  const trusted = request('10.0.0.1', { 'x-forwarded-for': '203.0.113.9' });
  assert.equal(pass.run(trusted), undefined);
  assert.equal(trusted.client, '203.0.113.9');
  assert.equal(trusted.viaUnknownProxy, undefined, "a trusted proxy's headers are what it is for");
  const untrusted = request('10.0.0.2', { 'x-forwarded-for': '203.0.113.9' });
  pass.run(untrusted);
  assert.equal(untrusted.client, '10.0.0.2');
  assert.equal(untrusted.viaUnknownProxy, true, 'an untrusted peer naming another client is a proxy nobody listed');
});

test('where nobody is trusted, a request naming another client is marked; the client stays the peer', () => {
  const pass = new ClientAddress().passFor(stored, base(new TrustedProxies([])));
  const named: Record<string, string>[] = [{ 'cf-connecting-ip': '203.0.113.5' }, { 'x-forwarded-for': '203.0.113.5' }, { forwarded: 'for=203.0.113.5' }, { x_real_ip: '203.0.113.5' }];
  for (const headers of named) {
    const tunnelled = request('127.0.0.1', headers);
    assert.equal(pass.run(tunnelled), undefined);
    assert.equal(tunnelled.client, '127.0.0.1', 'counters stay keyed by the peer');
    assert.equal(tunnelled.viaUnknownProxy, true, JSON.stringify(headers));
    assert.match(unknownProxyAdvice(tunnelled), /^A tunnel or proxy at 127\.0\.0\.1 forwards visitors but is not a trusted proxy: list it under trusted proxies/);
  }
  const plain = request('127.0.0.1', { 'user-agent': 'curl', 'x-forwarded-proto': 'https' });
  pass.run(plain);
  assert.equal(plain.viaUnknownProxy, undefined, 'a request that names nobody else is the peer itself');
});

test('a connection whose PROXY header named no client is marked, trusted peer or not', () => {
  for (const trusted of [new TrustedProxies([]), new TrustedProxies(['10.0.0.5'])]) {
    const pass = new ClientAddress().passFor(stored, base(trusted));
    const health = request('10.0.0.5', {}, { [NAMED_NO_CLIENT]: true });
    pass.run(health);
    assert.equal(health.viaUnknownProxy, true);
    assert.match(unknownProxyAdvice(health), /PROXY protocol header from 10\.0\.0\.5 named no client/);
    const overTls = request('10.0.0.5', {}, { _parent: { [NAMED_NO_CLIENT]: true } });
    pass.run(overTls);
    assert.equal(overTls.viaUnknownProxy, true, 'the TLS socket asks the connection under it');
  }
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
