// The Discovery side of the renderer against the fake Gatehouse: the live overview (read, then
// followed by events), Probe a host (checked with the contract's schema before anything is sent),
// the route form's "Publish on the LAN" (its problem, the multi-label warning, a conflict's
// suggestion), the Settings toggle for lan.mdns, the Map it handoff to Add route, and the words.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, createApiClient } from '../../shared/api.js';
import { defaultSettings, multiLabelLocalWarning, publishOnLanProblem, RouteInputSchema, type GeneralSettings } from '../../shared/model.js';
import type { DiscoveryOverview } from '../../shared/status.js';
import { sampleServices } from '../../src-renderer/dev/fake-discovery.js';
import { FakeGatehouse, sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';
import { publishedStateText, servicesCountText, serviceTypeLabel, timeAgo } from '../../src-renderer/discovery/format.js';
import { mapIt } from '../../src-renderer/discovery/map-it.js';
import { upstreamRow } from '../../src-renderer/route-form/upstream-values.js';

/** The form's server rows for one address. */
const serverRows = (address: string) => [upstreamRow({ url: address })];

const { DiscoveryFeed } = await import('../../src-renderer/discovery/discovery-feed.svelte.js');
const { HostProbeForm, probeInputFrom } = await import('../../src-renderer/pages/discovery/probe-host.svelte.js');
const { RouteForm, routeValuesFrom, routeInputFrom } = await import('../../src-renderer/route-form/route-form.svelte.js');
const { GeneralSettingsForm, settingsPatchFrom } = await import('../../src-renderer/pages/settings/general-settings-form.svelte.js');
const { AppState } = await import('../../src-renderer/app/app-state.svelte.js');

const NOW = new Date('2026-11-21T12:00:00.000Z');

function setup(options: ConstructorParameters<typeof FakeGatehouse>[0] = {}) {
  const fake = new FakeGatehouse({ services: sampleServices(NOW), now: () => NOW, ...options });
  return { fake, api: createApiClient(fake) };
}

describe('DiscoveryFeed', () => {
  it('reads the overview, follows the discovery event, and stops listening when told', async () => {
    const { fake, api } = setup({ routes: [sampleRoute({ id: 'pve', names: ['pve.home.arpa'], upstream: 'https://10.33.0.9:8006' })] });
    const feed = new DiscoveryFeed(api);
    const stop = feed.connect();
    await feed.reload();
    assert.equal(feed.overview?.state, 'browsing');
    assert.equal(feed.overview?.services.length, 5);
    assert.deepEqual(feed.overview?.services.find((service) => service.port === 8006)?.routeIds, ['pve'], 'a route to its address and port marks it mapped');

    const [first] = sampleServices(NOW);
    fake.discovery.withdraw(first!.id);
    assert.equal(feed.overview?.services.length, 4, 'a goodbye reaches the page without a reload');
    fake.discovery.announce({ ...first!, id: 'printer.local:631', name: 'Printer' });
    assert.equal(feed.overview?.services[0]?.name, 'Printer', 'a new service comes first');

    stop();
    fake.discovery.withdraw('printer.local:631');
    assert.equal(feed.overview?.services[0]?.name, 'Printer', 'nothing changes once it stopped listening');
    assert.equal(fake.listenerCount, 0);
  });

  it('keeps an event that arrived while a read was under way, and shows a failed read', async () => {
    const { fake, api } = setup();
    let release!: () => void;
    const stale: DiscoveryOverview = { state: 'off', problem: null, serviceTypes: [], services: [], published: [] };
    const slowApi = { ...api, getDiscovery: () => new Promise<DiscoveryOverview>((resolve) => (release = () => resolve(stale))) };
    const feed = new DiscoveryFeed(slowApi);
    feed.connect();
    fake.discovery.changed();
    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(feed.overview?.state, 'browsing', 'the older answer did not overwrite the event');

    fake.failNext('getDiscovery', new ApiError('internal', 'Discovery stopped answering.'));
    const failing = new DiscoveryFeed(api);
    await failing.reload();
    assert.equal(failing.error?.message, 'Discovery stopped answering.');
  });

  it('groups published names by route, and follows lan.mdns: off lists nothing and stops publishing', async () => {
    const routes = [sampleRoute({ id: 'jf', names: ['jellyfin.local', 'jellyfin.home.arpa', 'tv.home.local'], upstream: 'http://10.33.0.4:8096', publishOnLan: true })];
    const { fake, api } = setup({ routes });
    fake.discovery.takenNames.add('tv.home.local');
    const feed = new DiscoveryFeed(api);
    feed.connect();
    await feed.reload();
    const published = feed.publishedByRoute.get('jf') ?? [];
    assert.deepEqual(published.map((entry) => [entry.name, entry.state]), [['jellyfin.local', 'announced'], ['tv.home.local', 'conflict']]);
    assert.equal(published[1]?.suggestion, 'tv.home-2.local');
    assert.equal(published[1]?.warning, multiLabelLocalWarning('tv.home.local'));

    await api.updateSettings({ lan: { mdns: false } });
    assert.equal(feed.overview?.state, 'off');
    assert.deepEqual(feed.overview?.services, []);
    assert.ok((feed.publishedByRoute.get('jf') ?? []).every((entry) => entry.state === 'stopped'));
  });
});

describe('HostProbeForm', () => {
  it('checks the address and ports with the contract’s messages and sends nothing while they are wrong', async () => {
    const { fake, api } = setup();
    const form = new HostProbeForm(api);
    assert.equal(await form.probe(), false);
    assert.equal(form.message('address'), "enter the device's IP address, such as 10.33.0.4");
    form.values.address = 'jellyfin.lan';
    assert.equal(form.message('address'), "enter the device's IP address, such as 10.33.0.4", 'a host name is not an address');
    form.values.address = ' 10.33.0.4 ';
    assert.equal(form.message('address'), null);

    form.values.ports = '8096, 0';
    assert.equal(form.message('ports'), '0: a port is 1 to 65535', 'names the port that is wrong');
    form.values.ports = '8096 web';
    assert.equal(form.message('ports'), 'web: a port is a whole number from 0 to 65535');
    form.values.ports = Array.from({ length: 65 }, (_, index) => 1000 + index).join(' ');
    assert.equal(form.message('ports'), 'probe at most 64 ports at a time');
    assert.equal(await form.probe(), false);
    assert.deepEqual(fake.callsOf('probeHost'), [], 'nothing was sent');
  });

  it('sends the address and ports (none = the usual list), shows the answer, and puts a refusal on its field', async () => {
    const { fake, api } = setup();
    const form = new HostProbeForm(api);
    form.values.address = '10.33.0.4';
    form.values.ports = '8096,8920  22';
    assert.deepEqual(probeInputFrom(form.values), { address: '10.33.0.4', ports: [8096, 8920, 22] });
    assert.equal(await form.probe(), true);
    assert.equal(form.probing, false);
    assert.deepEqual(form.result?.open.map((port) => [port.port, port.scheme, port.identification?.app ?? null]), [
      [22, null, null],
      [8096, 'http', 'Jellyfin'],
      [8920, 'https', 'Jellyfin'],
    ]);

    form.values.ports = '';
    assert.equal(await form.probe(), true);
    assert.deepEqual(fake.callsOf('probeHost').at(-1), { address: '10.33.0.4' });

    fake.failNext('probeHost', new ApiError('invalid_input', 'address: 10.33.0.255 is a broadcast address', { issues: [{ path: 'address', message: '10.33.0.255 is a broadcast address' }] }));
    form.values.address = '10.33.0.255';
    assert.equal(await form.probe(), false);
    assert.equal(form.message('address'), '10.33.0.255 is a broadcast address');
    assert.equal(form.error, null, 'the field says it; the alert does not repeat it');
    assert.equal(form.result, null, 'the old answer is not shown under the new address');

    fake.failNext('probeHost', new ApiError('internal', 'Probing a host is not built yet.'));
    form.values.address = '10.33.0.9';
    assert.equal(await form.probe(), false);
    // (A cast: TypeScript still remembers the `form.error === null` asserted above.)
    assert.equal((form.error as ApiError | null)?.message, 'Probing a host is not built yet.', 'a failure that names no field goes to the alert');
  });
});

describe('route form: Publish on the LAN', () => {
  it('shows the model’s problem on the field when no name ends in .local, and warns about multi-label names', () => {
    const form = new RouteForm();
    form.values.names = 'jellyfin.home.arpa';
    form.values.upstreams[0]!.address = '10.33.0.4:8096';
    form.values.publishOnLan = true;
    form.fieldErrors.touch('publishOnLan');
    assert.equal(form.message('publishOnLan'), publishOnLanProblem({ names: ['jellyfin.home.arpa'], publishOnLan: true }));
    form.values.names = 'jellyfin.home.arpa\nJellyfin.Media.local';
    assert.equal(form.message('publishOnLan'), null, 'a .local name (in any case) is enough');
    assert.deepEqual(form.nameWarnings, [{ name: 'Jellyfin.Media.local', warning: multiLabelLocalWarning('jellyfin.media.local') }]);
  });

  it('an invalid form is not sent; the server’s publishOnLan issue lands on the field', async () => {
    const { api } = setup();
    const form = new RouteForm();
    Object.assign(form.values, { names: 'nas.home.arpa', upstreams: serverRows('10.33.0.5:5000'), publishOnLan: true });
    let calls = 0;
    assert.equal(await form.submit(async (input) => (calls++, api.addRoute(input))), null);
    assert.equal(calls, 0);
    form.values.publishOnLan = false;
    const saved = await form.submit((input) => api.addRoute({ ...input, publishOnLan: true }));
    assert.equal(saved, null, 'the fake refuses it as the gateway does');
    assert.equal(form.message('publishOnLan'), publishOnLanProblem({ names: ['nas.home.arpa'], publishOnLan: true }));
  });

  it('“Use <suggestion>” replaces the conflicting name and keeps the others', () => {
    const form = new RouteForm();
    form.values.names = 'pve.home.arpa\nPVE.local\n';
    assert.equal(form.hasName('pve.local'), true);
    form.replaceName('pve.local', 'pve-2.local');
    assert.equal(form.values.names, 'pve.home.arpa\npve-2.local');
    assert.equal(form.hasName('pve.local'), false);
  });
});

describe('Map it → Add route → Save', () => {
  it('hands the draft to the Add route page once, and saving it sends the route Map it proposed', async () => {
    const { fake, api } = setup();
    const app = new AppState(api);
    const [probe] = (await api.probeHost({ address: '10.33.0.4', ports: [8096] })).open;
    const draft = mapIt({ kind: 'probe', address: '10.33.0.4', port: probe! }, { presets: await api.getPresets(), routes: [] });
    app.offerRouteDraft(draft);
    const taken = app.takeRouteDraft();
    assert.equal(taken, draft);
    assert.equal(app.takeRouteDraft(), null, 'a later visit to Add route starts empty');

    const form = new RouteForm(routeValuesFrom(taken.route));
    const saved = await form.submit((input) => api.addRoute(input));
    assert.ok(saved, `saved (${form.error?.message ?? JSON.stringify(form.fieldErrors)})`);
    const { id: _id, ...stored } = fake.routes[0]!;
    assert.deepEqual(stored, RouteInputSchema.parse(taken.route));
    assert.deepEqual(RouteInputSchema.parse(routeInputFrom(routeValuesFrom(taken.route))), RouteInputSchema.parse(taken.route), 'the form neither loses nor adds anything');
  });
});

describe('Settings: Use multicast DNS on the LAN', () => {
  function general(): GeneralSettings {
    const { routes: _routes, version: _version, ...rest } = defaultSettings();
    return rest;
  }

  it('sends lan.mdns only when it changed, and follows a change made elsewhere', async () => {
    const saved = general();
    const form = new GeneralSettingsForm(saved);
    assert.equal(form.values.mdns, true);
    form.values.mdns = false;
    assert.deepEqual(settingsPatchFrom(form.values, saved), { lan: { mdns: false } });
    const { fake, api } = setup();
    assert.equal(await form.save((patch) => api.updateSettings(patch)), 'saved');
    assert.equal(fake.settings.lan.mdns, false);
    form.follow({ ...fake.settings, lan: { mdns: true } });
    assert.equal(form.values.mdns, true, 'turned on from the Discovery page: the form shows it');
  });
});

describe('discovery words', () => {
  it('says how long ago, in steps a person reads at a glance', () => {
    const now = NOW.getTime();
    const ago = (seconds: number) => timeAgo(new Date(now - seconds * 1000).toISOString(), now);
    assert.equal(ago(3), 'just now');
    assert.equal(ago(-5), 'just now', 'a clock slightly ahead is not "in the future"');
    assert.equal(ago(42), '42 s ago');
    assert.equal(ago(5 * 60 + 20), '5 min ago');
    assert.equal(ago(3 * 3600), '3 h ago');
    assert.equal(ago(26 * 3600), '1 day ago');
    assert.equal(ago(50 * 3600), '2 days ago');
    assert.equal(timeAgo('not a time', now), 'not a time');
  });

  it('counts services for the live region, names service types, and says a published name’s state', () => {
    assert.equal(servicesCountText(0), 'No services found yet');
    assert.equal(servicesCountText(1), '1 service on the LAN');
    assert.equal(servicesCountText(7), '7 services on the LAN');
    assert.equal(serviceTypeLabel('_home-assistant._tcp'), 'home-assistant');
    const base = { routeId: 'r', name: 'nas.local', addresses: ['10.33.0.2'], problem: null, suggestion: null, warning: null };
    assert.equal(publishedStateText({ ...base, state: 'announced' }), 'nas.local: published on the LAN (answers 10.33.0.2)');
    assert.equal(publishedStateText({ ...base, state: 'probing' }), 'nas.local: checking that no other device on the LAN uses it…');
    assert.equal(publishedStateText({ ...base, state: 'conflict', problem: { code: 'c', message: '10.33.0.77 already answers for nas.local' } }), 'nas.local: 10.33.0.77 already answers for nas.local');
    assert.equal(publishedStateText({ ...base, state: 'stopped', problem: { code: 'off', message: 'the proxy is stopped' } }), 'nas.local: not published (the proxy is stopped)');
  });
});
