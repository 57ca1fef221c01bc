// DNS-01 through the service's DNS provider seam: a wildcard certificate from a real Pebble that
// reads the TXT records from a real bind9, written there by a provider the gateway was given (a
// stand-in for the DNS helper's RFC 2136 provider: nsupdate against the same bind9). Every record
// is gone afterwards. Without DNS providers in the build, the order fails saying exactly that.
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Settings } from '../../shared/model.js';
import type { DnsChallengeProvider } from '../../src-main/core/certs/acme/dns/provider.js';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { needBind9, startBind9, type Bind9 } from '../helpers/bind9.js';
import { call } from '../helpers/gateway-calls.js';
import { needPebble, startPebble, type Pebble } from '../helpers/pebble.js';
import { makeDataDir } from '../helpers/serve.js';

const skip = needPebble() || needBind9();

describe('ACME DNS-01 through a DNS provider', { skip }, () => {
  let bind: Bind9;
  let pebble: Pebble;
  let dataDir: string;
  let gateway: Gateway | undefined;
  const presented: string[] = [];

  const provider: DnsChallengeProvider = {
    async present(record) {
      presented.push(record.fqdn);
      await bind.update('test.example', [`update add ${record.fqdn}. 60 TXT "${record.value}"`]);
    },
    async cleanup(record) {
      await bind.update('test.example', [`update delete ${record.fqdn}. TXT "${record.value}"`]);
    },
    lookupName: (record) => record.fqdn,
  };
  /** What dnsProviderFor answers: `provider`, or one that says it wrote the record but did not. */
  let current: DnsChallengeProvider = provider;

  async function open(withProviders: boolean): Promise<Gateway> {
    await gateway?.close();
    gateway = await createGateway({
      dataDir,
      overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' },
      dnsResolvers: [bind.address],
      ...(withProviders ? { acme: { dnsProviderFor: async () => current } } : {}),
    });
    await gateway.startup();
    return gateway;
  }

  async function waitForAttempt(routeId: string) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const entry = (await call(gateway!, 'getCertificates')).routes.find((candidate) => candidate.routeId === routeId)!;
      if (entry.acme?.lastAttempt && !entry.acme.ordering) return entry;
      if (Date.now() > deadline) assert.fail(`no attempt within 60 s: ${JSON.stringify(entry)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  before(async () => {
    bind = await startBind9();
    pebble = await startPebble({ dnsServer: bind.address });
    dataDir = await makeDataDir();
    const first = await open(false);
    const directory = await call(first, 'getAcmeDirectory', { directoryUrl: pebble.directoryUrl, directoryCaPem: pebble.apiCa });
    await call(first, 'addAcmeAccount', { label: 'Pebble', directoryUrl: pebble.directoryUrl, termsAccepted: directory.termsOfService, directoryCaPem: pebble.apiCa });
    await first.close();
    gateway = undefined;
    // The provider's settings go in the file directly, with no credentials stored: the first test's failure.
    const path = join(dataDir, 'settings.json');
    const settings = JSON.parse(await readFile(path, 'utf8')) as Settings;
    settings.acme.dnsProviders = [
      { id: 'bind', kind: 'rfc2136', label: 'bind9', server: bind.address, zone: 'test.example', keyName: bind.acmeKey.name, algorithm: 'hmac-sha256', propagationTimeoutMs: 10_000 },
    ];
    await writeFile(path, JSON.stringify(settings));
  });
  after(async () => {
    await gateway?.close();
    await pebble?.close();
    await bind?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('a DNS-01 route whose provider has no credentials stored fails saying so, and tries again in about a minute', async () => {
    const g = await open(false);
    const accountId = (await call(g, 'getCertificates')).acme.accounts[0]!.id;
    const route = await call(g, 'addRoute', {
      names: ['plain.test.example'],
      upstream: 'http://127.0.0.1:9',
      tls: { mode: 'acme', certificateId: null, acme: { accountId, challenge: 'dns-01', dnsProviderId: 'bind' }, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const },
    });
    const entry = await waitForAttempt(route.id);
    assert.equal(entry.acme?.lastAttempt?.ok, false);
    assert.match(entry.acme?.lastAttempt?.problem?.message ?? '', /No credentials are stored for the DNS provider "bind9"/);
    await call(g, 'removeRoute', { id: route.id });
    // No certificate to keep serving: the next try waits a minute (the backoff's first step, ±10 %), not a tight loop.
    assert.equal(entry.acme?.renewal?.source, 'retry');
    const wait = Date.parse(entry.acme!.renewal!.at!) - Date.parse(entry.acme!.lastAttempt!.at);
    assert.ok(wait >= 50_000 && wait <= 70_000, `retry after ${wait} ms`);
  });

  test('a wildcard certificate through DNS-01; the TXT records are removed afterwards', async () => {
    const g = await open(true);
    const accountId = (await call(g, 'getCertificates')).acme.accounts[0]!.id;
    const route = await call(g, 'addRoute', {
      names: ['*.wild.test.example', 'wild.test.example'],
      upstream: 'http://127.0.0.1:9',
      tls: { mode: 'acme', certificateId: null, acme: { accountId, challenge: 'dns-01', dnsProviderId: 'bind' }, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const },
    });
    const entry = await waitForAttempt(route.id);
    assert.equal(entry.acme?.lastAttempt?.ok, true, JSON.stringify(entry.acme?.lastAttempt));
    assert.equal(entry.state, 'valid');
    assert.deepEqual([...entry.names].sort(), ['*.wild.test.example', 'wild.test.example']);
    assert.deepEqual(presented.sort(), ['_acme-challenge.wild.test.example', '_acme-challenge.wild.test.example']);
    assert.deepEqual(await bind.dig('_acme-challenge.wild.test.example', 'TXT'), [], 'no record left behind');
  });

  test('a TXT record the zone does not show is caught before the CA is asked: record_not_visible, with the servers asked', async () => {
    // A provider that answers "done" but changes another zone (or nothing): the zone's servers
    // (here the resolvers given, bind9) never show the value, so the CA is not asked to look.
    current = { ...provider, present: async (record) => void presented.push(record.fqdn), cleanup: async () => undefined };
    try {
      const g = await open(true);
      const accountId = (await call(g, 'getCertificates')).acme.accounts[0]!.id;
      const route = await call(g, 'addRoute', {
        names: ['late.test.example'],
        upstream: 'http://127.0.0.1:9',
        tls: { mode: 'acme', certificateId: null, acme: { accountId, challenge: 'dns-01', dnsProviderId: 'bind' }, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const },
      });
      const entry = await waitForAttempt(route.id);
      await call(g, 'removeRoute', { id: route.id });
      const problem = entry.acme?.lastAttempt?.problem;
      assert.equal(problem?.code, 'record_not_visible', JSON.stringify(entry.acme?.lastAttempt));
      assert.match(problem?.message ?? '', /_acme-challenge\.late\.test\.example was not visible on .*\d+ s/);
      assert.ok(problem?.message.includes(bind.address), `the servers asked are named: ${problem?.message}`);
    } finally {
      current = provider;
    }
  });
});
