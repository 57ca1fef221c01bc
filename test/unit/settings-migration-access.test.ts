// Settings version 5 → 6 (who may reach each route): a file written before Gatehouse had access
// rules keeps every route open to anyone, exactly as it was (an update never cuts a service off),
// with the protections that refuse nothing a person sends turned on; the file gains the empty
// access section and is written back in the new format, the old one kept as the backup. A route
// made after the upgrade is open to this network only.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultAccessSettings, defaultRouteAccess } from '../../shared/access.js';
import { RouteSchema, SETTINGS_VERSION, defaultSettings } from '../../shared/model.js';
import { decodeSettings } from '../../src-main/core/settings/decode.js';
import { SettingsStore } from '../../src-main/core/settings/index.js';
import { tempDataDir } from '../fixtures/settings/helpers.js';

/** A settings file as Gatehouse wrote it at version 5: no access anywhere. */
function version5File() {
  const { access: _access, ...current } = defaultSettings();
  const { trustedFronts: _fronts, proxyProtocolFrom: _proxyProtocol, ...proxy } = current.proxy;
  const v5Route = (id: string, name: string) => ({
    id,
    names: [name],
    upstream: 'http://10.33.0.4:8096',
    enabled: true,
    websocket: true,
    insecureUpstreamTls: false,
    rewriteHost: null,
    trustedProxies: null,
    tls: { mode: 'none', certificateId: null, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const },
    publishOnLan: false,
    app: null,
  });
  return { ...current, version: 5, proxy, routes: [v5Route('jf', 'jellyfin.home.arpa'), v5Route('ha', 'ha.home.arpa')] };
}

test('version 5 routes become open to anyone, every other access field at its default; the file gets the access defaults', () => {
  assert.ok(SETTINGS_VERSION >= 6);
  const decoded = decodeSettings(JSON.stringify(version5File()));
  assert.equal(decoded.kind, 'usable');
  if (decoded.kind !== 'usable') return;
  assert.equal(decoded.migratedFrom, 5);
  const { settings } = decoded;
  assert.equal(settings.version, SETTINGS_VERSION);
  for (const route of settings.routes) {
    assert.deepEqual(route.access, { ...defaultRouteAccess(), exposure: 'anyone' }, route.id);
    assert.equal(route.access.blockScanners, true, 'scanner probes are refused for old routes too');
    assert.deepEqual(route.access.countries, { mode: 'off', countries: [] });
    assert.deepEqual(route.access.signIn, { method: 'none' });
  }
  assert.deepEqual(settings.access, defaultAccessSettings());
  assert.deepEqual(settings.proxy.trustedFronts, []);
  assert.deepEqual(settings.proxy.proxyProtocolFrom, []);
  // A route added after the upgrade gets the new default.
  assert.equal(RouteSchema.parse({ id: 'new', names: ['new.home.arpa'], upstream: 'http://10.33.0.5:80' }).access.exposure, 'lan');
});

test('a version 5 file that already has access settings (written by hand) keeps them', () => {
  const file = version5File();
  const handWritten = { ...file, routes: [{ ...file.routes[0], access: { ...defaultRouteAccess(), exposure: 'lan' } }, file.routes[1]] };
  const decoded = decodeSettings(JSON.stringify(handWritten));
  assert.equal(decoded.kind, 'usable');
  if (decoded.kind !== 'usable') return;
  assert.deepEqual(
    decoded.settings.routes.map((route) => [route.id, route.access.exposure]),
    [
      ['jf', 'lan'],
      ['ha', 'anyone'],
    ],
  );
});

test('opening a version 5 data directory writes the file back at the current version, with the old file as the backup', async (t) => {
  const dataDir = await tempDataDir(t);
  const path = join(dataDir, 'settings.json');
  const original = JSON.stringify(version5File(), null, 2);
  await writeFile(path, original, { mode: 0o600 });
  const store = await SettingsStore.open(dataDir);
  assert.equal(store.notice, null);
  const onDisk = JSON.parse(await readFile(path, 'utf8')) as ReturnType<typeof defaultSettings>;
  assert.equal(onDisk.version, SETTINGS_VERSION);
  assert.deepEqual(onDisk.access, defaultAccessSettings());
  assert.deepEqual(
    onDisk.routes.map((route) => [route.id, route.access.exposure]),
    [
      ['jf', 'anyone'],
      ['ha', 'anyone'],
    ],
  );
  assert.deepEqual(store.current, onDisk);
  assert.equal(await readFile(`${path}.bak`, 'utf8'), original, 'the version 5 file is kept as settings.json.bak');
});
