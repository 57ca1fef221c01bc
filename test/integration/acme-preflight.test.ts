// The ACME pre-flight against real servers: bind9 as the zone's authoritative server and as the
// "public resolver", the real proxy engine answering the probe token from the ChallengeStore, a
// closed port, a plain HTTP server answering 404, and a DNS server that never answers.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { PreflightCheck, PreflightReport, RouteAcme } from '../../shared/acme.js';
import { ChallengeStore } from '../../src-main/core/certs/acme/challenge-store.js';
import { caaIdentitiesFor, runPreflight, type PreflightDeps } from '../../src-main/core/certs/acme/preflight/index.js';
import { isPubliclyReachable } from '../../src-main/core/certs/acme/preflight/reachable.js';
import { ProxyEngine } from '../../src-main/core/proxy/engine.js';
import { needBind9, startBind9, startSilentDnsServer, type Bind9 } from '../helpers/bind9.js';
import { freePort } from '../helpers/ports.js';
import { proxySettings } from '../helpers/proxy-harness.js';

const skip = needBind9();
const http01: RouteAcme = { accountId: 'a', challenge: 'http-01', dnsProviderId: null, profile: null, keyType: 'ecdsa-p256' };
const dns01: RouteAcme = { ...http01, challenge: 'dns-01', dnsProviderId: 'p' };

let bind: Bind9;
let engine: ProxyEngine;
let enginePort: number;
let store: ChallengeStore;
let other: Server;
let otherPort: number;

before(async () => {
  if (skip) return;
  bind = await startBind9({
    zones: ['test.example'],
    records: [
      'www.test.example. 60 IN A 127.0.0.1',
      'noaddr.test.example. 60 IN TXT "no address here"',
      'lan.test.example. 60 IN A 10.33.0.4',
      'caa-deny.test.example. 60 IN A 127.0.0.1',
      'caa-allow.test.example. 60 IN A 127.0.0.1',
      'app.wild.test.example. 60 IN A 127.0.0.1',
      'alias.test.example. 60 IN CNAME www.test.example.',
      'v6.test.example. 60 IN A 127.0.0.1',
      'v6.test.example. 60 IN AAAA ::1',
      'mixed.test.example. 60 IN A 127.0.0.1',
      'mixed.test.example. 60 IN A 10.0.0.9',
    ],
  });
  // CAA records the way a person adds them later: a dynamic update to the running server.
  await bind.update('test.example', [
    'update add caa-deny.test.example. 60 CAA 0 issue "sectigo.com"',
    'update add caa-allow.test.example. 60 CAA 0 issue "letsencrypt.org; validationmethods=http-01"',
    'update add caa-allow.test.example. 60 CAA 0 issue "sectigo.com"',
    'update add wild.test.example. 60 CAA 0 issue "letsencrypt.org"',
    'update add wild.test.example. 60 CAA 0 issuewild "sectigo.com"',
  ]);
  store = new ChallengeStore();
  engine = new ProxyEngine({ settings: proxySettings(), stopGraceMs: 500, challenges: store });
  engine.setRoutes([]);
  enginePort = (await engine.start()).port;
  other = createServer((_req, res) => {
    res.writeHead(404, { server: 'nginx/1.24.0', 'content-type': 'text/html' });
    res.end('<html><body>404 Not Found</body></html>');
  });
  other.listen(0, '127.0.0.1');
  await once(other, 'listening');
  otherPort = (other.address() as AddressInfo).port;
});

after(async () => {
  if (skip) return;
  await engine?.stop();
  other?.close();
  await bind?.close();
});

function deps(extra: Partial<PreflightDeps> = {}): PreflightDeps {
  return {
    httpPort: enginePort,
    challenges: store,
    caaIdentities: ['letsencrypt.org'],
    caName: "Let's Encrypt",
    publicResolvers: [bind.address],
    authoritativePort: bind.port,
    // The OS resolver knows nothing of test.example: stand in a LAN resolver that agrees with bind9.
    systemLookup: async (name) => bind.dig(name, 'A').then((lines) => lines.filter((line) => /^\d/.test(line))),
    // Tests run on loopback; everything else keeps the real rule.
    isReachableAddress: (address) => address.startsWith('127.') || isPubliclyReachable(address),
    ...extra,
  };
}

