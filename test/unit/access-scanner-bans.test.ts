// Scanner bans, on the guard alone with a test clock: probes from one address within the window
// start a ban that every route sees (BanSource), probes spread over more than the window do not, a
// ban ends after banSeconds or when lifted, bans are listed newest first, the runtime is told when
// one starts — and an address on this machine's own networks is answered 404 but never counted.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { NetworkInterfaceInfo } from 'node:os';
import { test } from 'node:test';
import { defaultAccessSettings, defaultRouteAccess, type AccessSettings } from '../../shared/access.js';
import { noTls, type Route } from '../../shared/model.js';
import type { AccessContext } from '../../src-main/core/access/context.js';
import { Reputation } from '../../src-main/core/access/reputation.js';
import { ScannerGuard } from '../../src-main/core/access/scanners.js';
import { OwnNetworks } from '../../src-main/core/net/own-networks.js';
import { ProxyError } from '../../src-main/core/proxy/errors.js';
import type { PassRequest, RequestPass } from '../../src-main/core/proxy/passes/pass.js';
import type { ProvisionedRoute } from '../../src-main/core/proxy/route-table.js';
import { defaultBalancing, defaultHealthCheck, singleUpstream } from '../../shared/upstreams.js';

const lan: NetworkInterfaceInfo = { address: '192.168.1.20', netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: '192.168.1.20/24' };

function setup(scannerBan: AccessSettings['scannerBan'] = { probes: 3, windowSeconds: 600, banSeconds: 3600 }) {
  let now = 1_700_000_000_000;
  let changes = 0;
  const settings = { ...defaultAccessSettings(), scannerBan };
  const reputation = new Reputation();
  const context: AccessContext = { settings, ownNetworks: new OwnNetworks(() => ({ eth0: [lan] })), reputation, dataDir: '/nonexistent' };
  const guard = new ScannerGuard(() => context, () => changes++, () => now);
  reputation.add(guard);
  guard.apply(settings);
  const route = (id: string): Route => ({ id, names: [`${id}.home.arpa`], upstreams: singleUpstream('http://10.0.0.4:80'), redirect: null, balancing: defaultBalancing(), healthCheck: defaultHealthCheck(), enabled: true, websocket: true, insecureUpstreamTls: false, rewriteHost: null, trustedProxies: null, tls: noTls(), publishOnLan: false, app: 'jellyfin', access: defaultRouteAccess() });
  const passFor = (id: string) => guard.passFor(route(id), { title: id } as Omit<ProvisionedRoute, 'passes'>) as RequestPass;
  const send = (pass: RequestPass, client: string, path: string) =>
    pass.run({ client, target: { hostname: 'x', authority: 'x', path }, req: { method: 'GET', headers: {} } as IncomingMessage, upgrade: false } as PassRequest) as ProxyError | undefined;
  return { guard, reputation, passFor, send, tick: (ms: number) => (now += ms), changes: () => changes };
}

test('three probes within the window ban the address on every route, until banSeconds pass', () => {
  const { guard, reputation, passFor, send, tick, changes } = setup();
  const a = passFor('a');
  const b = passFor('b');
  assert.equal(send(a, '203.0.113.5', '/web/index.html'), undefined);
  assert.equal(send(a, '203.0.113.5', '/.env')?.code, 'scanner_probe');
  assert.equal(send(a, '203.0.113.5', '/.git/config')?.code, 'scanner_probe');
  assert.equal(reputation.banned('203.0.113.5'), null, 'two probes are not yet a ban');
  const third = send(a, '203.0.113.5', '/wp-login.php');
  assert.equal(third?.code, 'scanner_probe');
  assert.equal(third?.refusal?.rule, 'scanner: /wp-login.php');
  assert.equal(changes(), 1, 'the runtime heard of the ban');
  // Every route's access pass asks the Reputation (route-judge.ts refuses with it; the scanner pass
  // itself only answers probes).
  assert.equal(reputation.banned('203.0.113.5')?.source, 'scanner');
  assert.match(reputation.banned('203.0.113.5')?.reason ?? '', /^3 scanner probes within 600 s, the last \/wp-login\.php/);
  assert.equal(send(b, '203.0.113.5', '/web/index.html'), undefined, 'a banned address asking for no probe is not the scanner pass to refuse');
  assert.equal(reputation.banned('203.0.113.6'), null, 'another address is not touched');
  tick(3600 * 1000);
  assert.equal(guard.banned('203.0.113.5'), null, 'the ban ended');
  assert.equal(reputation.banned('203.0.113.5'), null);
});

