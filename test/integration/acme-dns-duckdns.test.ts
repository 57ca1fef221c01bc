// The DuckDNS provider against a local server that follows DuckDNS's /update API: the TXT is set for
// the subdomain and cleared with clear=true; a wrong token ("KO") and a name outside duckdns.org
// are sentences, and the token is not in them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DnsProvider } from '../../shared/acme.js';
import { DnsProviderError } from '../../src-main/core/certs/acme/dns/errors.js';
import { challengeRecord, createDnsProvider } from '../../src-main/core/certs/acme/dns/provider.js';
import { startFakeDuckDns, type FakeDuckDns } from '../helpers/dns-api-fakes.js';

const TOKEN = 'a7c4d0ad-114e-40ef-ba1d-d217904a50f2';

describe('DuckDNS provider against a DuckDNS-like server', () => {
  let duck: FakeDuckDns;
  let settings: Extract<DnsProvider, { kind: 'duckdns' }>;
  before(async () => {
    duck = await startFakeDuckDns({ token: TOKEN, domains: ['myhome'] });
    settings = { id: 'dk', label: 'DuckDNS', propagationTimeoutMs: 1000, kind: 'duckdns', apiUrl: duck.url };
  });
  after(async () => {
    await duck?.close();
  });

  test('present sets the subdomain\'s TXT, cleanup clears it', async () => {
    const provider = createDnsProvider(settings, { credentials: TOKEN });
    const record = challengeRecord('*.myhome.duckdns.org', 'duck-value');
    await provider.present(record);
    assert.equal(duck.txt.get('myhome'), 'duck-value');
    await provider.cleanup(record);
    assert.equal(duck.txt.get('myhome'), '');
    assert.match(duck.requests.at(-1)!, /clear=true/);
  });

  test('a wrong token (KO) is a sentence without the token', async () => {
    const provider = createDnsProvider(settings, { credentials: 'ffffffff-0000-0000-0000-000000000000' });
    const error = await provider.present(challengeRecord('myhome.duckdns.org', 'v')).then(() => assert.fail('expected a refusal'), (caught: unknown) => caught);
    assert.ok(error instanceof DnsProviderError);
    assert.equal(error.code, 'credentials_rejected');
    assert.equal(error.message, 'DuckDNS refused the update of myhome.duckdns.org: the token is wrong or that subdomain is not on its account.');
    assert.ok(!JSON.stringify(error.toProblem()).includes('ffffffff-0000-0000-0000-000000000000'));
  });

  test('a name outside duckdns.org is refused before anything is sent', async () => {
    const before = duck.requests.length;
    const provider = createDnsProvider(settings, { credentials: TOKEN });
    const error = await provider.present(challengeRecord('www.example.com', 'v')).then(() => assert.fail('expected a refusal'), (caught: unknown) => caught);
    assert.ok(error instanceof DnsProviderError);
    assert.equal(error.code, 'name_rejected');
    assert.equal(error.message, 'DuckDNS serves only names under duckdns.org, and www.example.com is not one.');
    assert.equal(duck.requests.length, before);
  });
});
