// Which refusals to bind a port the port check puts down to this Gatehouse's own running listener.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { heldByOwnListener } from '../../src-main/core/gateway/port-check.js';

test('our listener counts for exactly its address and port', () => {
  const own = { address: '127.0.0.1', port: 8080 };
  assert.equal(heldByOwnListener(own, '127.0.0.1', 8080, 'darwin'), true);
  assert.equal(heldByOwnListener(own, '127.0.0.1', 8081, 'linux'), false, 'another port');
  assert.equal(heldByOwnListener(own, '0.0.0.0', 8080, 'linux'), false, 'a wildcard over our specific address may meet another program');
  assert.equal(heldByOwnListener(own, '10.0.0.5', 8080, 'linux'), false, 'another specific address');
  assert.equal(heldByOwnListener(null, '127.0.0.1', 8080, 'linux'), false, 'not running');
});

test('on Linux our wildcard listener covers the specific addresses of its family; elsewhere it does not', () => {
  const v4 = { address: '0.0.0.0', port: 80 };
  assert.equal(heldByOwnListener(v4, '10.0.0.5', 80, 'linux'), true);
  assert.equal(heldByOwnListener(v4, '::1', 80, 'linux'), false, 'an IPv4 wildcard says nothing about IPv6');
  assert.equal(heldByOwnListener({ address: '::', port: 80 }, '10.0.0.5', 80, 'linux'), true, ':: is dual-stack');
  for (const platform of ['darwin', 'win32'] as const) {
    assert.equal(heldByOwnListener(v4, '10.0.0.5', 80, platform), false, `${platform} lets a specific bind share the port`);
  }
});
