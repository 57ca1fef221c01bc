// Which of this machine's addresses the dashboard offers to other devices: IPv4 first, then IPv6,
// never loopback (internal) or IPv6 link-local (fe80::/10), each once.
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { test } from 'node:test';
import { lanAddresses } from '../../src-main/core/net/lan-addresses.js';

function info(address: string, internal = false): NetworkInterfaceInfo {
  const family = address.includes(':') ? 'IPv6' : 'IPv4';
  const base = { address, netmask: '', mac: '00:00:00:00:00:00', internal, cidr: null };
  return family === 'IPv6' ? { ...base, family, scopeid: 0 } : { ...base, family };
}

test('IPv4 first, then IPv6; loopback, link-local and repeats left out', () => {
  const addresses = lanAddresses({
    lo: [info('127.0.0.1', true), info('::1', true)],
    eth0: [info('fe80::1c2b:3aff:fe4d:5e6f'), info('fd00::10'), info('192.168.1.20')],
    wlan0: [info('2001:db8::20'), info('10.33.0.2'), info('FEBF::1')],
    docker0: [info('192.168.1.20')],
    down: undefined,
  });
  assert.deepEqual(addresses, ['192.168.1.20', '10.33.0.2', 'fd00::10', '2001:db8::20']);
});

test('a machine with only loopback has none', () => {
  assert.deepEqual(lanAddresses({ lo: [info('127.0.0.1', true)] }), []);
});
