// The route form's Let's Encrypt choice against the fake Gatehouse: what is sent (the DNS provider
// only with DNS), the wildcard-over-HTTP error shown at once and blocking the save, the server's
// tls.acme.* issues landing on their controls, the profile list read from the account's directory,
// and "Check setup" (the pre-flight) with its checklist and its words.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KNOWN_ACME_DIRECTORIES } from '../../shared/acme.js';
import { ApiError, createApiClient } from '../../shared/api.js';
import { accountName, momentLabel, preflightSummary, relativeLabel, renewalText } from '../../src-renderer/certificates/acme-words.js';
import { FakeGatehouse } from '../../src-renderer/dev/fake-gatehouse.js';
import { upstreamRow } from '../../src-renderer/route-form/upstream-values.js';

const { RouteForm, emptyRouteValues, routeFieldOf, routeInputFrom, routeTlsOf, wildcardNeedsDnsMessage } = await import('../../src-renderer/route-form/route-form.svelte.js');
const { AcmeChoice, defaultRouteAcme } = await import('../../src-renderer/route-form/acme-choice.svelte.js');

const NOW = new Date('2026-11-21T12:00:00.000Z');
const [LE] = KNOWN_ACME_DIRECTORIES;

function setup() {
  const fake = new FakeGatehouse({ now: () => NOW });
  const api = createApiClient(fake);
  const terms = fake.certificates.acme.directory(LE.url).termsOfService;
  const account = fake.certificates.acme.addAccount({ label: "Let's Encrypt", directoryUrl: LE.url, email: 'me@example.net', termsAccepted: terms, eab: null });
  const provider = fake.certificates.acme.addProvider({ kind: 'cloudflare', label: 'Cloudflare', apiUrl: 'https://api.cloudflare.com/client/v4', zoneId: null, propagationTimeoutMs: 120_000, credentials: 'token' });
  return { fake, api, account, provider };
}

function acmeForm(names: string, accountId: string) {
  const values = { ...emptyRouteValues(), names, upstreams: [upstreamRow({ url: 'http://10.0.0.5:80' })] };
  values.tls = { ...values.tls, mode: 'acme', acme: defaultRouteAcme([{ id: accountId }]) };
  return new RouteForm(values);
}

