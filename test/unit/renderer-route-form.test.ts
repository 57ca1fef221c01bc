// The route form's logic: messages come from the shared schemas, appear after a field is left or on
// submit, an invalid form calls no API, and the server's refusals land on the fields they name.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, createApiClient } from '../../shared/api.js';
import { hostnameProblem, noTls, parseUpstream, type RouteInput } from '../../shared/model.js';
import { FakeGatehouse, sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';
import { defaultRouteAccess } from '../../shared/access.js';
import { upstreamRow } from '../../src-renderer/route-form/upstream-values.js';

/** The form's server rows for one address. */
const serverRows = (address: string) => [upstreamRow({ url: address })];

const { RouteForm, emptyTrustedListMessage, routeInputFrom, routeValuesOf, routeFieldOf } = await import('../../src-renderer/route-form/route-form.svelte.js');

function formWith(values: Partial<InstanceType<typeof RouteForm>['values']>) {
  const form = new RouteForm();
  Object.assign(form.values, values);
  return form;
}

describe('RouteForm', () => {
  it('shows no message before the person leaves a field, then the schema’s message', () => {
    const form = formWith({ names: 'http://jellyfin.home.arpa' });
    assert.equal(form.message('names'), null, 'nothing while still typing the first time');
    form.fieldErrors.touch('names');
    assert.equal(form.message('names'), hostnameProblem('http://jellyfin.home.arpa'));
    form.values.names = 'jellyfin.home.arpa';
    assert.equal(form.message('names'), null, 'live once touched: fixed, the message goes');
  });

  it('on submit shows every field’s problem and calls nothing', async () => {
    const form = formWith({ names: '', upstreams: serverRows('10.33.0.4'), trustedProxiesChoice: 'list', trustedProxies: 'not-an-ip' });
    let saves = 0;
    const saved = await form.submit(async () => {
      saves += 1;
      throw new Error('must not be called');
    });
    assert.equal(saved, null);
    assert.equal(saves, 0);
    assert.equal(form.message('names'), 'a route needs at least one host name');
    const upstream = parseUpstream('10.33.0.4');
    assert.ok('problem' in upstream);
    assert.equal(form.message('upstreams.0.url'), upstream.problem);
    assert.equal(form.message('trustedProxies'), 'enter an IP address or a CIDR range, such as 10.33.0.1 or 10.33.0.0/24');
    assert.equal(form.message('title'), null);
    assert.equal(form.error, null, 'field problems are not repeated in the alert');
  });

  it('sends the normalized input: one name per line, empty optional fields left out or null, HTTPS from the local CA', async () => {
    const form = formWith({ title: '  Jellyfin ', names: 'Jellyfin.Home.Arpa\n\n  tv.home.arpa  \n', upstreams: serverRows('10.33.0.4:8096') });
    let sent: RouteInput | undefined;
    const saved = await form.submit(async (input) => {
      sent = input;
      return sampleRoute({ id: 'r1', names: input.names, tls: noTls(), app: null, access: defaultRouteAccess() });
    });
    assert.ok(saved);
    const { id: _id, ...expected } = sampleRoute({
      id: 'unsaved',
      title: 'Jellyfin',
      names: ['jellyfin.home.arpa', 'tv.home.arpa'],
      upstream: 'http://10.33.0.4:8096',
      tls: { mode: 'local', certificateId: null, acme: null, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const },
    });
    assert.deepEqual(sent, expected);
  });

  it('leaves out an empty title instead of sending ""', () => {
    assert.equal('title' in routeInputFrom(formWith({ title: '   ', names: 'a.home.arpa', upstreams: serverRows('x:1') }).values), false);
  });

  it('puts a server invalid_input on the fields it names and the rest in the alert', async () => {
    const form = formWith({ names: 'jellyfin.home.arpa', upstreams: serverRows('10.33.0.4:8096') });
    const refusal = new ApiError('invalid_input', 'names.0: taken; id: unknown', {
      issues: [
        { path: 'names.0', message: '"jellyfin.home.arpa" already belongs to Media' },
        { path: 'upstream', message: 'that upstream is this proxy itself' },
        { path: 'id', message: 'unknown route' },
      ],
    });
    assert.equal(await form.submit(() => Promise.reject(refusal)), null);
    assert.equal(form.message('names'), '"jellyfin.home.arpa" already belongs to Media');
    assert.equal(form.message('upstreams.0.url'), 'that upstream is this proxy itself');
    assert.equal(form.error, refusal);
    assert.deepEqual(form.errorIssues, [{ path: 'id', message: 'unknown route' }]);

    form.fieldErrors.edited('names');
    assert.equal(form.message('names'), null, 'editing the field clears the server’s verdict on it');
    assert.equal(form.message('upstreams.0.url'), 'that upstream is this proxy itself');
  });

  it('shows no alert when every server issue is on a field', async () => {
    const form = formWith({ names: 'a.home.arpa', upstreams: serverRows('10.0.0.1:80') });
    await form.submit(() => Promise.reject(new ApiError('invalid_input', 'upstream: no', { issues: [{ path: 'upstream', message: 'no' }] })));
    assert.equal(form.error, null);
    assert.equal(form.message('upstreams.0.url'), 'no');
  });

  it('shows a conflict (409) with its fix in the alert', async () => {
    const fake = new FakeGatehouse({ routes: [sampleRoute({ id: 'media', names: ['jellyfin.home.arpa'], upstream: 'http://10.33.0.4:8096' })] });
    const api = createApiClient(fake);
    const form = formWith({ names: 'jellyfin.home.arpa', upstreams: serverRows('10.33.0.5:80') });
    assert.equal(await form.submit((input) => api.addRoute(input)), null);
    assert.equal(form.error?.code, 'conflict');
    assert.match(form.error?.message ?? '', /jellyfin\.home\.arpa/);
    assert.ok(form.error?.details.fix);
    assert.equal(fake.routes.length, 1, 'nothing was saved');
  });

  it('adds a valid route through the API', async () => {
    const fake = new FakeGatehouse();
    const api = createApiClient(fake);
    const form = formWith({ names: 'jellyfin.home.arpa', upstreams: serverRows('10.33.0.4:8096'), trustedProxiesChoice: 'list', trustedProxies: '10.0.0.0/8\n192.168.1.1' });
    const saved = await form.submit((input) => api.addRoute(input));
    assert.deepEqual(saved?.upstreams.map((target) => target.url), ['http://10.33.0.4:8096']);
    assert.deepEqual(fake.routes[0]?.trustedProxies, ['10.0.0.0/8', '192.168.1.1']);
    assert.equal(form.fieldErrors.submitted, false, 'a saved form starts clean');
  });

  it('saves a redirect route: no servers sent, the target normalized; its problems land on its fields', async () => {
    const fake = new FakeGatehouse();
    const api = createApiClient(fake);
    const form = formWith({ names: 'old-blog.home.arpa', action: 'redirect', redirect: { to: 'journal.example.net', status: 308, keepPath: false } });
    assert.equal(await form.submit((input) => api.addRoute(input)), null);
    assert.match(form.message('redirectTo') ?? '', /must start with http:\/\/ or https:\/\//);
    assert.equal(form.message('upstreams.0.url'), null, 'the hidden server row is not asked for');
    form.values.redirect.to = ' https://journal.example.net/ ';
    const saved = await form.submit((input) => api.addRoute(input));
    assert.ok(saved, JSON.stringify({ error: form.error?.message, to: form.message('redirectTo'), r: form.message('redirect'), u: form.message('upstreams') }));
    assert.deepEqual(saved?.upstreams, []);
    assert.deepEqual(saved?.redirect, { to: 'https://journal.example.net', status: 308, keepPath: false });
    // Editing it again shows the redirect chosen, and switching to forwarding needs a server again.
    const edit = new RouteForm();
    Object.assign(edit.values, routeValuesOf(saved!));
    assert.equal(edit.values.action, 'redirect');
    assert.deepEqual(routeInputFrom(edit.values).redirect, saved?.redirect);
    edit.values.action = 'forward';
    const input = routeInputFrom(edit.values);
    assert.equal(input.redirect, null);
    assert.equal(await edit.submit((next) => api.addRoute(next)), null, 'a forwarding route with an empty server row is refused');
  });

  it('starts an edit from the saved route and round-trips its fields', () => {
    const route = sampleRoute({
      id: 'r1',
      title: 'Proxmox',
      names: ['pve.home.arpa', 'proxmox.home.arpa'],
      upstream: 'https://10.33.0.9:8006',
      insecureUpstreamTls: true,
      rewriteHost: 'pve.lan',
      trustedProxies: ['10.0.0.1'],
    });
    const { id: _id, ...fields } = route;
    assert.deepEqual(routeInputFrom(routeValuesOf(route)), fields);
  });

  it('keeps the three meanings of trustedProxies apart: global list (null), nobody ([]), a list', () => {
    for (const trustedProxies of [null, [], ['10.0.0.1', '10.33.0.0/24']]) {
      const route = sampleRoute({ id: 'r1', title: 'Wiki', names: ['wiki.home.arpa'], upstream: 'http://10.33.0.7:80', trustedProxies });
      const values = routeValuesOf(route);
      assert.equal(values.trustedProxiesChoice, trustedProxies === null ? 'global' : trustedProxies.length === 0 ? 'nobody' : 'list');
      assert.deepEqual(routeInputFrom(values).trustedProxies, trustedProxies, `${JSON.stringify(trustedProxies)} round-trips`);
    }
  });

  it('saves a route that trusts nobody as [] after an edit of another field', async () => {
    const fake = new FakeGatehouse({ routes: [sampleRoute({ id: 'wiki', title: 'Wiki', names: ['wiki.home.arpa'], upstream: 'http://10.33.0.7:80', trustedProxies: [] })] });
    const api = createApiClient(fake);
    const form = new RouteForm(routeValuesOf(fake.routes[0]!));
    form.values.title = 'Team wiki';
    const saved = await form.submit((input) => api.updateRoute({ id: 'wiki', ...input }));
    assert.equal(saved?.title, 'Team wiki');
    assert.deepEqual(fake.routes[0]?.trustedProxies, [], 'still trusts nobody, not the global list');
  });

  it('refuses "Only these addresses" with an empty box, and calls nothing', async () => {
    const form = formWith({ names: 'a.home.arpa', upstreams: serverRows('10.0.0.1:80'), trustedProxiesChoice: 'list', trustedProxies: ' \n\n' });
    let saves = 0;
    assert.equal(await form.submit(async () => (saves++, sampleRoute({ id: 'x', names: ['a.home.arpa'], upstream: 'http://10.0.0.1:80' }))), null);
    assert.equal(saves, 0);
    assert.equal(form.message('trustedProxies'), emptyTrustedListMessage);
    assert.match(emptyTrustedListMessage, /add .*address.*or choose another option/);
    assert.equal(form.error, null, 'the problem is on the field, not in the alert');

    form.values.trustedProxiesChoice = 'nobody';
    assert.equal(form.message('trustedProxies'), null, 'another choice needs no addresses');
    form.values.trustedProxiesChoice = 'list';
    form.values.trustedProxies = '10.33.0.1';
    assert.equal(form.message('trustedProxies'), null);
  });

  it('ignores what the box holds unless "Only these addresses" is chosen, and keeps it', () => {
    const form = formWith({ names: 'a.home.arpa', upstreams: serverRows('10.0.0.1:80'), trustedProxiesChoice: 'list', trustedProxies: 'not-an-ip' });
    form.fieldErrors.touch('trustedProxies');
    assert.ok(form.message('trustedProxies'));
    form.values.trustedProxiesChoice = 'global';
    assert.equal(form.message('trustedProxies'), null);
    assert.equal(routeInputFrom(form.values).trustedProxies, null);
    assert.equal(form.values.trustedProxies, 'not-an-ip', 'what was typed is still there when the person comes back');
  });

  it('maps dotted issue paths to fields', () => {
    assert.equal(routeFieldOf('names.3'), 'names');
    assert.equal(routeFieldOf('trustedProxies.0'), 'trustedProxies');
    assert.equal(routeFieldOf('rewriteHost'), 'rewriteHost');
    assert.equal(routeFieldOf('id'), null);
    assert.equal(routeFieldOf('redirect.to'), 'redirectTo');
    assert.equal(routeFieldOf('redirect.status'), 'redirectStatus');
    assert.equal(routeFieldOf('redirect'), 'redirect');
    assert.equal(routeFieldOf(''), null);
  });
});
