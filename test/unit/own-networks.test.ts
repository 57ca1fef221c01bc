// This machine's own addresses and subnets, from an interface list the test gives: loopback always
// counts, a client inside an interface's subnet is on the own network, one outside is not, "this
// machine" means only its own addresses, and a changed interface list is picked up after the reread
// interval without rebuilding on every question.
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { test } from 'node:test';
import { OwnNetworks } from '../../src-main/core/net/own-networks.js';
import { detailAudience } from '../../src-main/core/proxy/error-audience.js';

function v4(address: string, prefix: number): NetworkInterfaceInfo {
  return { address, netmask: '', family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: `${address}/${prefix}` };
}
function v6(address: string, prefix: number): NetworkInterfaceInfo {
  return { address, netmask: '', family: 'IPv6', mac: '00:00:00:00:00:00', internal: false, cidr: `${address}/${prefix}`, scopeid: 0 };
}

const home = { eth0: [v4('192.168.1.20', 24), v6('fd00:1::20', 64), v6('fe80::20', 64)] };

test('loopback and the interface subnets are the own network; the rest of the world is not', () => {
  const own = new OwnNetworks(() => ({}));
  assert.ok(own.isOwnNetwork('127.0.0.1') && own.isOwnNetwork('127.8.9.10') && own.isOwnNetwork('::1') && own.isOwnNetwork('::ffff:127.0.0.1'));
  const networks = new OwnNetworks(() => home);
  for (const inside of ['192.168.1.1', '192.168.1.254', '::ffff:192.168.1.7', 'fd00:1::99', 'fe80::1234%eth0']) assert.ok(networks.isOwnNetwork(inside), inside);
  for (const outside of ['192.168.2.1', '10.0.0.1', '203.0.113.5', 'fd00:2::1', '2001:db8::1', '', 'not-an-ip']) assert.ok(!networks.isOwnNetwork(outside), outside);
});

test('this machine: loopback and its own addresses only, not its neighbours', () => {
  const networks = new OwnNetworks(() => home);
  for (const mine of ['127.0.0.1', '::1', '192.168.1.20', 'fd00:1::20']) assert.ok(networks.isThisMachine(mine), mine);
  for (const neighbour of ['192.168.1.21', 'fd00:1::21']) assert.ok(!networks.isThisMachine(neighbour), neighbour);
});

test('a changed interface list applies after the reread interval, and is not read on every question', () => {
  let now = 0;
  let reads = 0;
  let interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = home;
  const networks = new OwnNetworks(() => (reads++, interfaces), () => now);
  interfaces = { wlan0: [v4('10.1.0.5', 16)] };
  for (let i = 0; i < 100; i++) networks.isOwnNetwork('10.1.2.3');
  assert.equal(reads, 1, 'one read for a hundred questions');
  assert.ok(!networks.isOwnNetwork('10.1.2.3'), 'still the old list within the interval');
  now = 6000;
  assert.ok(networks.isOwnNetwork('10.1.2.3'), 'the new subnet after the interval');
  assert.ok(!networks.isOwnNetwork('192.168.1.1'), 'the old subnet is gone');
});

test('the three settings, over one set of networks', () => {
  const networks = new OwnNetworks(() => home);
  const local = detailAudience('local-network', networks);
  const machine = detailAudience('this-machine', networks);
  const nobody = detailAudience('nobody', networks);
  assert.deepEqual(['127.0.0.1', '192.168.1.20', '192.168.1.50', '198.51.100.2'].map(local), [true, true, true, false]);
  assert.deepEqual(['127.0.0.1', '192.168.1.20', '192.168.1.50', '198.51.100.2'].map(machine), [true, true, false, false]);
  assert.deepEqual(['127.0.0.1', '192.168.1.20'].map(nobody), [false, false]);
});