describe('the route form with Let’s Encrypt', () => {
  it('sends the account and challenge, and the DNS provider only with the DNS challenge', () => {
    const form = acmeForm('cloud.example.net', 'acct1');
    form.values.tls.acme!.dnsProviderId = 'dns1';
    assert.deepEqual(routeTlsOf(form.values.tls).acme, { accountId: 'acct1', challenge: 'http-01', dnsProviderId: null, profile: null, keyType: 'ecdsa-p256' });
    form.values.tls.acme!.challenge = 'dns-01';
    assert.equal(routeInputFrom(form.values).tls?.acme?.dnsProviderId, 'dns1');
    form.values.tls.mode = 'local';
    assert.equal(routeTlsOf(form.values.tls).acme, null, 'another mode sends no ACME choice');
    assert.equal(form.values.tls.acme?.dnsProviderId, 'dns1', 'but the form keeps it for switching back');
  });

  it('shows "a wildcard needs the DNS challenge" at once, and does not save', async () => {
    const { api, account, fake } = setup();
    const form = acmeForm('*.example.net', account.id);
    assert.equal(form.message('tlsAcmeChallenge'), wildcardNeedsDnsMessage, 'before any field was left or the form submitted');
    assert.equal(await form.submit((input) => api.addRoute(input)), null);
    assert.equal(fake.callsOf('addRoute').length, 0);
    form.values.tls.acme!.challenge = 'dns-01';
    assert.equal(form.message('tlsAcmeChallenge'), null);
    assert.match(form.message('tlsAcmeDnsProvider') ?? '', /DNS provider/, 'DNS without a provider is the provider’s problem');
  });

  it('maps the server’s tls.acme issues onto their controls', async () => {
    const { api, fake } = setup();
    assert.equal(routeFieldOf('tls.acme'), 'tlsAcmeAccount');
    assert.equal(routeFieldOf('tls.acme.accountId'), 'tlsAcmeAccount');
    assert.equal(routeFieldOf('tls.acme.dnsProviderId'), 'tlsAcmeDnsProvider');
    assert.equal(routeFieldOf('tls.acme.profile'), 'tlsAcmeProfile');
    assert.equal(routeFieldOf('tls.acme.keyType'), 'tlsAcmeKeyType');
    assert.equal(routeFieldOf('tls.acme.challenge'), 'tlsAcmeChallenge');

    const form = acmeForm('cloud.example.net', 'gone');
    const saved = await form.submit((input) => api.addRoute(input));
    assert.equal(saved, null);
    assert.match(form.message('tlsAcmeAccount') ?? '', /does not exist/);
    assert.equal(fake.routes.length, 0);
    form.fieldErrors.edited('tlsAcmeAccount');
    assert.equal(form.message('tlsAcmeAccount'), null, 'editing the account clears the server’s verdict');
  });

  it('saves a route the fake then lists with its ACME state', async () => {
    const { api, account, provider, fake } = setup();
    const form = acmeForm('cloud.example.net', account.id);
    const choice = new AcmeChoice(api, form);
    choice.chooseChallenge('dns-01', [{ ...fake.certificates.acme.providerView(fake.certificates.acme.providers[0]!) }]);
    assert.equal(form.values.tls.acme?.dnsProviderId, provider.id, 'the first provider is picked with DNS');
    const route = await form.submit((input) => api.addRoute(input));
    assert.ok(route);
    const cert = (await api.getCertificates()).routes.find((candidate) => candidate.routeId === route.id);
    assert.equal(cert?.mode, 'acme');
    assert.equal(cert?.state, 'pending', 'no certificate before the first order');
    assert.equal(cert?.acme?.renewal?.source, 'first');
  });

  it('fills in the first account when the mode is picked, keeping an earlier choice', () => {
    const { api, account } = setup();
    const form = new RouteForm();
    const choice = new AcmeChoice(api, () => form);
    form.values.tls.mode = 'acme';
    choice.chooseMode([]);
    assert.equal(form.values.tls.acme?.accountId, '', 'no account yet: the field asks for one');
    form.fieldErrors.touch('tlsAcmeAccount');
    assert.equal(form.message('tlsAcmeAccount'), 'choose the account the certificate comes through, or add one on the Certificates page');
    choice.chooseMode([{ ...account }]);
    assert.equal(form.values.tls.acme?.accountId, account.id);
    form.values.tls.acme!.keyType = 'rsa-2048';
    choice.chooseMode([{ ...account, id: 'other' }]);
    assert.equal(form.values.tls.acme?.keyType, 'rsa-2048', 'an earlier choice stays');
    assert.equal(form.values.tls.acme?.accountId, account.id);
  });

  it('reads the account’s directory for its profiles, and drops a profile the next account does not offer', async () => {
    const { api, account, fake } = setup();
    const form = acmeForm('cloud.example.net', account.id);
    const choice = new AcmeChoice(api, form);
    assert.equal(choice.profilesOf(account), null, 'unknown until read');
    await choice.loadDirectory(account.directoryUrl);
    await choice.loadDirectory(account.directoryUrl);
    assert.deepEqual(choice.profilesOf(account)?.map((profile) => profile.name), ['classic', 'tlsserver', 'shortlived']);
    assert.equal(fake.callsOf('getAcmeDirectory').length, 1, 'read once');
    form.values.tls.acme!.profile = 'shortlived';
    const stepCa = fake.certificates.acme.addAccount({ label: 'step-ca', directoryUrl: 'https://ca.home.example/acme/directory', email: '', termsAccepted: null, eab: null });
    await choice.loadDirectory(stepCa.directoryUrl);
    form.values.tls.acme!.accountId = stepCa.id;
    choice.chooseAccount(stepCa);
    assert.equal(form.values.tls.acme?.profile, null);
  });

  it('runs the setup check for the typed names and keeps the checklist', async () => {
    const { api, account, provider, fake } = setup();
    fake.certificates.acme.caa.set('example.org', ['sectigo.com']);
    const form = acmeForm('vault.example.org', account.id);
    form.values.tls.acme!.challenge = 'dns-01';
    form.values.tls.acme!.dnsProviderId = provider.id;
    const choice = new AcmeChoice(api, form);
    const report = await choice.check();
    assert.ok(report);
    assert.deepEqual(fake.callsOf('preflightCertificate'), [{ names: ['vault.example.org'], acme: { accountId: account.id, challenge: 'dns-01', dnsProviderId: provider.id, profile: null, keyType: 'ecdsa-p256' } }]);
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.checks.map((check) => [check.id, check.state]),
      [
        ['dns-credentials', 'pass'],
        ['public-dns:vault.example.org', 'warn'],
        ['caa:example.org', 'fail'],
        ['split-dns', 'skipped'],
      ],
    );
    assert.match(report.checks[2]!.fix ?? '', /CAA 0 issue "letsencrypt.org"/);
    assert.equal(preflightSummary(report), '1 of 4 checks failed: an order would fail the same way. Fix it first.');
  });

  it('says what is missing instead of checking an incomplete form', async () => {
    const { api, fake } = setup();
    const form = acmeForm('', 'acct1');
    const choice = new AcmeChoice(api, form);
    assert.equal(await choice.check(), null);
    assert.equal(choice.checkError?.message, 'Enter the host names to check first.');
    form.values.names = 'a.example.net';
    form.values.tls.acme!.challenge = 'dns-01';
    assert.equal(await choice.check(), null);
    assert.match(choice.checkError?.message ?? '', /^Finish the choice first: .*DNS provider/);
    assert.equal(fake.callsOf('preflightCertificate').length, 0);

    form.values.tls.acme!.challenge = 'http-01';
    fake.failNext('preflightCertificate', new ApiError('internal', 'The check stopped.'));
    assert.equal(await choice.check(), null);
    assert.equal(choice.checkError?.message, 'The check stopped.');
  });
});

