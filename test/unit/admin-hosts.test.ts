// Which Host headers and Origins the admin answers to, from a given host name and interface list:
// this machine's own names and addresses, with or without the admin port, plus admin.allowedHosts;
// an address the machine gains later is picked up on the next miss, without a timer.
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { test } from 'node:test';
import { AdminHosts, splitHostHeader } from '../../src-main/headless/admin-hosts.js';

function iface(address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo {
  return { address, family, internal, netmask: '', mac: '00:00:00:00:00:00', cidr: null, ...(family === 'IPv6' ? { scopeid: 0 } : {}) } as NetworkInterfaceInfo;
}

function hostsFor(addresses: () => string[], allowedHosts: string[] = []): AdminHosts {
  const hosts = new AdminHosts({
    allowedHosts,
    hostname: () => 'Box.lan',
    interfaces: () => ({ lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)], eth0: addresses().map((a) => iface(a, a.includes(':') ? 'IPv6' : 'IPv4')) }),
  });
  hosts.setListener('0.0.0.0', 4780);
  return hosts;
}

test('splitHostHeader reads names, IPv4 and bracketed IPv6, with and without a port', () => {
  assert.deepEqual(splitHostHeader('Example.COM.:80'), { host: 'example.com', port: '80' });
  assert.deepEqual(splitHostHeader('[::1]:4780'), { host: '[::1]', port: '4780' });
  assert.deepEqual(splitHostHeader('10.0.0.2'), { host: '10.0.0.2', port: null });
  for (const bad of ['', 'a:b:c', '[::1', 'host:port', 'a b', 'x:123456']) assert.equal(splitHostHeader(bad), null, bad);
});

test("this machine's names and addresses pass, with the admin port or none; others do not", () => {
  const hosts = hostsFor(() => ['192.168.1.20', 'fd00::20']);
  for (const host of ['localhost', '127.0.0.1', '[::1]', 'box.lan', 'box.local', '192.168.1.20', '[fd00::20]', 'BOX.LOCAL.']) {
    assert.ok(hosts.allowsHost(host), host);
    assert.ok(hosts.allowsHost(`${host}:4780`), `${host}:4780`);
    assert.ok(!hosts.allowsHost(`${host}:4781`), `${host}:4781 is another port`);
  }
  for (const host of [undefined, 'evil.example', 'box.lan.evil.example', '192.168.1.21', 'fd00::20', 'localhost.evil']) assert.ok(!hosts.allowsHost(host), String(host));
});

test('admin.allowedHosts adds names, and a change replaces them', () => {
  const hosts = hostsFor(() => [], ['admin.home.arpa']);
  assert.ok(hosts.allowsHost('admin.home.arpa:4780'));
  hosts.setAllowedHosts(['other.home.arpa']);
  assert.ok(!hosts.allowsHost('admin.home.arpa'));
  assert.ok(hosts.allowsHost('Other.Home.Arpa'));
  hosts.setAllowedHosts(['*.home.arpa']);
  assert.ok(hosts.allowsHost('nas.home.arpa:4780'), 'a wildcard covers one label');
  assert.ok(!hosts.allowsHost('a.nas.home.arpa'), 'and only one');
  assert.ok(!hosts.allowsHost('home.arpa'), 'not the parent itself');
});

test('an address the machine gains later is accepted after a miss (at most one rebuild per 2 s)', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const addresses = ['192.168.1.20'];
  const hosts = hostsFor(() => addresses);
  addresses.push('10.0.0.5');
  assert.ok(!hosts.allowsHost('10.0.0.5'), 'a rebuild happened just now');
  t.mock.timers.tick(2_500);
  assert.ok(hosts.allowsHost('10.0.0.5:4780'), 'rebuilt on the miss');
});

test("an Origin passes only with the listener's scheme, the admin port and an own host", () => {
  const hosts = hostsFor(() => ['192.168.1.20']);
  assert.ok(hosts.allowsOrigin('http://127.0.0.1:4780', 'http:'));
  assert.ok(hosts.allowsOrigin('https://192.168.1.20:4780', 'https:'));
  assert.ok(hosts.allowsOrigin('http://[::1]:4780', 'http:'));
  for (const origin of ['https://127.0.0.1:4780', 'http://127.0.0.1', 'http://127.0.0.1:80', 'http://evil.example:4780', 'null', 'not a url', 'file://']) {
    assert.ok(!hosts.allowsOrigin(origin, 'http:'), origin);
  }
  const https = new AdminHosts({ hostname: () => 'box', interfaces: () => ({}) });
  https.setListener('192.168.1.20', 443);
  assert.ok(https.allowsOrigin('https://192.168.1.20', 'https:'), 'the default port is implied');
  assert.ok(https.allowsHost('192.168.1.20'), 'the bound address is always one of its hosts');
});

test('an unspecified address (0.0.0.0, ::) is never a host of the admin, even as its bind address', () => {
  const unspecified = ['0.0.0.0', '[::]', '[0:0:0:0:0:0:0:0]', '[::0]'];
  for (const bind of ['0.0.0.0', '::']) {
    const hosts = new AdminHosts({
      allowedHosts: ['0.0.0.0', '::', 'admin.home.arpa'],
      hostname: () => 'box',
      interfaces: () => ({ odd: [iface('0.0.0.0', 'IPv4'), iface('::', 'IPv6')], eth0: [iface('192.168.1.20', 'IPv4')] }),
    });
    hosts.setListener(bind, 4780);
    for (const host of unspecified) {
      assert.ok(!hosts.allowsHost(host), `bound to ${bind}: Host ${host}`);
      assert.ok(!hosts.allowsHost(`${host}:4780`), `bound to ${bind}: Host ${host}:4780`);
      assert.ok(!hosts.allowsOrigin(`http://${host}:4780`, 'http:'), `bound to ${bind}: Origin ${host}`);
    }
    for (const host of ['127.0.0.1:4780', '192.168.1.20:4780', 'admin.home.arpa']) assert.ok(hosts.allowsHost(host), `bound to ${bind}: ${host} still passes`);
  }
});
