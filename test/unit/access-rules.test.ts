// The access pass and "would this address get in, and why", judged in the documented order: the
// route's lists (first matching entry decides), then exposure, then country rules (the real
// geo-whois-asn-country database, where TEST-NET-2/3 are AU and 192.0.2.0/24 has no country), then
// reputation (bans from a ban source; this network exempt as documented). Every case is asked of
// the pass a route gets AND of verdict(), which must agree.
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, test } from 'node:test';
import { defaultAccessSettings, defaultRouteAccess, type AccessList, type AccessSettings, type AccessVerdict, type RouteAccess } from '../../shared/access.js';
import type { Route } from '../../shared/model.js';
import { AccessRules } from '../../src-main/core/access/access-rules.js';
import { CountryDatabase, countryDatabasePath } from '../../src-main/core/access/countries.js';
import type { AccessContext } from '../../src-main/core/access/context.js';
import { Reputation, type BanSource } from '../../src-main/core/access/reputation.js';
import { OwnNetworks } from '../../src-main/core/net/own-networks.js';
import { ProxyError } from '../../src-main/core/proxy/errors.js';
import type { PassOutcome, PassRequest } from '../../src-main/core/proxy/passes/pass.js';
import type { ProvisionedRoute } from '../../src-main/core/proxy/route-table.js';
import { route as makeRoute } from '../helpers/proxy-harness.js';

/** This machine, as the tests see it: one interface on 203.0.113.0/26 (a LAN with public addresses). */
const INTERFACES: NodeJS.Dict<NetworkInterfaceInfo[]> = {
  eth0: [{ address: '203.0.113.10', netmask: '255.255.255.192', family: 'IPv4', mac: '00:00:00:00:00:01', internal: false, cidr: '203.0.113.10/26' }],
};

/** A ban table like the scanner guard's or CrowdSec's: exact addresses. */
class Bans implements BanSource {
  readonly table = new Map<string, string>();
  constructor(readonly source: 'crowdsec' | 'scanner') {}
  banned(address: string) {
    const reason = this.table.get(address);
    return reason === undefined ? null : { reason, until: null };
  }
}

function setup(lists: AccessList[] = [], crowdsec: Partial<AccessSettings['crowdsec']> = {}) {
  const reputation = new Reputation();
  const crowdsecBans = new Bans('crowdsec');
  const scannerBans = new Bans('scanner');
  reputation.add(crowdsecBans);
  reputation.add(scannerBans);
  let settings: AccessSettings = { ...defaultAccessSettings(), lists, crowdsec: { ...defaultAccessSettings().crowdsec, ...crowdsec } };
  const context: AccessContext = {
    get settings() {
      return settings;
    },
    ownNetworks: new OwnNetworks(() => INTERFACES),
    reputation,
    dataDir: '/nonexistent',
  };
  const rules = new AccessRules(() => context);
  rules.apply(settings);
  return {
    rules,
    crowdsecBans,
    scannerBans,
    update(next: Partial<AccessSettings>) {
      settings = { ...settings, ...next };
      rules.apply(settings);
    },
  };
}

function accessRoute(access: Partial<RouteAccess>): Route {
  return makeRoute('r1', 'http://127.0.0.1:9', ['app.home.arpa'], { access: { ...defaultRouteAccess(), ...access } });
}

interface Asked {
  outcome: PassOutcome;
  rule: string | null;
  verdict: AccessVerdict;
}

/** Runs the route's access pass for a request from `address`, and asks verdict() the same. */
async function ask(rules: AccessRules, route: Route, address: string): Promise<Asked> {
  const pass = rules.passFor(route, {} as Omit<ProvisionedRoute, 'passes'>);
  assert.equal(pass.name, 'access');
  const request = { client: address, rule: null } as PassRequest;
  const outcome = await pass.run(request);
  const verdict = await rules.verdict(route, address);
  // The two must agree: one judge.
  assert.equal(verdict.admitted, outcome === undefined, `verdict and pass agree for ${address}`);
  if (outcome instanceof ProxyError) {
    const deciding = verdict.steps.find((step) => step.outcome === 'deny');
    assert.equal(deciding?.rule, outcome.refusal?.rule, 'the verdict names the rule the pass refused with');
  }
  return { outcome, rule: request.rule, verdict };
}