describe('Let’s Encrypt words', () => {
  it('says when and why the next renewal happens', () => {
    const at = new Date(2027, 0, 13, 4, 12).toISOString();
    const now = new Date(2026, 11, 6, 12, 0);
    assert.equal(momentLabel(at, now), '13 Jan 04:12');
    assert.equal(momentLabel(new Date(2030, 3, 6, 19, 21).toISOString(), now), '6 Apr 2030 19:21', 'years away: with its year');
    assert.equal(renewalText({ at, source: 'ari', reason: "In the window Let's Encrypt suggested", window: null }, now), "Next renewal: 13 Jan 04:12 — in the window Let's Encrypt suggested");
    assert.equal(renewalText({ at: null, source: 'first', reason: 'No certificate yet: the first order is due now.', window: null }), 'Next renewal: now — no certificate yet: the first order is due now');
    assert.equal(renewalText(null), 'Next renewal: not planned yet');
    assert.equal(relativeLabel(new Date(NOW.getTime() + 2 * 86_400_000 + 3_600_000).toISOString(), NOW), 'in 2 days');
    assert.equal(relativeLabel(new Date(NOW.getTime() - 5 * 3_600_000).toISOString(), NOW), '5 hours ago');
  });

  it('names an account once when its name is its directory’s', () => {
    assert.equal(accountName({ label: "Let's Encrypt", directoryLabel: "Let's Encrypt", email: 'me@example.net' }), "Let's Encrypt");
    assert.equal(accountName({ label: "Let's Encrypt", directoryLabel: "Let's Encrypt", email: 'me@example.net' }, true), "Let's Encrypt (me@example.net)");
    assert.equal(accountName({ label: 'Home', directoryLabel: 'ca.home.example', email: '' }, true), 'Home (ca.home.example)');
  });

  it('sums a checklist up in one sentence', () => {
    const check = (state: 'pass' | 'warn' | 'fail' | 'skipped') => ({ id: state, label: '', state, message: '', fix: null, details: null, durationMs: 1 });
    assert.equal(preflightSummary({ ok: true, checks: [check('pass'), check('pass')] }), 'All 2 checks passed: ready to order.');
    assert.equal(preflightSummary({ ok: true, checks: [check('pass'), check('warn'), check('skipped')] }), 'Ready to order, with 1 warning to read.');
    assert.equal(preflightSummary({ ok: false, checks: [check('fail'), check('fail'), check('pass')] }), '2 of 3 checks failed: an order would fail the same way. Fix them first.');
  });
});