function find(report: PreflightReport, id: string): PreflightCheck {
  const found = report.checks.find((check) => check.id === id);
  assert.ok(found, `no check ${id} in ${JSON.stringify(report.checks.map((check) => check.id))}`);
  return found;
}

test('a name that resolves, with no CAA and Gatehouse answering: every check passes', { skip }, async () => {
  const report = await runPreflight({ names: ['www.test.example'], acme: http01 }, deps());
  assert.equal(report.ok, true, JSON.stringify(report.checks, null, 2));
  assert.deepEqual(report.checks.map((check) => [check.id, check.state]).sort(), [
    ['caa:www.test.example', 'pass'],
    ['http-probe:www.test.example', 'pass'],
    ['public-dns:www.test.example', 'pass'],
    ['split-dns:www.test.example', 'pass'],
  ]);
  assert.match(find(report, 'public-dns:www.test.example').message, /www\.test\.example points to 127\.0\.0\.1 at its own name servers \(ns1\.test\.example\)/);
  assert.match(find(report, 'caa:www.test.example').message, /No CAA records/);
  assert.equal(store.size, 0, 'the probe token is removed after the probe');
});

test('a name through a CNAME resolves to the target\'s address', { skip }, async () => {
  const report = await runPreflight({ names: ['alias.test.example'], acme: http01 }, deps());
  const check = find(report, 'public-dns:alias.test.example');
  assert.equal(check.state, 'pass', check.message);
  assert.match(check.message, /^alias\.test\.example points to 127\.0\.0\.1/);
});

test('a name with no A record, and one that does not exist: fail with the sentence and the fix', { skip }, async () => {
  const report = await runPreflight({ names: ['noaddr.test.example', 'jellyfin.test.example'], acme: http01 }, deps());
  assert.equal(report.ok, false);
  for (const name of ['noaddr.test.example', 'jellyfin.test.example']) {
    const check = find(report, `public-dns:${name}`);
    assert.equal(check.state, 'fail');
    assert.equal(check.message, `${name} has no A or AAAA record in public DNS.`);
    assert.match(check.fix!, new RegExp(`Add an A record for ${name.replace(/\./g, '\\.')} pointing at your public IP address`));
    assert.equal(find(report, `http-probe:${name}`).state, 'skipped');
  }
  // With the DNS challenge a name needs no address: the zone being public is enough.
  const dns = await runPreflight({ names: ['noaddr.test.example'], acme: dns01 }, deps());
  assert.equal(find(dns, 'public-dns:noaddr.test.example').state, 'pass');
  assert.equal(find(dns, 'dns-credentials:noaddr.test.example').state, 'skipped', 'no credential test given: skipped, with a sentence');
  assert.ok(!dns.checks.some((check) => check.id.startsWith('http-probe')));
});

test('a name pointing at a LAN address fails for HTTP-01 with the address in the sentence', { skip }, async () => {
  const report = await runPreflight({ names: ['lan.test.example'], acme: http01 }, deps());
  const check = find(report, 'public-dns:lan.test.example');
  assert.equal(check.state, 'fail');
  assert.equal(check.message, "lan.test.example points to 10.33.0.4, a LAN address Let's Encrypt cannot reach.");
  assert.equal(check.fix, 'Point lan.test.example at your public address, or use the DNS challenge.');
});

test('CAA forbidding the CA fails; CAA allowing it (with parameters, among others) passes', { skip }, async () => {
  const report = await runPreflight({ names: ['caa-deny.test.example', 'caa-allow.test.example'], acme: http01 }, deps());
  const deny = find(report, 'caa:caa-deny.test.example');
  assert.equal(deny.state, 'fail');
  assert.equal(deny.message, "caa-deny.test.example's CAA record allows only sectigo.com, so Let's Encrypt may not issue.");
  assert.equal(deny.fix, 'Add 0 issue "letsencrypt.org" for caa-deny.test.example at your DNS host.');
  assert.equal(find(report, 'caa:caa-allow.test.example').state, 'pass');
  assert.equal(report.ok, false);
  // A CA that does not list its CAA names: records found only warn; none found still passes.
  const unknownCa = await runPreflight({ names: ['caa-deny.test.example', 'www.test.example'], acme: http01 }, deps({ caaIdentities: caaIdentitiesFor('https://ca.lan/acme/directory', []), caName: 'the CA at ca.lan' }));
  assert.equal(find(unknownCa, 'caa:caa-deny.test.example').state, 'warn');
  assert.equal(find(unknownCa, 'caa:www.test.example').state, 'pass');
  assert.deepEqual(caaIdentitiesFor('https://acme-staging-v02.api.letsencrypt.org/directory', []), ['letsencrypt.org']);
});