function refusal(asked: Asked): { code: string; rule: string | undefined } {
  assert.ok(asked.outcome instanceof ProxyError, `expected a refusal, got ${String(asked.outcome)}`);
  return { code: asked.outcome.code, rule: asked.outcome.refusal?.rule };
}

const family: AccessList = {
  id: 'fam',
  name: 'Family',
  entries: [
    { action: 'deny', range: '203.0.113.0/24', note: 'office' },
    { action: 'allow', range: '198.51.100.0/24', note: '' },
    { action: 'allow', range: '2001:db8::/32', note: 'tunnel' },
  ],
};
const office: AccessList = {
  id: 'off',
  name: 'Office',
  entries: [
    { action: 'allow', range: '203.0.113.7', note: 'my laptop' },
    { action: 'deny', range: '0.0.0.0/0', note: 'everyone else' },
  ],
};

describe('access lists', () => {
  test('the first matching entry decides, across lists in the order attached; nothing below is asked', async () => {
    const { rules, crowdsecBans } = setup([family, office]);
    const route = accessRoute({ lists: ['fam', 'off'], exposure: 'lan' });
    crowdsecBans.table.set('198.51.100.9', 'crowdsecurity/http-probing');

    assert.deepEqual(refusal(await ask(rules, route, '203.0.113.7')), { code: 'access_denied', rule: 'list "Family": deny 203.0.113.0/24 (office)' }, 'Family comes first');
    const allowed = await ask(rules, route, '198.51.100.9');
    assert.equal(allowed.outcome, undefined, 'an allow entry admits an address outside this network, banned or not');
    assert.equal(allowed.rule, 'list "Family": allow 198.51.100.0/24', 'and is named in the log');
    assert.deepEqual(
      allowed.verdict.steps.slice(0, 5).map((step) => [step.step, step.outcome]),
      [['list', 'allow'], ['list', 'skip'], ['exposure', 'skip'], ['country', 'skip'], ['reputation', 'skip']],
    );
    assert.deepEqual(refusal(await ask(rules, route, '192.0.2.1')), { code: 'access_denied', rule: 'list "Office": deny 0.0.0.0/0 (everyone else)' });
    assert.equal((await ask(rules, route, '::ffff:198.51.100.4')).outcome, undefined, 'IPv4-mapped IPv6 is the IPv4 address');
    assert.equal((await ask(rules, route, '2001:db8:5::1')).rule, 'list "Family": allow 2001:db8::/32 (tunnel)');
    const noMatch = await ask(rules, route, '2001:db9::1');
    assert.deepEqual(refusal(noMatch), { code: 'lan_only', rule: 'exposure: this network only' }, 'no entry matched: exposure decides');
    assert.deepEqual(noMatch.verdict.steps.slice(0, 2).map((step) => step.reason), ['no entry of "Family" holds 2001:db9::1', 'no entry of "Office" holds 2001:db9::1']);
  });

  test('a list edit reaches the route at the next settings apply, without the route being saved again', async () => {
    const { rules, update } = setup([office]);
    const route = accessRoute({ lists: ['off'], exposure: 'anyone' });
    assert.equal(refusal(await ask(rules, route, '8.8.8.8')).code, 'access_denied');
    update({ lists: [{ ...office, entries: [{ action: 'allow', range: '203.0.113.7', note: '' }] }] });
    assert.equal((await ask(rules, route, '8.8.8.8')).outcome, undefined, 'the same saved route, the edited list');
  });

  test('a route naming a list that is not there refuses everyone rather than open up', async () => {
    const { rules } = setup([]);
    const route = accessRoute({ lists: ['gone'], exposure: 'anyone' });
    assert.deepEqual(refusal(await ask(rules, route, '127.0.0.1')), { code: 'access_denied', rule: 'list "missing list gone": deny 0.0.0.0/0 (the list is missing)' });
  });
});

