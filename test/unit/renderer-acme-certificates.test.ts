// The Certificates page's Let's Encrypt side against the fake Gatehouse: adding an account (the
// directory read first, its terms required, EAB fields only where the CA needs them, the server's
// refusals on their fields), renaming one, DNS providers per kind with write-only credentials
// (empty on edit keeps them), the provider test, removals refused while a route uses them, and an
// ACME certificate's renewal, last attempt and "Renew now".
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KNOWN_ACME_DIRECTORIES } from '../../shared/acme.js';
import { ApiError, createApiClient } from '../../shared/api.js';
import { rateLimitProblem } from '../../src-renderer/dev/fake-acme.js';
import { FakeGatehouse, sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';

const { AccountForm, AccountEdit, accountFieldOf, defaultAccountLabel } = await import('../../src-renderer/pages/certificates/acme-accounts.svelte.js');
const { DnsProviderForm, DnsProviderTest } = await import('../../src-renderer/pages/certificates/dns-providers.svelte.js');

const NOW = new Date('2026-11-21T12:00:00.000Z');
const [LE, STAGING] = KNOWN_ACME_DIRECTORIES;

function setup() {
  const fake = new FakeGatehouse({ now: () => NOW });
  return { fake, api: createApiClient(fake), acme: fake.certificates.acme };
}

describe('AccountForm', () => {
  it('reads the directory first, then needs the terms accepted before creating the account', async () => {
    const { fake, api } = setup();
    const form = new AccountForm(api);
    assert.equal(await form.submit(), null, 'nothing to submit before the directory is read');
    const info = await form.readDirectory();
    assert.equal(info?.termsOfService, 'https://letsencrypt.org/documents/LE-SA-v1.5-February-24-2025.pdf');
    assert.deepEqual(fake.callsOf('getAcmeDirectory'), [{ directoryUrl: LE.url, directoryCaPem: null }]);
    assert.equal(form.label, "Let's Encrypt", 'named after the directory');
    form.email = 'me@example.net';
    assert.equal(await form.submit(), null);
    assert.equal(form.errors.termsAccepted, 'accept the terms of service to make an account there');
    assert.equal(fake.callsOf('addAcmeAccount').length, 0);

    form.acceptTerms = true;
    const account = await form.submit();
    assert.equal(account?.status, 'registered');
    assert.deepEqual(fake.callsOf('addAcmeAccount'), [{ label: "Let's Encrypt", directoryUrl: LE.url, email: 'me@example.net', termsAccepted: info?.termsOfService, eab: null, directoryCaPem: null }]);
  });

  it('checks the email with the shared schema, and a typed URL before asking for it', async () => {
    const { fake, api } = setup();
    const form = new AccountForm(api);
    form.choose('other');
    form.otherUrl = 'http://ca.home.example/directory';
    assert.equal(await form.readDirectory(), null);
    assert.match(form.errors.directoryUrl ?? '', /starts with https:\/\//);
    assert.equal(fake.callsOf('getAcmeDirectory').length, 0);

    form.otherUrl = 'https://nowhere.invalid/directory';
    assert.equal(await form.readDirectory(), null);
    assert.match(form.errors.directoryUrl ?? '', /does not resolve/, 'the server’s refusal lands on the URL field');
    assert.match(form.error?.details.fix ?? '', /Check the directory URL/, 'and its fix reaches the alert');

    form.choose('letsencrypt-staging');
    assert.equal(form.error, null, 'choosing again clears the old refusal');
    await form.readDirectory();
    form.email = 'not an email';
    form.acceptTerms = true;
    assert.equal(await form.submit(), null);
    assert.match(form.errors.email ?? '', /such as you@example.com/);
    form.edited('email');
    assert.equal(form.errors.email, undefined);
  });

  it('sends the CA certificate of an own directory with the directory read and the account, and checks it is PEM', async () => {
    const { fake, api } = setup();
    const form = new AccountForm(api);
    form.choose('other');
    form.otherUrl = 'https://ca.home.example/acme/acme/directory';
    form.caPem = 'not a certificate';
    assert.equal(await form.readDirectory(), null);
    assert.match(form.errors.directoryCaPem ?? '', /as PEM/);
    assert.equal(fake.callsOf('getAcmeDirectory').length, 0, 'nothing is asked with a CA that is not PEM');
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    form.caPem = `  ${pem}\n`;
    form.edited('directoryCaPem');
    await form.readDirectory();
    assert.deepEqual(fake.callsOf('getAcmeDirectory'), [{ directoryUrl: 'https://ca.home.example/acme/acme/directory', directoryCaPem: pem }]);
    const account = await form.submit();
    assert.equal(account?.directoryCaPem, pem);
    assert.equal((fake.callsOf('addAcmeAccount')[0] as { directoryCaPem: string }).directoryCaPem, pem);

    form.choose('letsencrypt');
    assert.equal(form.directoryCaPem, null, 'a public directory trusts the public CAs only');
  });

  it('asks for EAB only where the directory needs it, and puts a rejected key on its field', async () => {
    const { fake, api } = setup();
    const form = new AccountForm(api);
    form.choose('other');
    form.otherUrl = 'https://acme.zerossl.com/v2/DV90';
    const info = await form.readDirectory();
    assert.equal(info?.externalAccountRequired, true);
    assert.equal(form.label, 'acme.zerossl.com');
    form.acceptTerms = true;
    assert.equal(await form.submit(), null);
    assert.equal(form.errors.eabKeyId, 'enter the EAB key id the CA gave you');
    assert.equal(form.errors.eabHmacKey, 'enter the EAB HMAC key the CA gave you');

    form.eabKeyId = 'kid-1';
    form.eabHmacKey = 'bad-key';
    assert.equal(await form.submit(), null);
    assert.match(form.errors.eabHmacKey ?? '', /refused this key id and HMAC key/);
    assert.ok(form.error?.details.fix, 'the server’s fix is shown too');

    form.eabHmacKey = 'c2VjcmV0';
    const account = await form.submit();
    assert.equal(account?.eabKeySet, false, 'the HMAC key is used once and never kept, as the real service does');
    assert.equal(account?.eabKeyId, 'kid-1');
    assert.ok(!JSON.stringify(await api.getCertificates()).includes('c2VjcmV0'), 'the HMAC key never comes back');
    assert.equal(fake.callsOf('addAcmeAccount').length, 2);
  });

  it('maps issue paths and names accounts', () => {
    assert.equal(accountFieldOf('eab'), 'eabKeyId');
    assert.equal(accountFieldOf('eab.hmacKey'), 'eabHmacKey');
    assert.equal(accountFieldOf('termsAccepted'), 'termsAccepted');
    assert.equal(accountFieldOf('nothing'), null);
    assert.equal(defaultAccountLabel(STAGING.url), "Let's Encrypt staging");
  });
});

describe('accounts after they exist', () => {
  it('renames, accepts new terms, replaces the key, and refuses removal naming the routes', async () => {
    const { fake, api, acme } = setup();
    const terms = acme.directory(LE.url).termsOfService;
    const account = acme.addAccount({ label: 'LE', directoryUrl: LE.url, email: '', termsAccepted: terms, eab: null });
    const edit = new AccountEdit(api, account);
    edit.label = '';
    assert.equal(await edit.submit(), null);
    assert.equal(edit.errors.label, 'give the account a name');
    edit.label = 'Home';
    edit.email = 'me@example.net';
    assert.equal((await edit.submit())?.label, 'Home');
    assert.deepEqual(fake.callsOf('updateAcmeAccount').at(-1), { id: account.id, label: 'Home', email: 'me@example.net' });

    acme.termsChanged.set(account.id, 'https://letsencrypt.org/new-terms.pdf');
    assert.equal((await api.getCertificates()).acme.accounts[0]?.termsChanged, 'https://letsencrypt.org/new-terms.pdf');
    await api.updateAcmeAccount({ id: account.id, termsAccepted: 'https://letsencrypt.org/new-terms.pdf' });
    assert.equal((await api.getCertificates()).acme.accounts[0]?.termsChanged, null);

    const before = (await api.getCertificates()).acme.accounts[0]!.keyCreatedAt;
    assert.ok(before);
    await api.rolloverAcmeKey({ id: account.id });

    fake.routes.push(
      sampleRoute({ id: 'r1', title: 'Nextcloud', names: ['cloud.example.net'], tls: { mode: 'acme', certificateId: null, acme: { accountId: account.id, challenge: 'http-01', dnsProviderId: null, profile: null, keyType: 'ecdsa-p256' }, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const } }),
    );
    await assert.rejects(api.removeAcmeAccount({ id: account.id }), (error: ApiError) => error.code === 'conflict' && /Nextcloud/.test(error.message) && /Nextcloud/.test(error.details.fix ?? ''));
    fake.routes = [];
    assert.equal((await api.removeAcmeAccount({ id: account.id })).removed.label, 'Home');
  });
});

describe('DnsProviderForm', () => {
  it('sends only the chosen kind’s fields, with the credentials; an empty name and secret stay on their fields', async () => {
    const { fake, api } = setup();
    const form = new DnsProviderForm(api);
    form.kind = 'rfc2136';
    assert.equal(await form.submit(), null);
    assert.equal(form.errors.label, 'give the DNS provider a name');
    assert.match(form.errors.server ?? '', /name server that takes updates/);
    assert.match(form.errors.credentials ?? '', /enter the credentials/);
    assert.equal(fake.callsOf('addDnsProvider').length, 0);

    Object.assign(form.values, { label: 'BIND at home', server: '10.33.0.2', keyName: 'gatehouse-acme', credentials: 'c2VjcmV0', zoneId: 'ignored for rfc2136' });
    const provider = await form.submit();
    assert.equal(provider?.credentialsSet, true);
    assert.deepEqual(fake.callsOf('addDnsProvider'), [
      { label: 'BIND at home', propagationTimeoutMs: 120_000, kind: 'rfc2136', server: '10.33.0.2', zone: null, keyName: 'gatehouse-acme', algorithm: 'hmac-sha256', credentials: 'c2VjcmV0' },
    ]);
    assert.equal(form.values.credentials, '', 'the secret leaves the form once saved');
    assert.ok(!JSON.stringify(await api.getCertificates()).includes('c2VjcmV0'), 'and never comes back');
  });

  it('keeps the stored credentials when the box is left empty on edit, and asks for new ones with a new kind', async () => {
    const { fake, api, acme } = setup();
    const stored = acme.addProvider({ kind: 'cloudflare', label: 'Cloudflare', apiUrl: 'https://api.cloudflare.com/client/v4', zoneId: 'abc', propagationTimeoutMs: 60_000, credentials: 'token' });
    const form = new DnsProviderForm(api, stored);
    assert.equal(form.keepsCredentials, true);
    assert.equal(form.values.zoneId, 'abc');
    form.values.label = 'Cloudflare example.net';
    assert.ok(await form.submit());
    assert.deepEqual(fake.callsOf('updateDnsProvider').at(-1), { id: stored.id, label: 'Cloudflare example.net', propagationTimeoutMs: 60_000, kind: 'cloudflare', apiUrl: 'https://api.cloudflare.com/client/v4', zoneId: 'abc' });

    const switching = new DnsProviderForm(api, { ...stored, label: 'Cloudflare example.net' });
    switching.kind = 'duckdns';
    assert.equal(switching.keepsCredentials, false);
    assert.equal(await switching.submit(), null);
    assert.equal(switching.errors.credentials, 'enter the token');
  });

  it('takes an exec script’s time limit in seconds and refuses a relative path', async () => {
    const { fake, api } = setup();
    const form = new DnsProviderForm(api);
    form.kind = 'exec';
    Object.assign(form.values, { label: 'Hook', command: 'dns-hook.sh', timeoutSeconds: '30' });
    assert.equal(await form.submit(), null);
    assert.match(form.errors.command ?? '', /full path/);
    form.values.command = '/usr/local/bin/dns-hook.sh';
    form.values.timeoutSeconds = 'soon';
    assert.equal(await form.submit(), null);
    assert.ok(form.errors.timeoutMs, 'a time limit that is not a number is refused on its field');
    form.values.timeoutSeconds = '30';
    assert.equal((await form.submit())?.kind, 'exec');
    assert.deepEqual(fake.callsOf('addDnsProvider').at(-1), { label: 'Hook', propagationTimeoutMs: 120_000, kind: 'exec', command: '/usr/local/bin/dns-hook.sh', timeoutMs: 30_000 });
  });

  it('tests a provider with a name, and shows a refusal of the credentials as a failed check', async () => {
    const { api, acme } = setup();
    const good = acme.addProvider({ kind: 'duckdns', label: 'Duck', apiUrl: 'https://www.duckdns.org', propagationTimeoutMs: 120_000, credentials: 'token' });
    const bad = acme.addProvider({ kind: 'cloudflare', label: 'CF', apiUrl: 'https://api.cloudflare.com/client/v4', zoneId: null, propagationTimeoutMs: 120_000, credentials: 'bad-token' });
    const test = new DnsProviderTest(api, good.id);
    assert.equal(await test.run(), null);
    assert.ok(test.nameError, 'a name is needed');
    test.name = 'home.duckdns.org';
    assert.equal((await test.run())?.state, 'pass');
    const failing = new DnsProviderTest(api, bad.id, 'example.net');
    const result = await failing.run();
    assert.equal(result?.state, 'fail');
    assert.match(result?.fix ?? '', /API token/);
    assert.ok(result?.details, 'the raw answer is behind details');
  });

  it('refuses to remove a provider a route uses, naming the route', async () => {
    const { fake, api, acme } = setup();
    const account = acme.addAccount({ label: 'LE', directoryUrl: LE.url, email: '', termsAccepted: acme.directory(LE.url).termsOfService, eab: null });
    const provider = acme.addProvider({ kind: 'duckdns', label: 'Duck', apiUrl: 'https://www.duckdns.org', propagationTimeoutMs: 120_000, credentials: 'token' });
    fake.routes.push(
      sampleRoute({ id: 'r1', title: 'Wiki', names: ['wiki.duckdns.org'], tls: { mode: 'acme', certificateId: null, acme: { accountId: account.id, challenge: 'dns-01', dnsProviderId: provider.id, profile: null, keyType: 'ecdsa-p256' }, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const } }),
    );
    assert.deepEqual((await api.getCertificates()).acme.dnsProviders[0]?.usedBy, ['r1']);
    await assert.rejects(api.removeDnsProvider({ id: provider.id }), (error: ApiError) => error.code === 'conflict' && /Wiki/.test(error.message));
  });
});

describe('an ACME route certificate', () => {
  it('shows the rate limit with its fix and raw detail, then renews now', async () => {
    const { fake, api, acme } = setup();
    const account = acme.addAccount({ label: 'LE', directoryUrl: LE.url, email: '', termsAccepted: acme.directory(LE.url).termsOfService, eab: null });
    fake.routes.push(
      sampleRoute({ id: 'r1', title: 'Photos', names: ['photos.example.net'], tls: { mode: 'acme', certificateId: null, acme: { accountId: account.id, challenge: 'http-01', dnsProviderId: null, profile: null, keyType: 'ecdsa-p256' }, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const } }),
    );
    const retryAt = new Date(NOW.getTime() + 2 * 86_400_000);
    acme.nextOrderProblem.set('r1', rateLimitProblem('photos.example.net', retryAt));
    const failed = await api.renewCertificate({ routeId: 'r1' });
    assert.equal(failed.state, 'error', 'no certificate held and the order failed');
    assert.equal(failed.acme?.lastAttempt?.problem?.code, 'rate_limited');
    assert.match(failed.acme?.lastAttempt?.problem?.details ?? '', /urn:ietf:params:acme:error:rateLimited/);
    assert.equal(failed.acme?.renewal?.source, 'retry');
    assert.equal(failed.acme?.renewal?.at, retryAt.toISOString());

    const renewed = await api.renewCertificate({ routeId: 'r1' });
    assert.equal(renewed.state, 'valid');
    assert.equal(renewed.acme?.lastAttempt?.ok, true);
    assert.equal(renewed.acme?.renewal?.source, 'ari');
    assert.equal(renewed.renewsAt, renewed.acme?.renewal?.at);
    assert.match(renewed.issuer ?? '', /Let's Encrypt/);
  });
});
