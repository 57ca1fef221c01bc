// "Map it" on something a route already forwards to: the page says which route ("Jellyfin already
// has a route: jellyfin.local") instead of proposing a second one, for a discovered service (its
// routeIds) and for a probed port (a route whose upstream is that address and port).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DiscoveredService, ProbedPort } from '../../shared/status.js';
import { sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';
import { alreadyMappedText, existingRoutes, type MapItSource } from '../../src-renderer/discovery/map-it.js';

const jellyfin = sampleRoute({ id: 'r-jf', title: 'Jellyfin', names: ['jellyfin.local', 'media.local'], upstream: 'http://10.33.0.4:8096' });
const nas = sampleRoute({ id: 'r-nas', names: ['nas.local'], upstream: 'https://10.33.0.9:443' });
const v6 = sampleRoute({ id: 'r-v6', names: ['v6.local'], upstream: 'http://[fd00::4]:8096' });
const routes = [jellyfin, nas, v6];

function service(fields: Partial<DiscoveredService>): DiscoveredService {
  return {
    id: 'jellyfin.local:8096',
    name: 'jellyfin-box',
    types: ['_http._tcp'],
    host: 'jellyfin-box.local',
    addresses: ['10.33.0.4'],
    port: 8096,
    txt: {},
    firstSeen: '2026-11-21T10:00:00.000Z',
    lastSeen: '2026-11-21T10:05:00.000Z',
    identification: { presetId: 'jellyfin', app: 'Jellyfin', scheme: 'http', evidence: [] },
    routeIds: [],
    ...fields,
  };
}

const probe = (address: string, port: number, app: string | null = null): MapItSource => ({
  kind: 'probe',
  address,
  port: { port, scheme: 'http', identification: app ? { presetId: app === 'Jellyfin' ? 'jellyfin' : null, app, scheme: 'http', evidence: [] } : null } satisfies ProbedPort,
});

describe('existingRoutes and alreadyMappedText', () => {
  it('a discovered service with a route: that route, said with the app and the route\'s first name', () => {
    const source: MapItSource = { kind: 'service', service: service({ routeIds: ['r-jf'] }) };
    assert.deepEqual(existingRoutes(source, routes), [jellyfin]);
    assert.equal(alreadyMappedText(source, existingRoutes(source, routes)), 'Jellyfin already has a route: jellyfin.local');
  });

  it('a service without routes gets none, and no text (Map it stays)', () => {
    const source: MapItSource = { kind: 'service', service: service({ routeIds: [] }) };
    assert.deepEqual(existingRoutes(source, routes), []);
    assert.equal(alreadyMappedText(source, []), null);
  });

  it('a service two routes point at names both', () => {
    const source: MapItSource = { kind: 'service', service: service({ routeIds: ['r-jf', 'r-nas'], identification: null, name: 'Living Room NAS' }) };
    assert.equal(alreadyMappedText(source, existingRoutes(source, routes)), 'Living Room NAS already has 2 routes: jellyfin.local, nas.local');
  });

  it('a probed port matches routes by upstream address and port, the scheme\'s default port included', () => {
    assert.deepEqual(existingRoutes(probe('10.33.0.4', 8096, 'Jellyfin'), routes), [jellyfin]);
    assert.equal(alreadyMappedText(probe('10.33.0.4', 8096, 'Jellyfin'), [jellyfin]), 'Jellyfin (port 8096) already has a route: jellyfin.local');
    assert.equal(alreadyMappedText(probe('10.33.0.4', 8096, 'Web service (HTTP 200)'), [jellyfin]), 'Port 8096 already has a route: jellyfin.local', 'an unrecognised page names no app');
    assert.deepEqual(existingRoutes(probe('10.33.0.9', 443), routes), [nas]);
    assert.equal(alreadyMappedText(probe('10.33.0.9', 443), [nas]), 'Port 443 already has a route: nas.local');
    assert.deepEqual(existingRoutes(probe('FD00::4', 8096), routes), [v6], 'IPv6, any case');
    assert.deepEqual(existingRoutes(probe('10.33.0.4', 8920), routes), [], 'another port of the same host');
    assert.deepEqual(existingRoutes(probe('10.33.0.5', 8096), routes), [], 'another host');
  });
});