describe('exposure', () => {
  test('"this network only" admits loopback, private, link-local, ULA and this machine\'s subnets, and nothing else', async () => {
    const { rules } = setup();
    const lan = accessRoute({ exposure: 'lan' });
    const inside = ['127.0.0.1', '127.8.9.10', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.20', '169.254.3.4', '::1', 'fe80::1', 'fe80::1%eth0', 'fd12:3456::1', 'fc00::1', '::ffff:10.1.2.3', '203.0.113.62'];
    const outside = ['100.64.0.1', '172.32.0.1', '172.15.255.255', '192.169.0.1', '198.51.100.2', '203.0.113.64', '8.8.8.8', '2001:db8::1', 'fec0::1', '::ffff:8.8.8.8', 'not an address'];
    for (const address of inside) {
      const asked = await ask(rules, lan, address);
      assert.equal(asked.outcome, undefined, `${address} is this network`);
      assert.equal(asked.verdict.lan, true, address);
    }
    for (const address of outside) {
      const asked = await ask(rules, lan, address);
      assert.deepEqual(refusal(asked), { code: 'lan_only', rule: 'exposure: this network only' }, address);
      assert.equal(asked.verdict.lan, false, address);
      assert.ok(!asked.verdict.admitted);
    }
    assert.equal(rules.isLan('203.0.113.10'), true, "this machine's own subnet");
    const anyone = accessRoute({ exposure: 'anyone' });
    for (const address of outside.slice(0, -1)) assert.equal((await ask(rules, anyone, address)).outcome, undefined, `${address} on an open route`);
  });
});

describe('country rules', () => {
  test('allow and deny by country; an address with no country is refused in allow mode only; this network has none', async () => {
    const { rules } = setup();
    const allowEu = accessRoute({ exposure: 'anyone', countries: { mode: 'allow', countries: ['DE', 'FR'] } });
    const asked = await ask(rules, allowEu, '198.51.100.7');
    assert.deepEqual(refusal(asked), { code: 'country_denied', rule: 'country: AU not in allowed DE, FR' });
    assert.equal(asked.verdict.country, 'AU');
    assert.equal((await ask(rules, accessRoute({ exposure: 'anyone', countries: { mode: 'allow', countries: ['AU'] } }), '203.0.113.200')).outcome, undefined);
    assert.deepEqual(refusal(await ask(rules, allowEu, '192.0.2.1')), { code: 'country_denied', rule: 'country: unknown not in allowed DE, FR' });
    assert.equal((await ask(rules, allowEu, '192.168.1.5')).outcome, undefined, 'a LAN address has no country to refuse');
    assert.equal((await ask(rules, allowEu, '8.8.8.8')).verdict.country, 'US');

    const denyAu = accessRoute({ exposure: 'anyone', countries: { mode: 'deny', countries: ['AU', 'CN'] } });
    assert.deepEqual(refusal(await ask(rules, denyAu, '198.51.100.7')), { code: 'country_denied', rule: 'country: AU in denied AU, CN' });
    assert.deepEqual(refusal(await ask(rules, denyAu, '::ffff:198.51.100.7')), { code: 'country_denied', rule: 'country: AU in denied AU, CN' });
    assert.equal((await ask(rules, denyAu, '192.0.2.1')).outcome, undefined, 'no country: not among the refused ones');
    assert.equal((await ask(rules, denyAu, '8.8.8.8')).outcome, undefined);
    const lanStep = (await ask(rules, denyAu, '10.0.0.5')).verdict.steps.find((step) => step.step === 'country');
    assert.deepEqual(lanStep, { step: 'country', outcome: 'skip', rule: null, reason: 'addresses on this network have no country' });
  });

  test('the database is read only once a route has country rules, never on the way to the first request; a request waits for it', async () => {
    const { rules } = setup();
    rules.passFor(accessRoute({ exposure: 'anyone' }), {} as Omit<ProvisionedRoute, 'passes'>);
    assert.equal(rules.countries.state, 'unread', 'no route with country rules: nothing read');
    const pass = rules.passFor(accessRoute({ exposure: 'anyone', countries: { mode: 'deny', countries: ['AU'] } }), {} as Omit<ProvisionedRoute, 'passes'>);
    assert.equal(rules.countries.state, 'reading', 'provisioning starts the read and does not wait for it');
    assert.equal(pass.run({ client: '10.0.0.1', rule: null } as PassRequest), undefined, 'this network needs no country: answered at once');
    const waiting = pass.run({ client: '198.51.100.7', rule: null } as PassRequest);
    assert.ok(waiting instanceof Promise, 'an address from outside waits for the read');
    const outcome = await waiting;
    assert.ok(outcome instanceof ProxyError && outcome.code === 'country_denied');
    assert.equal(rules.countries.state, 'ready');
  });

  test('a database that cannot be read refuses addresses outside this network (never this network), and is tried again after a settings change', async () => {
    const reputation = new Reputation();
    let path = '/nonexistent/geo.mmdb';
    const settings = defaultAccessSettings();
    const context: AccessContext = { settings, ownNetworks: new OwnNetworks(() => INTERFACES), reputation, dataDir: '/nonexistent' };
    const rules = new AccessRules(() => context, () => {}, new CountryDatabase(() => path));
    rules.apply(settings);
    const route = accessRoute({ exposure: 'anyone', countries: { mode: 'deny', countries: ['CN'] } });
    const originalError = console.error;
    console.error = () => {};
    try {
      assert.deepEqual(refusal(await ask(rules, route, '8.8.8.8')), { code: 'country_denied', rule: 'country: database unavailable' });
    } finally {
      console.error = originalError;
    }
    assert.match(rules.countries.failure ?? '', /could not be read .*reinstall Gatehouse/);
    assert.equal((await ask(rules, route, '192.168.1.5')).outcome, undefined);
    path = countryDatabasePath();
    rules.apply(settings);
    assert.equal((await ask(rules, route, '8.8.8.8')).outcome, undefined, 'read on the next try');
  });

  test('says where the database comes from, its licence, when it was built and how it is updated', async () => {
    const { rules } = setup();
    await rules.countries.load();
    const info = rules.countryDatabase();
    assert.ok(info);
    assert.match(info.source, /^@ip-location-db\/geo-whois-asn-country-mmdb@\d+\.\d+\.\d+ \(geo-whois-asn-country\.mmdb\)/);
    assert.equal(info.license, 'CC0-1.0');
    assert.match(info.builtAt, /^20\d\d-\d\d-\d\dT/);
    assert.ok(Date.parse(info.builtAt) > Date.parse('2024-01-01'));
    assert.match(info.updates, /Gatehouse release/);
  });
});

describe('reputation', () => {
  test("a ban refuses an address; this machine's own networks are exempt unless CrowdSec is told to apply to them", async () => {
    const { rules, crowdsecBans, scannerBans } = setup();
    const route = accessRoute({ exposure: 'anyone' });
    crowdsecBans.table.set('198.51.100.20', 'crowdsecurity/http-probing');
    // On this machine's own subnet (eth0 is 203.0.113.10/26): the owner.
    crowdsecBans.table.set('203.0.113.20', 'crowdsecurity/http-probing');
    scannerBans.table.set('198.51.100.21', 'probed /.env 3 times');
    scannerBans.table.set('203.0.113.21', 'probed /.env 3 times');
    // A private address that is not on this machine's subnets: another VLAN, a container network.
    crowdsecBans.table.set('192.168.1.20', 'crowdsecurity/http-probing');

    assert.deepEqual(refusal(await ask(rules, route, '198.51.100.20')), { code: 'banned', rule: 'crowdsec: ban (crowdsecurity/http-probing)' });
    assert.deepEqual(refusal(await ask(rules, route, '::ffff:198.51.100.20')), { code: 'banned', rule: 'crowdsec: ban (crowdsecurity/http-probing)' }, 'bans key on the plain address');
    assert.deepEqual(refusal(await ask(rules, route, '198.51.100.21')), { code: 'banned', rule: 'scanner: ban (probed /.env 3 times)' });
    assert.deepEqual(refusal(await ask(rules, route, '192.168.1.20')), { code: 'banned', rule: 'crowdsec: ban (crowdsecurity/http-probing)' }, 'private but not this machine’s own network');
    const exempt = await ask(rules, route, '203.0.113.20');
    assert.equal(exempt.outcome, undefined, 'the owner is not banned from home');
    assert.match(exempt.verdict.steps.find((step) => step.step === 'reputation')?.reason ?? '', /banned by CrowdSec .* but this machine's own networks are never refused/);
    assert.equal((await ask(rules, route, '203.0.113.21')).outcome, undefined);

    const strict = setup([], { applyToLan: true });
    strict.crowdsecBans.table.set('203.0.113.20', 'manual ban');
    strict.scannerBans.table.set('203.0.113.21', 'probed /.env 3 times');
    assert.deepEqual(refusal(await ask(strict.rules, route, '203.0.113.20')), { code: 'banned', rule: 'crowdsec: ban (manual ban)' }, 'applyToLan');
    assert.equal((await ask(strict.rules, route, '203.0.113.21')).outcome, undefined, 'scanner bans never apply to this machine');
  });
});

describe('verdict', () => {
  test('lists every step in the request path\'s order, and the sign-in still asked', async () => {
    const { rules } = setup([family]);
    const route = accessRoute({ lists: ['fam'], exposure: 'anyone', countries: { mode: 'deny', countries: ['CN'] }, signIn: { method: 'basic', users: ['ana'] } });
    const verdict = await rules.verdict(route, '8.8.8.8');
    assert.deepEqual(verdict, {
      address: '8.8.8.8',
      routeId: 'r1',
      admitted: true,
      lan: false,
      country: 'US',
      signIn: 'basic',
      steps: [
        { step: 'list', outcome: 'continue', rule: null, reason: 'no entry of "Family" holds 8.8.8.8' },
        { step: 'exposure', outcome: 'continue', rule: 'exposure: anyone', reason: 'the route is open to anyone' },
        { step: 'country', outcome: 'continue', rule: 'country: US', reason: '8.8.8.8 is in US, which is not refused' },
        { step: 'reputation', outcome: 'continue', rule: null, reason: 'not banned' },
        { step: 'limits', outcome: 'continue', rule: null, reason: 'at most 1200 requests a minute, 10 sign-in attempts a minute from this address' },
        { step: 'sign-in', outcome: 'continue', rule: null, reason: 'asks for a user name and password (ana)' },
      ],
    });
    const refused = await rules.verdict(accessRoute({ lists: ['fam'] }), '203.0.113.99');
    assert.equal(refused.admitted, false);
    assert.deepEqual(
      refused.steps.map((step) => `${step.step} ${step.outcome}`),
      ['list deny', 'exposure skip', 'country skip', 'reputation skip', 'limits skip', 'sign-in skip'],
    );
    const home = await rules.verdict(accessRoute({}), '192.168.1.5');
    assert.deepEqual([home.admitted, home.lan, home.country, home.signIn], [true, true, null, 'none']);
    assert.equal(home.steps.find((step) => step.step === 'limits')?.reason, 'addresses on this network are not limited');
  });
});
