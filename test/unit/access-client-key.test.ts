// clientKey, the key every per-client counter is kept under: IPv4 as it is, IPv6 by its /64 however
// it is written (compressed, in full, with a zone, with an embedded IPv4 tail), IPv4-mapped IPv6 as
// the IPv4 address.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientKey } from '../../src-main/core/access/client-key.js';

test('IPv4 and anything that is not IPv6 are their own key', () => {
  for (const address of ['203.0.113.5', '127.0.0.1', '', 'unknown']) assert.equal(clientKey(address), address);
});

test('every address of one /64 has one key, however it is written; the next /64 another', () => {
  const key = '2001:db8:1:2::/64';
  for (const address of ['2001:db8:1:2::1', '2001:db8:1:2::7', '2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:DB8:1:2:aaaa::', '2001:db8:1:2::1%eth0', '2001:db8:1:2::192.0.2.1']) {
    assert.equal(clientKey(address), key, address);
  }
  assert.equal(clientKey('2001:db8:1:3::1'), '2001:db8:1:3::/64');
  assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
  assert.equal(clientKey('fe80::1%lo'), 'fe80:0:0:0::/64');
});

test('IPv4-mapped IPv6 is the IPv4 address', () => {
  assert.equal(clientKey('::ffff:203.0.113.5'), '203.0.113.5');
  assert.equal(clientKey('::FFFF:203.0.113.5'), '203.0.113.5');
});
