// The Cloudflare provider against a local server that follows Cloudflare's API v4: the zone is found
// by walking up the name's labels, the TXT record is created and only that value deleted, and a
// refused token is the sentence naming the permission it needs, with the token nowhere in it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DnsProvider } from '../../shared/acme.js';
import { DnsProviderError } from '../../src-main/core/certs/acme/dns/errors.js';
import { challengeRecord, createDnsProvider } from '../../src-main/core/certs/acme/dns/provider.js';
import { startFakeCloudflare, type FakeCloudflare } from '../helpers/dns-api-fakes.js';
import { freePort } from '../helpers/ports.js';

const EDIT = 'cf-edit-token-0123456789abcdef0123456789';
const READ = 'cf-read-token-0123456789abcdef0123456789';

describe('Cloudflare provider against a Cloudflare-like API', () => {
  let cloudflare: FakeCloudflare;
  let settings: Extract<DnsProvider, { kind: 'cloudflare' }>;
  before(async () => {
    cloudflare = await startFakeCloudflare({ zones: ['example.com', 'other.org'], tokens: { [EDIT]: 'edit', [READ]: 'read' } });
    settings = { id: 'cf', label: 'Cloudflare', propagationTimeoutMs: 1000, kind: 'cloudflare', apiUrl: cloudflare.url, zoneId: null };
  });
  after(async () => {
    await cloudflare?.close();
  });

  test('present finds the zone up the labels and creates the TXT; cleanup deletes only its value', async () => {
    const provider = createDnsProvider(settings, { credentials: EDIT });
    const first = challengeRecord('*.lab.example.com', 'value-one');
    const second = challengeRecord('lab.example.com', 'value-two');
    assert.equal(first.fqdn, '_acme-challenge.lab.example.com');
    await provider.present(first);
    await provider.present(second);
    assert.deepEqual(cloudflare.records.map((record) => [record.type, record.name, record.content, record.ttl]), [
      ['TXT', '_acme-challenge.lab.example.com', 'value-one', 60],
      ['TXT', '_acme-challenge.lab.example.com', 'value-two', 60],
    ]);
    assert.ok(cloudflare.requests.includes('GET /zones?name=lab.example.com'));
    assert.ok(cloudflare.requests.includes('GET /zones?name=example.com'));
    await provider.cleanup(first);
    assert.deepEqual(cloudflare.records.map((record) => record.content), ['value-two']);
    await provider.cleanup(second);
    assert.deepEqual(cloudflare.records, []);
  });

  test('a token without DNS edit is refused with the permission it needs, the token nowhere', async () => {
    const provider = createDnsProvider(settings, { credentials: READ });
    const error = await provider.present(challengeRecord('www.example.com', 'v')).then(() => assert.fail('expected a refusal'), (caught: unknown) => caught);
    assert.ok(error instanceof DnsProviderError);
    assert.equal(error.code, 'credentials_rejected');
    assert.equal(error.message, 'Cloudflare refused the API token: it needs Zone › DNS › Edit on example.com (Cloudflare said: Authentication error (10000)).');
    assert.match(error.details ?? '', /→ 403/);
    assert.ok(!JSON.stringify(error.toProblem()).includes(READ));
  });

  test('a wrong token is the same sentence with what Cloudflare said', async () => {
    const provider = createDnsProvider(settings, { credentials: 'wrong-token-wrong-token' });
    const error = await provider.present(challengeRecord('www.example.com', 'v')).then(() => assert.fail('expected a refusal'), (caught: unknown) => caught);
    assert.ok(error instanceof DnsProviderError);
    assert.match(error.message, /^Cloudflare refused the API token: it needs Zone › DNS › Edit on www\.example\.com \(Cloudflare said: Invalid access token \(9109\)\)\.$/);
    assert.ok(!JSON.stringify(error.toProblem()).includes('wrong-token-wrong-token'));
  });

  test('a name in no zone the token can see says so', async () => {
    const provider = createDnsProvider(settings, { credentials: EDIT });
    const error = await provider.present(challengeRecord('www.nowhere.net', 'v')).then(() => assert.fail('expected a refusal'), (caught: unknown) => caught);
    assert.ok(error instanceof DnsProviderError);
    assert.equal(error.code, 'name_rejected');
    assert.equal(error.message, 'Cloudflare has no zone holding www.nowhere.net that this API token can see.');
  });

  test('an API that does not answer is named', async () => {
    const port = await freePort(); // nothing listens there
    const provider = createDnsProvider({ ...settings, apiUrl: `http://127.0.0.1:${port}/client/v4` }, { credentials: EDIT });
    const error = await provider.present(challengeRecord('www.example.com', 'v')).then(() => assert.fail('expected a failure'), (caught: unknown) => caught);
    assert.ok(error instanceof DnsProviderError);
    assert.equal(error.message, `Cloudflare (http://127.0.0.1:${port}/client/v4) did not answer (connect ECONNREFUSED 127.0.0.1:${port}).`);
  });
});
