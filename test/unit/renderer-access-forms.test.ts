// The Access page's other forms against the fake Gatehouse: "would this address get in" with its
// steps in words, users (password twice, never kept after saving), sign-in providers built from a
// preset's exact path, and CrowdSec's settings and write-only bouncer key.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApiClient } from '../../shared/api.js';
import { defaultRouteAccess } from '../../shared/access.js';
import { outcomeWords, stepWords, verdictHeadline, verdictWhere } from '../../src-renderer/access/access-words.js';
import { FAKE_PRESETS } from '../../src-renderer/dev/fake-access.js';
import { FakeGatehouse, sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';

const { AccessCheck } = await import('../../src-renderer/pages/access/access-check.svelte.js');
const { UserPasswordForm, PASSWORDS_DIFFER } = await import('../../src-renderer/pages/access/sign-in-users.svelte.js');
const { ProviderForm, presetUrl } = await import('../../src-renderer/pages/access/provider-form.svelte.js');
const { CrowdsecForm } = await import('../../src-renderer/pages/access/crowdsec-form.svelte.js');

function setup() {
  const fake = new FakeGatehouse({ routes: [sampleRoute({ id: 'r1', title: 'Jellyfin', names: ['jellyfin.home.arpa'], upstream: 'http://10.33.0.4:8096' })] });
  return { fake, api: createApiClient(fake) };
}

describe('AccessCheck', () => {
  it('checks the address with the contract’s schema first and calls nothing for a bad one', async () => {
    const { fake, api } = setup();
    const check = new AccessCheck(api);
    check.routeId = 'r1';
    check.address = '203.0.113.300';
    assert.equal(await check.check(), null);
    assert.equal(check.problems.address, 'enter an IP address, such as 203.0.113.5');
    assert.equal(fake.callsOf('checkAccess').length, 0);
  });

  it('gives the verdict step by step: a list entry decides before the exposure', async () => {
    const { fake, api } = setup();
    const list = await api.addAccessList({ name: 'Family', entries: [{ action: 'deny', range: '203.0.113.0/24', note: 'old VPS' }] });
    await api.updateRoute({ ...fake.routes[0]!, access: { ...defaultRouteAccess(), exposure: 'anyone', lists: [list.id] } });
    const check = new AccessCheck(api);
    check.routeId = 'r1';
    check.address = ' 203.0.113.9 ';
    const verdict = await check.check();
    assert.ok(verdict);
    assert.equal(verdict.admitted, false);
    assert.equal(verdictHeadline(verdict), '203.0.113.9 is refused.');
    assert.deepEqual(
      verdict.steps.map((step) => `${stepWords[step.step]}: ${outcomeWords[step.outcome]}`),
      ['Access list: Refused', 'Who can reach it: Not asked'],
    );
    assert.equal(verdict.steps[0]!.rule, 'list Family: deny 203.0.113.0/24');

    check.address = '198.51.100.1';
    const other = await check.check();
    assert.equal(other?.admitted, true, 'no entry matched; the route is open to anyone');
    assert.equal(verdictHeadline(other!), '198.51.100.1 gets in.');
  });

  it('says where an address is in words, a country by its name', () => {
    const verdict = { address: '203.0.113.5', routeId: 'r1', admitted: false, lan: false, country: null as string | null, steps: [], signIn: 'none' };
    assert.equal(verdictWhere(verdict), 'It is outside this network.');
    assert.equal(verdictWhere({ ...verdict, country: 'AU' }), 'It is outside this network, in Australia (AU).');
    assert.equal(verdictWhere({ ...verdict, country: 'ZZ' }), 'It is outside this network, in ZZ.', 'a code without a name stays a code');
    assert.equal(verdictWhere({ ...verdict, address: '192.168.1.20', lan: true }), 'It is on this network.');
  });

  it('asks for a route when none is chosen', async () => {
    const check = new AccessCheck(setup().api);
    check.address = '10.0.0.1';
    assert.equal(await check.check(), null);
    assert.equal(check.problems.routeId, 'choose a route');
  });
});

describe('UserPasswordForm', () => {
  it('wants the password twice and at least 10 characters, and calls nothing until then', async () => {
    const { fake, api } = setup();
    const form = new UserPasswordForm(api);
    form.name = 'anna';
    form.password = 'short';
    form.repeat = 'short';
    assert.equal(await form.submit(), null);
    assert.equal(form.problems.password, 'a password has at least 10 characters');
    form.password = 'a long enough password';
    form.repeat = 'a long enough passwort';
    assert.equal(await form.submit(), null);
    assert.equal(form.problems.repeat, PASSWORDS_DIFFER);
    assert.equal(fake.callsOf('addAccessUser').length, 0);
  });

  it('adds the user and forgets the typed password; the API returns no password or hash', async () => {
    const { fake, api } = setup();
    const form = new UserPasswordForm(api);
    form.name = 'anna';
    form.password = form.repeat = 'a long enough password';
    const user = await form.submit();
    assert.deepEqual(Object.keys(user ?? {}).sort(), ['name', 'passwordSetAt']);
    assert.equal(form.password, '');
    assert.equal(form.repeat, '');
    assert.deepEqual(fake.callsOf('addAccessUser'), [{ name: 'anna', password: 'a long enough password' }]);
    assert.doesNotMatch(JSON.stringify(await api.getAccess()), /long enough/);
  });

  it('a user name with a space is refused with the schema’s words; a taken one with the server’s', async () => {
    const { api } = setup();
    const form = new UserPasswordForm(api);
    form.name = 'anna b';
    form.password = form.repeat = 'a long enough password';
    assert.equal(await form.submit(), null);
    assert.equal(form.problems.name, 'a user name has no spaces or colons');
    form.name = 'anna';
    assert.ok(await form.submit());
    form.name = 'anna';
    form.password = form.repeat = 'a long enough password';
    assert.equal(await form.submit(), null);
    assert.equal(form.problems.name, 'this name is taken');
  });

  it('changes one user’s password by name', async () => {
    const { fake, api } = setup();
    await api.addAccessUser({ name: 'ben', password: 'first password here' });
    const form = new UserPasswordForm(api, 'ben');
    form.password = form.repeat = 'second password here';
    assert.equal((await form.submit())?.name, 'ben');
    assert.deepEqual(fake.callsOf('setAccessUserPassword'), [{ name: 'ben', password: 'second password here' }]);
  });
});

describe('ProviderForm', () => {
  const authelia = FAKE_PRESETS.find((preset) => preset.kind === 'authelia')!;

  it('builds the URL from the address, the preset’s port and its exact path', async () => {
    const { fake, api } = setup();
    const form = new ProviderForm(api, FAKE_PRESETS);
    assert.equal(form.kind, 'authelia', 'the first preset is picked');
    assert.equal(form.name, 'Authelia');
    assert.equal(form.port, String(authelia.examplePort));
    form.host = '10.33.0.5';
    assert.equal(form.url, `http://10.33.0.5:${authelia.examplePort}${authelia.path}`);
    assert.deepEqual(form.input().copyHeaders, authelia.copyHeaders);
    const saved = await form.submit();
    assert.equal(saved?.url, 'http://10.33.0.5:9091/api/authz/forward-auth');
    assert.equal(fake.access.settings.providers.length, 1);
  });

  it('switching presets changes the path, port, headers and the untouched name', () => {
    const preset = (kind: string) => FAKE_PRESETS.find((candidate) => candidate.kind === kind)!;
    const form = new ProviderForm(setup().api, FAKE_PRESETS);
    form.host = 'auth.home.arpa';
    form.choose('oauth2-proxy');
    assert.equal(form.name, 'oauth2-proxy');
    assert.equal(form.url, 'http://auth.home.arpa:4180/oauth2/auth');
    assert.deepEqual(form.input().copyHeaders, preset('oauth2-proxy').copyHeaders);
    assert.ok(preset('oauth2-proxy').copyHeaders.includes('X-Auth-Request-User'), 'the user header is among them');
    form.name = 'My SSO';
    form.choose('authentik');
    assert.equal(form.name, 'My SSO', 'a name the person typed stays');
    assert.equal(form.url, 'http://auth.home.arpa:9000/outpost.goauthentik.io/auth/traefik');
    form.choose('custom');
    assert.equal(form.url, 'http://auth.home.arpa:9000/outpost.goauthentik.io/auth/traefik', 'custom starts from the URL so far');
  });

  it('brackets an IPv6 address and uses https when asked', () => {
    assert.equal(presetUrl(authelia, 'fd00::5', '9091', true), 'https://[fd00::5]:9091/api/authz/forward-auth');
    assert.equal(presetUrl(authelia, '  ', '9091'), '');
  });

  it('says what is missing: the address, a port that is not one', async () => {
    const { fake, api } = setup();
    const form = new ProviderForm(api, FAKE_PRESETS);
    form.port = '99999';
    assert.equal(await form.submit(), null);
    assert.match(form.problems.host ?? '', /enter the server's address/);
    assert.equal(form.problems.port, 'a port is a number from 1 to 65535');
    assert.equal(fake.callsOf('addSignInProvider').length, 0);
  });

  it('reads a saved provider back into address and port, or into the whole URL when the path differs', () => {
    const { api } = setup();
    const built = new ProviderForm(api, FAKE_PRESETS, { id: 'p1', name: 'A', kind: 'authelia', url: 'https://auth.home.arpa/api/authz/forward-auth', copyHeaders: [], insecureTls: true });
    assert.equal(built.built, true);
    assert.equal(built.host, 'auth.home.arpa');
    assert.equal(built.port, '443');
    assert.equal(built.url, 'https://auth.home.arpa:443/api/authz/forward-auth');
    const whole = new ProviderForm(api, FAKE_PRESETS, { id: 'p2', name: 'B', kind: 'authelia', url: 'http://10.0.0.5:9091/other', copyHeaders: [], insecureTls: false });
    assert.equal(whole.built, false);
    assert.equal(whole.url, 'http://10.0.0.5:9091/other');
  });

  it('with no presets from the core, offers the whole URL (custom) only', async () => {
    const form = new ProviderForm(setup().api, []);
    assert.equal(form.kind, 'custom');
    form.name = 'SSO';
    form.fullUrl = 'ftp://sso';
    assert.equal(await form.submit(), null);
    assert.ok(form.problems.url);
  });
});

describe('CrowdsecForm', () => {
  it('saves the settings checked by the schema; the key is write-only', async () => {
    const { fake, api } = setup();
    const overview = await api.getAccess();
    const form = new CrowdsecForm(api, overview.crowdsec.settings);
    form.enabled = true;
    form.pullSeconds = '1';
    assert.equal(await form.save(), null);
    assert.equal(form.problems.pullSeconds, 'pull at most every 2 seconds');
    form.pullSeconds = 'ten';
    assert.equal(await form.save(), null);
    assert.equal(form.problems.pullSeconds, 'enter a whole number of seconds, such as 10');
    form.pullSeconds = '5';
    const saved = await form.save();
    assert.equal(saved?.crowdsec.settings.pullSeconds, 5);
    assert.equal(saved?.crowdsec.state, 'no_key');
    assert.ok(saved?.crowdsec.problem);

    form.apiKey = 'has a space';
    assert.equal(await form.saveKey(), null);
    assert.match(form.problems.apiKey ?? '', /one word/);
    form.apiKey = 'k3yFromCscli';
    const keyed = await form.saveKey();
    assert.equal(keyed?.crowdsec.apiKeySet, true);
    assert.equal(form.apiKey, '', 'the typed key is not kept');
    assert.doesNotMatch(JSON.stringify(keyed), /k3yFromCscli/);
    assert.equal((await form.removeKey())?.crowdsec.apiKeySet, false);
    assert.deepEqual(fake.callsOf('updateAccessSettings').slice(-2), [{ crowdsecApiKey: 'k3yFromCscli' }, { crowdsecApiKey: '' }]);
  });
});
