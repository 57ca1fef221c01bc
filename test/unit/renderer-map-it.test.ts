// "Map it": the route a discovered service or a probed port becomes. The name, the upstream, the
// preset's options, HTTPS from the local CA and publishing on the LAN, each chosen by a rule tested
// here; and the result is a route the shared schema accepts as it stands.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostnameProblem, publishOnLanProblem, RouteInputSchema, type RouteInput } from '../../shared/model.js';
import type { DiscoveredService, Identification, ProbedPort } from '../../shared/status.js';
import { samplePresets } from '../../src-renderer/dev/fake-discovery.js';
import { sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';
import { freeLocalName, mapIt, nameLabel, presetFor, upstreamAddress, upstreamUrl } from '../../src-renderer/discovery/map-it.js';
import { defaultRouteAccess } from '../../shared/access.js';
import { defaultHealthCheck } from '../../shared/upstreams.js';

/** The (first) upstream of a proposed route, whichever form it is written in. */
const upstreamOf = (route: RouteInput): string | undefined => ('upstream' in route ? route.upstream : route.upstreams[0]?.url);

const presets = samplePresets();

function service(fields: Partial<DiscoveredService> = {}): DiscoveredService {
  return {
    id: 'homeassistant.local:8123',
    name: 'Home Assistant',
    types: ['_home-assistant._tcp', '_http._tcp'],
    host: 'homeassistant.local',
    addresses: ['10.33.0.20'],
    port: 8123,
    txt: {},
    firstSeen: '2026-11-21T10:00:00.000Z',
    lastSeen: '2026-11-21T10:05:00.000Z',
    identification: null,
    routeIds: [],
    ...fields,
  };
}

function identification(fields: Partial<Identification> = {}): Identification {
  return { presetId: 'jellyfin', app: 'Jellyfin', scheme: 'http', evidence: ['GET /System/Info/Public: ProductName "Jellyfin Server"'], ...fields };
}

function probed(fields: Partial<ProbedPort> = {}): ProbedPort {
  return { port: 8096, scheme: 'http', identification: identification(), ...fields };
}

describe('nameLabel', () => {
  it('makes a DNS label of an instance name: lower case, accents dropped, one hyphen per gap', () => {
    assert.equal(nameLabel('Living Room TV'), 'living-room-tv');
    assert.equal(nameLabel('Küche – Sonos (2)'), 'kuche-sonos-2');
    assert.equal(nameLabel('  --Brother HL-L2350DW--  '), 'brother-hl-l2350dw');
    assert.equal(nameLabel('日本語'), '', 'nothing usable is left');
  });

  it('keeps a long name short and never ends it on a hyphen', () => {
    const label = nameLabel('A very long instance name that somebody typed into their NAS settings page');
    assert.ok(label.length <= 40, label);
    assert.ok(!label.endsWith('-'), label);
    assert.equal(hostnameProblem(`${label}.local`), null);
  });
});

describe('freeLocalName', () => {
  it('adds -2, -3… while a route already has the name, whatever its case', () => {
    assert.equal(freeLocalName('jellyfin', []), 'jellyfin.local');
    const routes = [sampleRoute({ id: 'a', names: ['jellyfin.local'], upstream: 'http://10.0.0.1:1' }), sampleRoute({ id: 'b', names: ['JELLYFIN-2.local', 'x.home.arpa'], upstream: 'http://10.0.0.1:2' })];
    assert.equal(freeLocalName('jellyfin', routes), 'jellyfin-3.local');
    assert.equal(freeLocalName('grafana', routes), 'grafana.local');
  });
});

describe('upstream address', () => {
  it('prefers a routable IPv4 address, then any IPv4, then a routable IPv6; never a link-local IPv6', () => {
    assert.equal(upstreamAddress(['fe80::1', '2001:db8::4', '10.33.0.4']), '10.33.0.4');
    assert.equal(upstreamAddress(['169.254.10.2', '10.33.0.4']), '10.33.0.4');
    assert.equal(upstreamAddress(['169.254.10.2', '2001:db8::4']), '169.254.10.2');
    assert.equal(upstreamAddress(['fe80::1', '2001:db8::4']), '2001:db8::4');
    assert.equal(upstreamAddress(['fe80::1']), null, 'a link-local address needs a zone a URL cannot carry');
  });

  it('writes IPv6 in brackets', () => {
    assert.equal(upstreamUrl('http', '10.33.0.4', 8096), 'http://10.33.0.4:8096');
    assert.equal(upstreamUrl('https', '2001:db8::4', 8920), 'https://[2001:db8::4]:8920');
  });
});

describe('mapIt', () => {
  it('a probed Jellyfin: the preset’s name and options, its scheme, HTTPS from the local CA, published on the LAN', () => {
    const draft = mapIt({ kind: 'probe', address: '10.33.0.4', port: probed() }, { presets, routes: [] });
    const jellyfin = presets.find((preset) => preset.id === 'jellyfin')!;
    assert.deepEqual(draft.route, {
      title: 'Jellyfin',
      names: ['jellyfin.local'],
      upstream: 'http://10.33.0.4:8096',
      healthCheck: defaultHealthCheck(),
      enabled: true,
      websocket: jellyfin.websocket,
      insecureUpstreamTls: false,
      rewriteHost: null,
      trustedProxies: null,
      tls: { mode: 'local', certificateId: null, redirectHttp: false, hsts: false },
      publishOnLan: true,
      app: 'jellyfin',
      access: defaultRouteAccess(),
    });
    assert.equal(draft.origin, 'Jellyfin at 10.33.0.4:8096');
    assert.deepEqual(draft.evidence, ['GET /System/Info/Public: ProductName "Jellyfin Server"']);
    assert.ok(draft.notes.some((note) => note.includes('large uploads')), 'the preset’s advice is passed on');
    assert.equal(draft.back, '/discovery');
    const parsed = RouteInputSchema.safeParse(draft.route);
    assert.ok(parsed.success, 'the shared schema accepts the route as it stands');
    assert.equal(publishOnLanProblem(parsed.data), null);
  });

  it('an identified service over HTTPS takes the identification’s scheme and the preset’s self-signed setting', () => {
    const pve = service({ name: 'pve web interface', types: ['_https._tcp'], host: 'pve.local', addresses: ['10.33.0.9'], port: 8006, identification: identification({ presetId: 'proxmox-ve', app: 'Proxmox VE', scheme: 'https' }) });
    const { route } = mapIt({ kind: 'service', service: pve }, { presets, routes: [] });
    assert.equal(route.title, 'Proxmox VE');
    assert.deepEqual(route.names, ['pve.local']);
    assert.equal(upstreamOf(route), 'https://10.33.0.9:8006');
    assert.equal(route.insecureUpstreamTls, true);
  });

  it('an unidentified service: its instance name as title and name, http unless announced as _https._tcp', () => {
    const tv = service({ name: 'Living Room TV', types: ['_googlecast._tcp'], addresses: ['fe80::1', '10.33.0.31'], port: 8009 });
    const plain = mapIt({ kind: 'service', service: tv }, { presets, routes: [] });
    assert.equal(plain.route.title, 'Living Room TV');
    assert.deepEqual(plain.route.names, ['living-room-tv.local']);
    assert.equal(upstreamOf(plain.route), 'http://10.33.0.31:8009');
    assert.equal(plain.route.websocket, true, 'the form’s default without a preset');
    assert.equal(plain.route.insecureUpstreamTls, false);
    assert.deepEqual(plain.evidence, []);
    assert.equal(plain.origin, 'Living Room TV at 10.33.0.31:8009');

    const secure = mapIt({ kind: 'service', service: { ...tv, types: ['_https._tcp'] } }, { presets, routes: [] });
    assert.equal(upstreamOf(secure.route), 'https://10.33.0.31:8009');
    assert.equal(secure.route.insecureUpstreamTls, true, 'a LAN HTTPS service without a preset is accepted unchecked');
  });

  it('a page title without a preset names the route from the instance, and a name already used gets -2', () => {
    const nas = service({ name: 'DiskStation', addresses: ['10.33.0.5'], port: 5000, identification: identification({ presetId: null, app: 'Synology DiskStation', scheme: 'http' }) });
    const routes = [sampleRoute({ id: 'r', names: ['diskstation.local'], upstream: 'http://10.33.0.6:5000' })];
    const { route } = mapIt({ kind: 'service', service: nas }, { presets, routes });
    assert.equal(route.title, 'DiskStation');
    assert.deepEqual(route.names, ['diskstation-2.local']);
  });

  it('a name a device on the LAN already holds is not proposed: it would only end in a conflict', () => {
    const ha = service({ name: 'Home', host: 'homeassistant.local', addresses: ['10.33.0.20'], port: 8123, identification: identification({ presetId: 'home-assistant', app: 'Home Assistant', scheme: 'http' }) });
    const { route } = mapIt({ kind: 'service', service: ha }, { presets, routes: [], lanHosts: ['homeassistant.local.', 'nas.local'] });
    assert.deepEqual(route.names, ['homeassistant-2.local']);
    const elsewhere = mapIt({ kind: 'service', service: ha }, { presets, routes: [], lanHosts: ['nas.local'] });
    assert.deepEqual(elsewhere.route.names, ['homeassistant.local']);
  });

  it('a preset the list does not have (presets not loaded): the identification’s app name instead', () => {
    const draft = mapIt({ kind: 'probe', address: '10.33.0.4', port: probed() }, { presets: [], routes: [] });
    assert.equal(presetFor(identification(), []), null);
    assert.equal(draft.route.title, 'Jellyfin');
    assert.deepEqual(draft.route.names, ['jellyfin.local']);
    assert.deepEqual(draft.notes, []);
  });

  it('a probed port nothing recognised: service-<port>.local, the scheme it answered with', () => {
    const { route, origin } = mapIt({ kind: 'probe', address: '2001:db8::4', port: probed({ port: 9443, scheme: 'https', identification: null }) }, { presets, routes: [] });
    assert.equal(route.title, undefined, 'no title: the form shows the name');
    assert.deepEqual(route.names, ['service-9443.local']);
    assert.equal(upstreamOf(route), 'https://[2001:db8::4]:9443');
    assert.equal(origin, 'the service at [2001:db8::4]:9443');
    assert.ok(RouteInputSchema.safeParse(route).success);
  });

  it('a service known only by link-local IPv6 addresses is reached by its host name', () => {
    const { route } = mapIt({ kind: 'service', service: service({ addresses: ['fe80::1'] }) }, { presets, routes: [] });
    assert.equal(upstreamOf(route), 'http://homeassistant.local:8123');
  });
});
