// The acme-dns provider against a local server that follows acme-dns's API (POST /update with
// X-Api-User / X-Api-Key), publishing what it is told in a real bind9 as acme-dns serves its own
// zone: the value becomes visible at `fulldomain` (the CNAME target the CA follows), the propagation
// wait sees it there, and refused credentials or a bad value are sentences.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DnsProvider } from '../../shared/acme.js';
import { DnsProviderError } from '../../src-main/core/certs/acme/dns/errors.js';
import { waitForTxt } from '../../src-main/core/certs/acme/dns/propagation.js';
import { challengeRecord, createDnsProvider } from '../../src-main/core/certs/acme/dns/provider.js';
import { needBind9, startBind9, type Bind9 } from '../helpers/bind9.js';
import { startFakeAcmeDns, type FakeAcmeDns } from '../helpers/dns-api-fakes.js';

const account = { username: 'c36f50e8-4632-44f0-83fe-e070fef28a10', password: 'htB9mR9DYgcu9bX_afHF62erXaH2TS7bg9KW3F7Z', subdomain: '8e5700ea-a4bf-41c7-8a77-e990661dcc6a' };
const VALUE = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ';

describe('acme-dns provider against an acme-dns-like server', { skip: needBind9() }, () => {
  let bind: Bind9;
  let acmeDns: FakeAcmeDns;
  let settings: Extract<DnsProvider, { kind: 'acme-dns' }>;
  before(async () => {
    bind = await startBind9({ zones: ['auth.test.example'] });
    acmeDns = await startFakeAcmeDns(account, (subdomain, values) =>
      bind.update('auth.test.example', [`update delete ${subdomain}.auth.test.example. TXT`, ...values.map((value) => `update add ${subdomain}.auth.test.example. 60 TXT "${value}"`)]),
    );
    settings = { id: 'ad', label: 'acme-dns', propagationTimeoutMs: 10_000, kind: 'acme-dns', serverUrl: acmeDns.url, username: account.username, subdomain: account.subdomain, fulldomain: `${account.subdomain}.auth.test.example` };
  });
  after(async () => {
    await acmeDns?.close();
    await bind?.close();
  });

  test('the value is set through /update and seen at the CNAME target', async () => {
    const provider = createDnsProvider(settings, { credentials: account.password });
    const record = challengeRecord('*.home.example.com', VALUE);
    assert.equal(provider.lookupName(record), settings.fulldomain);
    await provider.present(record);
    assert.deepEqual(acmeDns.txt.get(account.subdomain), [VALUE]);
    const seen = await waitForTxt(provider.lookupName(record), VALUE, { resolvers: [bind.address], timeoutMs: 10_000 });
    assert.deepEqual(seen.servers, [bind.address]);
    await provider.cleanup(record); // acme-dns has no delete: nothing is asked
    assert.deepEqual(acmeDns.requests, ['POST /update']);
  });

  test('a wrong password is a sentence naming the username, the password nowhere', async () => {
    const provider = createDnsProvider(settings, { credentials: 'not-the-password-at-all' });
    const error = await provider.present(challengeRecord('home.example.com', VALUE)).then(() => assert.fail('expected a refusal'), (caught: unknown) => caught);
    assert.ok(error instanceof DnsProviderError);
    assert.equal(error.code, 'credentials_rejected');
    assert.equal(error.message, `The acme-dns server at ${acmeDns.url} refused the username ${account.username} and its password for the subdomain ${account.subdomain} (forbidden).`);
    assert.ok(!JSON.stringify(error.toProblem()).includes('not-the-password-at-all'));
  });

  test('a value acme-dns does not take (bad_txt) is named', async () => {
    const provider = createDnsProvider(settings, { credentials: account.password });
    const error = await provider.present(challengeRecord('home.example.com', 'short')).then(() => assert.fail('expected a refusal'), (caught: unknown) => caught);
    assert.ok(error instanceof DnsProviderError);
    assert.match(error.message, /refused the TXT value \(bad_txt\)/);
  });
});