test('probes spread over more than the window start no ban', () => {
  const { reputation, passFor, send, tick } = setup({ probes: 3, windowSeconds: 60, banSeconds: 600 });
  const a = passFor('a');
  for (let i = 0; i < 10; i++) {
    send(a, '198.51.100.7', '/.env');
    tick(31_000); // two probes a window at most
  }
  assert.equal(reputation.banned('198.51.100.7'), null);
});

test('this machine\'s own networks get the 404 but are never counted or banned', () => {
  const { reputation, passFor, send, changes } = setup({ probes: 1, windowSeconds: 600, banSeconds: 600 });
  const a = passFor('a');
  for (const own of ['192.168.1.50', '127.0.0.1', '::1']) {
    for (let i = 0; i < 20; i++) assert.equal(send(a, own, '/.env')?.code, 'scanner_probe');
    assert.equal(reputation.banned(own), null, own);
  }
  assert.equal(changes(), 0);
  send(a, '203.0.113.9', '/.env');
  assert.ok(reputation.banned('203.0.113.9'), 'an outside address with the same probe is banned');
});

test('bans are listed newest first; lift ends one; probes=0 never bans; off routes get no pass', () => {
  const { guard, passFor, send, tick } = setup({ probes: 1, windowSeconds: 600, banSeconds: 600 });
  const a = passFor('a');
  for (const address of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
    send(a, address, '/.env');
    tick(1000);
  }
  assert.deepEqual(guard.bans().map((ban) => ban.address), ['203.0.113.3', '203.0.113.2', '203.0.113.1']);
  assert.deepEqual(guard.bans(2).map((ban) => ban.address), ['203.0.113.3', '203.0.113.2']);
  assert.match(guard.bans()[0]?.until ?? '', /^\d{4}-\d\d-\d\dT/);
  assert.ok(guard.lift('203.0.113.2'));
  assert.ok(!guard.lift('203.0.113.2'));
  assert.deepEqual(guard.bans().map((ban) => ban.address), ['203.0.113.3', '203.0.113.1']);

  const never = setup({ probes: 0, windowSeconds: 600, banSeconds: 600 });
  const pass = never.passFor('a');
  for (let i = 0; i < 10; i++) never.send(pass, '203.0.113.4', '/.env');
  assert.deepEqual(never.guard.bans(), []);

  const route = { ...defaultRouteAccess(), blockScanners: false };
  assert.equal(guard.passFor({ id: 'off', access: route, app: null } as Route, { title: 'off' } as Omit<ProvisionedRoute, 'passes'>), null);
});

test('an IPv6 scanner is counted and banned by its /64; lift takes an address of it or the /64', () => {
  const { guard, reputation, passFor, send } = setup();
  const a = passFor('a');
  send(a, '2001:db8:1:2::1', '/.env');
  send(a, '2001:db8:1:2::2', '/.git/config');
  assert.equal(reputation.banned('2001:db8:1:2::3'), null, 'two probes are not yet a ban');
  const third = send(a, '2001:db8:1:2:ffff::3', '/wp-login.php');
  assert.match(third?.detail ?? '', /^2001:db8:1:2:ffff::3 asked/, 'the refusal names the full address');
  assert.equal(reputation.banned('2001:db8:1:2:abcd::9')?.source, 'scanner', 'a fresh address of the /64 is banned too');
  assert.equal(reputation.banned('2001:db8:1:3::1'), null, 'the next /64 is not');
  assert.deepEqual(guard.bans().map((ban) => ban.address), ['2001:db8:1:2::/64']);
  assert.ok(guard.lift('2001:db8:1:2::77'), 'an address of the /64 lifts its ban');
  assert.equal(reputation.banned('2001:db8:1:2::1'), null);

  for (const path of ['/.env', '/.git/config', '/wp-login.php']) send(a, '2001:db8:9:9::1', path);
  assert.ok(guard.lift('2001:0db8:0009:0009::/64'), 'the /64, however written, lifts it');
  assert.equal(reputation.banned('2001:db8:9:9::1'), null);
});
