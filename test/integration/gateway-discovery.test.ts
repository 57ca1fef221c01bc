// Discovery through the gateway on the host network, where mDNS must stay off: GATEHOUSE_MDNS=off
// (the test runner sets it) forces it off, says why, and opens no mDNS socket at all; the
// publishOnLan rule is enforced on every way a route gets in; and `gatehouse serve` carries the
// discovery members over HTTP.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { ApiErrorBody } from '../../shared/api.js';
import type { AppPreset, DiscoveryOverview } from '../../shared/status.js';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { call, rejectsWith, settingsFile } from '../helpers/gateway-calls.js';
import { makeDataDir, startServe, type ServeProcess } from '../helpers/serve.js';

const json = (body: unknown): RequestInit => ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

/** Inodes of this process's UDP sockets bound to port 5353 (mDNS), from /proc. */
function ownMdnsSockets(): string[] {
  const own = new Set(
    readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        return [/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1] ?? ''];
      } catch {
        return [];
      }
    }),
  );
  const bound = readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[1]?.endsWith(':14E9'))
    .map((fields) => fields[9]!);
  return bound.filter((inode) => own.has(inode));
}

describe('discovery with GATEHOUSE_MDNS=off (the host network)', () => {
  let dataDir: string;
  let gateway: Gateway;

  before(async () => {
    assert.equal(process.env.GATEHOUSE_MDNS, 'off', 'the test runner turns mDNS off for every test on the host network');
    dataDir = await makeDataDir();
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
  });
  after(async () => {
    await gateway?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('the state is off with the reason, names are stopped, and no mDNS socket is open', async () => {
    const route = await call(gateway, 'addRoute', { names: ['jellyfin.local', 'media.home.local'], upstream: 'http://10.33.0.4:8096', publishOnLan: true });
    await call(gateway, 'startProxy');
    const overview = await call(gateway, 'getDiscovery');
    assert.equal(overview.state, 'off');
    assert.equal(overview.problem?.code, 'mdns_off_for_run');
    assert.match(overview.problem?.message ?? '', /GATEHOUSE_MDNS=off/);
    assert.deepEqual(overview.services, []);
    assert.ok(overview.serviceTypes.includes('_http._tcp'));
    assert.deepEqual(
      overview.published.map((name) => [name.routeId, name.name, name.state, name.problem?.code]),
      [
        [route.id, 'jellyfin.local', 'stopped', 'mdns_off_for_run'],
        [route.id, 'media.home.local', 'stopped', 'mdns_off_for_run'],
      ],
    );
    assert.equal(overview.published[0]!.warning, null);
    assert.match(overview.published[1]!.warning ?? '', /more than one label/);
    assert.deepEqual(ownMdnsSockets(), [], 'nothing listens on (or sends from) UDP 5353');

    // The setting cannot turn it on against the environment.
    await call(gateway, 'updateSettings', { lan: { mdns: true } });
    assert.equal((await call(gateway, 'getDiscovery')).state, 'off');
    assert.deepEqual(ownMdnsSockets(), []);
    await call(gateway, 'stopProxy');
  });

  test('publishOnLan without a .local name is refused on add, update, import and its preview', async () => {
    const before = await settingsFile(dataDir);
    const added = await rejectsWith(call(gateway, 'addRoute', { names: ['jellyfin.home.arpa'], upstream: 'http://10.33.0.4:8096', publishOnLan: true }), 'invalid_input');
    assert.deepEqual(added.details.issues?.map((issue) => issue.path), ['publishOnLan']);
    assert.match(added.message, /names ending in \.local/);

    const wildcardOnly = await rejectsWith(call(gateway, 'addRoute', { names: ['*.lab.local'], upstream: 'http://10.33.0.4:8096', publishOnLan: true }), 'invalid_input');
    assert.deepEqual(wildcardOnly.details.issues?.map((issue) => issue.path), ['publishOnLan'], 'a wildcard is not published');

    const route = await call(gateway, 'addRoute', { names: ['grafana.home.arpa'], upstream: 'http://10.33.0.5:3000' });
    const updated = await rejectsWith(call(gateway, 'updateRoute', { id: route.id, names: ['grafana.home.arpa'], upstream: 'http://10.33.0.5:3000', publishOnLan: true }), 'invalid_input');
    assert.deepEqual(updated.details.issues?.map((issue) => issue.path), ['publishOnLan']);

    const file = await call(gateway, 'exportSettings');
    file.settings.routes = [{ ...file.settings.routes.at(-1)!, publishOnLan: true }];
    for (const member of ['previewImport', 'importSettings'] as const) {
      const refused = await rejectsWith(call(gateway, member, { document: file }), 'invalid_input');
      assert.deepEqual(refused.details.issues?.map((issue) => issue.path), ['settings.routes.0.publishOnLan'], member);
      assert.match(refused.message, /nothing was changed/);
    }
    const after = await settingsFile(dataDir);
    assert.deepEqual(after.routes.map((saved) => saved.id), [...before.routes.map((saved) => saved.id), route.id], 'only the valid route was added');
  });
});

describe('discovery over the headless HTTP API', () => {
  let serve: ServeProcess;
  before(async () => {
    serve = await startServe();
  });
  after(async () => {
    await serve?.stop();
  });

  async function errorOf(response: Response, status: number): Promise<ApiErrorBody['error']> {
    assert.equal(response.status, status);
    return ((await response.json()) as ApiErrorBody).error;
  }

  test('GET /api/discovery, GET /api/discovery/presets and POST /api/discovery/probe are served', async () => {
    const overview = (await (await serve.api('/api/discovery')).json()) as DiscoveryOverview;
    assert.equal(overview.state, 'off', 'the runner set GATEHOUSE_MDNS=off for serve too');
    assert.equal(overview.problem?.code, 'mdns_off_for_run');
    const presets = await serve.api('/api/discovery/presets');
    assert.equal(presets.status, 200);
    assert.ok(Array.isArray((await presets.json()) as AppPreset[]));
    const badAddress = await errorOf(await serve.api('/api/discovery/probe', { method: 'POST', ...json({ address: 'jellyfin' }) }), 400);
    assert.deepEqual(badAddress.issues?.map((issue) => issue.path), ['address']);
    const route = await errorOf(await serve.api('/api/routes', { method: 'POST', ...json({ names: ['nas.home.arpa'], upstream: '10.33.0.6:5000', publishOnLan: true }) }), 400);
    assert.equal(route.code, 'invalid_input');
    assert.deepEqual(route.issues?.map((issue) => issue.path), ['publishOnLan']);
  });
});