test('a wildcard reads issuewild; the plain name under the same CAA reads issue', { skip }, async () => {
  const report = await runPreflight({ names: ['*.wild.test.example', 'app.wild.test.example'], acme: dns01 }, deps());
  const wildcard = find(report, 'caa:*.wild.test.example');
  assert.equal(wildcard.state, 'fail');
  assert.equal(wildcard.message, "wild.test.example's CAA issuewild record allows only sectigo.com, so Let's Encrypt may not issue the wildcard.");
  assert.equal(wildcard.fix, 'Add 0 issuewild "letsencrypt.org" for wild.test.example at your DNS host.');
  const plain = find(report, 'caa:app.wild.test.example');
  assert.equal(plain.state, 'pass', plain.message);
  assert.match(plain.message, /^wild\.test\.example's CAA records allow/);
  // And a wildcard with the HTTP challenge is refused before anything is asked.
  const http = await runPreflight({ names: ['*.wild.test.example'], acme: http01 }, deps());
  assert.match(find(http, 'public-dns:*.wild.test.example').message, /wildcard can only be validated with the DNS challenge/);
});

test('split DNS: this machine answering otherwise than public DNS warns, naming both answers', { skip }, async () => {
  const report = await runPreflight({ names: ['www.test.example'], acme: http01 }, deps({ systemLookup: async () => ['192.168.1.5'] }));
  const check = find(report, 'split-dns:www.test.example');
  assert.equal(check.state, 'warn');
  assert.equal(check.message, 'This machine resolves www.test.example to 192.168.1.5 but public DNS says 127.0.0.1: fine for LAN clients (a Pi-hole or router override), but the CA sees the public one.');
  assert.equal(report.ok, true, 'a warning does not stop an order');

  // A system resolver that never answers is bounded too, and only warns.
  const started = Date.now();
  const hung = await runPreflight({ names: ['www.test.example'], acme: http01 }, deps({ systemLookup: () => new Promise<string[]>(() => {}) }));
  assert.ok(Date.now() - started < 5000);
  assert.equal(find(hung, 'split-dns:www.test.example').state, 'warn');
  assert.equal(hung.ok, true);
});

test('HTTP probe: a closed port and another server each fail with what to forward', { skip }, async () => {
  const closed = await freePort();
  const refused = await runPreflight({ names: ['www.test.example'], acme: http01 }, deps({ httpPort: closed }));
  const shut = find(refused, 'http-probe:www.test.example');
  assert.equal(shut.state, 'fail');
  assert.equal(shut.message, `Port ${closed} on 127.0.0.1 is closed.`);
  assert.equal(shut.fix, `Forward port ${closed} on your router to this machine, and allow it in the firewall.`);

  const answered = await runPreflight({ names: ['www.test.example'], acme: http01 }, deps({ httpPort: otherPort, localAddresses: ['192.168.1.20'] }));
  const wrong = find(answered, 'http-probe:www.test.example');
  assert.equal(wrong.state, 'fail');
  assert.equal(wrong.message, `Another server answered at 127.0.0.1 port ${otherPort} (nginx/1.24.0, 404), not Gatehouse.`);
  assert.equal(wrong.fix, `Forward port ${otherPort} to this machine (192.168.1.20), not to nginx/1.24.0.`);
  assert.equal(store.size, 0);
});

test('an AAAA record to where port 80 is closed fails even though IPv4 works: the CA tries IPv6 first', { skip }, async () => {
  // Gatehouse listens on 127.0.0.1 only; ::1 at the same port refuses, like a stale AAAA record.
  const report = await runPreflight({ names: ['v6.test.example'], acme: http01 }, deps({ systemLookup: async () => ['127.0.0.1', '::1'], isReachableAddress: (address) => address === '::1' || address.startsWith('127.') }));
  const check = find(report, 'http-probe:v6.test.example');
  assert.equal(check.state, 'fail', check.message);
  assert.equal(check.message, `Port ${enginePort} on ::1 is closed.`);
  assert.match(check.fix!, /Or remove the AAAA record for v6\.test\.example: IPv4 works, and the CA tries IPv6 first\.$/);
  assert.equal(find(report, 'split-dns:v6.test.example').state, 'pass');
});

test('a name with a public and a LAN address only warns, naming the one to remove', { skip }, async () => {
  const report = await runPreflight({ names: ['mixed.test.example'], acme: http01 }, deps());
  const check = find(report, 'public-dns:mixed.test.example');
  assert.equal(check.state, 'warn');
  assert.equal(check.message, "mixed.test.example points to 127.0.0.1 and also to 10.0.0.9, a LAN address Let's Encrypt cannot reach.");
  assert.equal(find(report, 'http-probe:mixed.test.example').state, 'pass');
});

test('a DNS server that never answers: the report still comes back, quickly, with clear fails', { skip }, async () => {
  const silent = await startSilentDnsServer();
  try {
    const started = Date.now();
    const report = await runPreflight({ names: ['www.test.example', 'caa-deny.test.example'], acme: http01 }, deps({ publicResolvers: [silent.address] }));
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 5000, `took ${elapsed} ms`);
    assert.ok(silent.queries() > 0, 'the silent server was asked');
    assert.equal(report.ok, false);
    const check = find(report, 'public-dns:www.test.example');
    assert.equal(check.state, 'fail');
    assert.equal(check.message, `The public DNS resolvers (${silent.address}) did not answer in time when asked about www.test.example.`);
    assert.match(check.fix!, /reach DNS servers on the internet/);

    // The zone found, but its own name servers dead (a lame delegation).
    const lameStarted = Date.now();
    const lame = await runPreflight({ names: ['www.test.example'], acme: http01 }, deps({ authoritativePort: silent.port }));
    assert.ok(Date.now() - lameStarted < 5000, `took ${Date.now() - lameStarted} ms`);
    const lameCheck = find(lame, 'public-dns:www.test.example');
    assert.equal(lameCheck.state, 'fail');
    assert.match(lameCheck.message, /^test\.example's name servers \(ns1\.test\.example\) did not answer in time when asked for www\.test\.example\.$/);
    assert.equal(find(lame, 'caa:www.test.example').state, 'fail');
  } finally {
    await silent.close();
  }
});

test('DNS-01: the provider test is used as given, and the acme-dns CNAME is checked', { skip }, async () => {
  await bind.update('test.example', ['update add _acme-challenge.www.test.example. 60 CNAME 0f3e.auth.acme-dns.test.']);
  const provider = { id: 'p', label: 'acme-dns', propagationTimeoutMs: 120_000, kind: 'acme-dns' as const, serverUrl: 'https://auth.acme-dns.test', username: 'u', subdomain: '0f3e', fulldomain: '0f3e.auth.acme-dns.test' };
  const tested: string[] = [];
  const report = await runPreflight(
    { names: ['www.test.example', 'noaddr.test.example'], acme: dns01 },
    deps({
      dnsProvider: provider,
      testDnsProvider: async (name) => {
        tested.push(name);
        return { id: 'x', label: 'credentials', state: 'fail', message: 'acme-dns rejected the username and password.', fix: 'Register again.', details: null, durationMs: 3 };
      },
    }),
  );
  assert.deepEqual(tested.sort(), ['noaddr.test.example', 'www.test.example']);
  assert.equal(find(report, 'dns-credentials:www.test.example').message, 'acme-dns rejected the username and password.');
  assert.equal(find(report, 'acme-dns-cname:www.test.example').state, 'pass');
  const missing = find(report, 'acme-dns-cname:noaddr.test.example');
  assert.equal(missing.state, 'fail');
  assert.equal(missing.message, "_acme-challenge.noaddr.test.example has no CNAME, so the CA will not see acme-dns's record.");
  assert.equal(missing.fix, 'Add a CNAME record _acme-challenge.noaddr.test.example → 0f3e.auth.acme-dns.test at your DNS host.');
});
