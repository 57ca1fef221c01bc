// The route form's "Who can reach this": limits typed for people (the body in MB) become the API's
// numbers (bytes), problems land on the part of the section they name (client-side from the
// schema, server-side from the issue path), and a route attached to a list saves with it.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, createApiClient } from '../../shared/api.js';
import { defaultRouteAccess } from '../../shared/access.js';
import { countryCodeOf, countryLabel, COUNTRIES } from '../../src-renderer/access/countries.js';
import { FakeGatehouse, sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';
import { reachableFromInternet, routeNumbers } from '../../src-renderer/pages/dashboard/route-facts.js';
import { upstreamRow } from '../../src-renderer/route-form/upstream-values.js';

/** The form's server rows for one address. */
const serverRows = (address: string) => [upstreamRow({ url: address })];

const { RouteForm, emptyRouteValues, routeFieldOf, routeInputFrom, routeValuesOf } = await import('../../src-renderer/route-form/route-form.svelte.js');
const { matchesSearch } = await import('../../src-renderer/pages/logs/access-log.svelte.js');
const { sampleLogEntry } = await import('../../src-renderer/dev/fake-gatehouse.js');

function formFor(fields: Partial<ReturnType<typeof emptyRouteValues>> = {}) {
  const form = new RouteForm();
  Object.assign(form.values, { names: 'jellyfin.home.arpa', upstreams: serverRows('10.33.0.4:8096'), ...fields });
  return form;
}

describe('routeFieldOf for access', () => {
  it('maps each part of the access issue paths to its control, and app to the app picker', () => {
    assert.equal(routeFieldOf('access.lists.0'), 'accessLists');
    assert.equal(routeFieldOf('access.countries.countries'), 'accessCountries');
    assert.equal(routeFieldOf('access.signIn.providerId'), 'accessSignIn');
    assert.equal(routeFieldOf('access.signIn.users'), 'accessSignIn');
    assert.equal(routeFieldOf('access.limits.maxBodyBytes'), 'accessBody');
    assert.equal(routeFieldOf('access.limits.requestsPerMinute'), 'accessRequests');
    assert.equal(routeFieldOf('access.limits.loginPerMinute'), 'accessLogin');
    assert.equal(routeFieldOf('access.exposure'), 'access');
    assert.equal(routeFieldOf('access'), 'access');
    assert.equal(routeFieldOf('app'), 'app');
  });
});

describe('Who can reach this', () => {
  it('new routes are for this network only, with the default limits shown as typed text', () => {
    const values = emptyRouteValues();
    assert.equal(values.access.exposure, 'lan');
    assert.deepEqual(values.limits, { requestsPerMinute: '1200', loginPerMinute: '10', maxBodyMb: '0' });
  });

  it('sends the largest upload in bytes from MB, and the typed limits as numbers', () => {
    const form = formFor();
    form.values.limits = { requestsPerMinute: ' 600 ', loginPerMinute: '5', maxBodyMb: '2.5' };
    const input = routeInputFrom(form.values);
    assert.deepEqual(input.access?.limits, { requestsPerMinute: 600, loginPerMinute: 5, maxBodyBytes: 2_500_000, limitLan: false });
    const back = routeValuesOf(sampleRoute({ id: 'r', names: ['a.home.arpa'], upstream: 'http://a:1', access: { ...defaultRouteAccess(), limits: { ...defaultRouteAccess().limits, maxBodyBytes: 100_000_000 } } }));
    assert.equal(back.limits.maxBodyMb, '100');
  });

  it('says in words when a limit is not a number, on that limit, and calls nothing', async () => {
    const form = formFor();
    form.values.limits.maxBodyMb = 'lots';
    form.values.limits.requestsPerMinute = '-3';
    let calls = 0;
    assert.equal(await form.submit(async () => (calls++, Promise.reject(new Error('no')))), null);
    assert.equal(calls, 0);
    assert.equal(form.message('accessBody'), 'enter a size in MB, such as 100 or 0.5 (0 = no limit)');
    assert.equal(form.message('accessRequests'), 'enter a whole number of requests, such as 1200 (0 = no limit)');
    assert.equal(form.message('accessLogin'), null);
  });

  it('country rules need a country; the schema’s words land on the countries', async () => {
    const form = formFor();
    form.values.access.countries = { mode: 'allow', countries: [] };
    assert.equal(await form.submit(async () => Promise.reject(new Error('no'))), null);
    assert.equal(form.message('accessCountries'), 'list at least one country to allow, or turn country rules off');
  });

  it('“only these users” with nobody chosen is refused on the sign-in part', async () => {
    const form = formFor();
    form.values.access.signIn = { method: 'basic', users: [] };
    assert.equal(await form.submit(async () => Promise.reject(new Error('no'))), null);
    assert.equal(form.message('accessSignIn'), 'choose at least one user, or "all"');
  });

  it('saves a route with an attached list and sign-in; a missing provider comes back on the sign-in part', async () => {
    const fake = new FakeGatehouse();
    const api = createApiClient(fake);
    const list = await api.addAccessList({ name: 'Family', entries: [{ action: 'allow', range: '198.51.100.0/24' }] });
    const form = formFor();
    form.values.access.exposure = 'anyone';
    form.values.access.lists.push(list.id);
    form.values.access.signIn = { method: 'forward', providerId: 'gone' };
    assert.equal(await form.submit((input) => api.addRoute(input)), null);
    assert.match(form.message('accessSignIn') ?? '', /there is no sign-in provider "gone"/);
    assert.equal(form.error, null, 'the refusal is all on a field');
    form.values.access.signIn = { method: 'basic', users: 'all' };
    form.fieldErrors.edited('accessSignIn');
    const saved = await form.submit((input) => api.addRoute(input));
    assert.deepEqual(saved?.access.lists, [list.id]);
    assert.equal(saved?.access.exposure, 'anyone');
    assert.equal(reachableFromInternet(saved!), true);
  });

  it('an app preset id the server refuses lands on the app picker', async () => {
    const form = formFor();
    const refusal = new ApiError('invalid_input', 'app: no such app', { issues: [{ path: 'app', message: 'there is no app preset "nope"' }] });
    assert.equal(await form.submit(() => Promise.reject(refusal)), null);
    assert.equal(form.message('app'), 'there is no app preset "nope"');
  });
});

describe('countries', () => {
  it('knows every ISO 3166 code by code or name', () => {
    assert.equal(COUNTRIES.length, 249);
    assert.equal(countryCodeOf('de'), 'DE');
    assert.equal(countryCodeOf('Germany'), 'DE');
    assert.equal(countryCodeOf('Germany (DE)'), 'DE');
    assert.equal(countryCodeOf('XX'), null);
    assert.equal(countryLabel('NL'), 'Netherlands (NL)');
    assert.equal(countryLabel('XK'), 'XK', 'an unknown code is shown as is');
  });
});

describe('dashboard and log', () => {
  it('counts refusals, with the last minute after a slash when there were any', () => {
    const base = { routeId: 'r', requests: 10, errors: 0, bytesIn: 0, bytesOut: 0, p50Ms: 1, p99Ms: 2, requestsPerMinute: 1, openWebSockets: 0 };
    assert.equal(routeNumbers({ ...base, refused: 12, refusedPerMinute: 3 }).refused, '12 / 3');
    assert.equal(routeNumbers({ ...base, refused: 12, refusedPerMinute: 0 }).refused, '12');
    assert.equal(routeNumbers(undefined).refused, '—');
  });

  it('the log search finds the rule that refused a request and the user who signed in', () => {
    const refused = sampleLogEntry({ status: 403, rule: 'list Family: deny 203.0.113.0/24' });
    const signedIn = sampleLogEntry({ user: 'anna' });
    assert.equal(matchesSearch(refused, 'family deny'), true);
    assert.equal(matchesSearch(refused, '203.0.113.0/24'), true);
    assert.equal(matchesSearch(signedIn, 'ANNA'), true);
    assert.equal(matchesSearch(signedIn, 'family'), false);
  });
});
