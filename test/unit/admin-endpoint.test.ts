// The onboarding page's link to the admin: none while the admin is loopback-only or not listening;
// its bound address when it has one; on every interface, the address the visitor used when it is
// one of this machine's, else the first LAN address.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LocalCa } from '../../src-main/core/certs/local-ca.js';
import { AdminEndpoint, isLoopbackAddress } from '../../src-main/core/gateway/admin-endpoint.js';

const noCa = (): LocalCa => {
  throw new Error('no certificate is issued in these tests');
};

test('loopback addresses keep the admin on plain HTTP', () => {
  for (const address of ['127.0.0.1', '127.0.0.53', '::1', '::ffff:127.0.0.1', 'localhost']) assert.ok(isLoopbackAddress(address), address);
  for (const address of ['0.0.0.0', '::', '192.168.1.20', 'fd00::1', '10.127.0.1']) assert.ok(!isLoopbackAddress(address), address);
});

test('no link while the admin is not on the LAN', () => {
  const endpoint = new AdminEndpoint({ ca: noCa, addresses: () => ['192.168.1.20'] });
  assert.equal(endpoint.linkFor('192.168.1.20'), null, 'not listening');
  endpoint.listening({ address: '127.0.0.1', port: 4780, https: false });
  assert.equal(endpoint.linkFor('192.168.1.20'), null, 'loopback only');
  endpoint.listening(null);
  assert.equal(endpoint.linkFor(undefined), null, 'stopped');
});

test('the link names the bound address, or on every interface the one the visitor used', () => {
  const endpoint = new AdminEndpoint({ ca: noCa, addresses: () => ['192.168.1.20', '10.8.0.1', 'fd00::20'] });
  endpoint.listening({ address: '192.168.1.20', port: 4780, https: true });
  assert.equal(endpoint.linkFor('nas.home.arpa'), 'https://192.168.1.20:4780/');

  endpoint.listening({ address: '0.0.0.0', port: 4780, https: true });
  assert.equal(endpoint.linkFor('10.8.0.1:8080'), 'https://10.8.0.1:4780/', 'the address the visitor reached');
  assert.equal(endpoint.linkFor('nas.home.arpa'), 'https://192.168.1.20:4780/', 'a name: the first LAN address');
  assert.equal(endpoint.linkFor('[fd00::20]'), 'https://192.168.1.20:4780/', '0.0.0.0 does not listen on IPv6');

  endpoint.listening({ address: '::', port: 443, https: true });
  assert.equal(endpoint.linkFor('[fd00::20]:80'), 'https://[fd00::20]/', 'IPv6 in brackets, port 443 left out');
});

test('on every interface with no LAN address there is nothing to link to', () => {
  const endpoint = new AdminEndpoint({ ca: noCa, addresses: () => [] });
  endpoint.listening({ address: '0.0.0.0', port: 4780, https: true });
  assert.equal(endpoint.linkFor('127.0.0.1'), null);
});
