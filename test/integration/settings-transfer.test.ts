// Export, preview and import in the gateway: a preview names exactly what would change; a file that
// cannot be used is refused naming the field and leaves settings.json byte for byte as it was; an
// import keeps the previous file, replaces everything, and applies it like a settings change.
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ApiEvent } from '../../shared/api.js';
import { SETTINGS_VERSION, type Route, type Settings } from '../../shared/model.js';
import type { SettingsExport } from '../../shared/status.js';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { call, rejectsWith, settingsFile } from '../helpers/gateway-calls.js';
import { freePort } from '../helpers/ports.js';
import { makeDataDir } from '../helpers/serve.js';
import { requestThrough, startEchoUpstream, type Upstream } from '../helpers/upstream.js';

const settingsText = (dataDir: string) => readFile(join(dataDir, 'settings.json'), 'utf8');

describe('settings export, preview and import', () => {
  let dataDir: string;
  let gateway: Gateway;
  let upstream: Upstream;
  let routes: Route[];
  const events: ApiEvent[] = [];

  before(async () => {
    upstream = await startEchoUpstream('transfer');
    dataDir = await makeDataDir();
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    await gateway.startup();
    gateway.subscribe((event) => events.push(event));
    routes = [];
    for (const name of ['one', 'two', 'three']) {
      routes.push(await call(gateway, 'addRoute', { title: name, names: [`${name}.test`], upstream: upstream.address }));
    }
  });

  after(async () => {
    await gateway?.close();
    await upstream?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('the export is the whole file, with its format, time and version', async () => {
    const exported = await call(gateway, 'exportSettings');
    assert.equal(exported.format, 'gatehouse-settings');
    assert.ok(Math.abs(Date.parse(exported.exportedAt) - Date.now()) < 60_000);
    assert.match(exported.appVersion, /^\d+\.\d+\.\d+/);
    assert.deepEqual(exported.settings, await settingsFile(dataDir));
    assert.equal(exported.settings.version, SETTINGS_VERSION);
  });

  test('a preview lists added, removed and changed routes by id, and each changed setting by path', async () => {
    const exported = await call(gateway, 'exportSettings');
    const [one, two, three] = routes as [Route, Route, Route];
    const document: SettingsExport = structuredClone(exported);
    document.settings.routes = [
      one,
      { ...two, names: ['two.test', 'deux.test'], websocket: false },
      { ...three, id: 'fourfourfo', title: 'four', names: ['four.test'] },
    ];
    document.settings.proxy.httpPort = 8080;
    document.settings.proxy.trustedProxies = ['10.33.0.1'];
    document.settings.log.keepFiles = 3;
    const before = await settingsText(dataDir);

    const preview = await call(gateway, 'previewImport', { document });
    assert.deepEqual(preview.routes.added.map((route) => route.id), ['fourfourfo']);
    assert.deepEqual(preview.routes.removed.map((route) => route.id), [three.id]);
    assert.deepEqual(preview.routes.changed.map(({ before, after }) => [before.id, before.names, after.names]), [[two.id, ['two.test'], ['two.test', 'deux.test']]]);
    assert.equal(preview.routes.unchanged, 1);
    assert.deepEqual(preview.settings, [
      { path: 'proxy.httpPort', before: 80, after: 8080 },
      { path: 'proxy.trustedProxies', before: [], after: ['10.33.0.1'] },
      { path: 'log.keepFiles', before: 5, after: 3 },
      { path: 'app.onboarded', before: false, after: true },
    ]);
    assert.equal(preview.fileVersion, SETTINGS_VERSION);
    assert.equal(preview.exportedAt, exported.exportedAt);
    assert.equal(await settingsText(dataDir), before, 'a preview changes nothing');
  });

  test('a broken file is refused naming the field, and settings.json stays byte for byte the same', async () => {
    const exported = await call(gateway, 'exportSettings');
    const badRoute = structuredClone(exported);
    badRoute.settings.routes[1]!.upstreams[0]!.url = '10.33.0.4';
    // A stored id follows the API's rule, so every imported route can be fetched and deleted.
    const longId = structuredClone(exported);
    longId.settings.routes[2]!.id = 'x'.repeat(101);
    const cases: { document: unknown; path: string; message: RegExp }[] = [
      { document: [1, 2], path: '', message: /a Gatehouse settings file \(a JSON object\), found a list/ },
      { document: { hello: 'world' }, path: '', message: /not a Gatehouse settings file/ },
      { document: { ...exported, format: 'nginx-proxy-manager' }, path: 'format', message: /expected "gatehouse-settings"/ },
      { document: { ...exported, settings: 'oops' }, path: 'settings', message: /found a string/ },
      { document: { ...exported, settings: { ...exported.settings, version: SETTINGS_VERSION + 1 } }, path: 'settings.version', message: /newer Gatehouse.*update Gatehouse/ },
      { document: badRoute, path: 'settings.routes.1.upstreams.0.url', message: /has no port/ },
      { document: longId, path: 'settings.routes.2.id', message: /a route id has at most 100 characters/ },
      { document: { ...exported.settings, proxy: { ...exported.settings.proxy, httpPort: 'eighty' } }, path: 'proxy.httpPort', message: /a port is a whole number/ },
    ];
    const before = await settingsText(dataDir);
    const filesBefore = await readdir(dataDir);
    for (const { document, path, message } of cases) {
      for (const member of ['previewImport', 'importSettings'] as const) {
        const error = await rejectsWith(call(gateway, member, { document } as never), 'invalid_input');
        assert.equal(error.details.issues?.[0]?.path, path, `${member} of ${JSON.stringify(document).slice(0, 60)}`);
        assert.match(error.message, message);
        assert.match(error.message, /^This file cannot be imported, and nothing was changed: /);
      }
    }
    assert.equal(await settingsText(dataDir), before);
    assert.deepEqual(await readdir(dataDir), filesBefore, 'no copy was kept for a refused import');
  });

  test('an import keeps the old file, replaces everything, applies it, and announces it', async () => {
    const previous = await settingsText(dataDir);
    const exported = await call(gateway, 'exportSettings');
    const document = structuredClone(exported);
    const added = { ...routes[0]!, id: 'importedaa', title: 'Imported', names: ['imported.test'] };
    document.settings.routes = [added];
    document.settings.log.keepFiles = 7;
    const seen = events.length;

    const result = await call(gateway, 'importSettings', { document });
    assert.deepEqual(result.routes, [added]);
    assert.equal(result.settings.log.keepFiles, 7);
    assert.equal(result.settings.app.onboarded, true, 'importing counts as having set Gatehouse up');
    const saved = await settingsFile(dataDir);
    assert.deepEqual(saved.routes, [added]);
    assert.equal(saved.log.keepFiles, 7);

    const copies = (await readdir(dataDir)).filter((name) => /^settings\.before-import-\d{4}-\d\d-\d\dT\d{6}\.\d{3}Z\.json$/.test(name));
    assert.equal(copies.length, 1, `files: ${(await readdir(dataDir)).join(', ')}`);
    assert.equal(await readFile(join(dataDir, copies[0]!), 'utf8'), previous, 'the file as it was before the import');

    const port = (await call(gateway, 'getStatus')).http!.port;
    assert.equal((await requestThrough(port, 'imported.test')).status, 200, 'the new route answers at once');
    assert.equal((await requestThrough(port, 'one.test')).status, 404, 'the old ones are gone');

    const types = events.slice(seen).map((event) => event.type);
    for (const type of ['routes', 'settings', 'status'] as const) assert.ok(types.includes(type), `a ${type} event (got ${types.join(', ')})`);
    const status = events.slice(seen).findLast((event) => event.type === 'status');
    assert.equal(status?.type === 'status' && status.data.routeCount, 1);
  });

  test('a bare settings.json from version 1 is migrated on import', async () => {
    const v1 = JSON.parse(await readFile(new URL('../fixtures/settings/v1-before-app.json', import.meta.url), 'utf8')) as Settings;
    const preview = await call(gateway, 'previewImport', { document: v1 });
    assert.equal(preview.fileVersion, 1);
    assert.equal(preview.exportedAt, null);
    const { settings, routes: imported } = await call(gateway, 'importSettings', { document: v1 });
    assert.deepEqual(settings.app, { startAtLogin: false, onboarded: true });
    assert.deepEqual(imported.map((route) => [route.id, route.trustedProxies]), [['jellyfin', null]]);
    assert.equal((await settingsFile(dataDir)).version, SETTINGS_VERSION);
  });
});

describe('an import that changes the proxy port', () => {
  let blocker: Server;

  before(async () => {
    blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
  });
  after(() => blocker?.close());

  test('moves a running listener; a port that is taken is port_unavailable saying the import was saved', async () => {
    const dataDir = await makeDataDir();
    const gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    try {
      await gateway.startup();
      // Setting the port replaces the --http-port override, so the file's port is the one in use.
      await call(gateway, 'updateSettings', { proxy: { httpPort: await freePort() } });
      const document = await call(gateway, 'exportSettings');
      const moved = await freePort();
      document.settings.proxy.httpPort = moved;
      await call(gateway, 'importSettings', { document });
      const status = await call(gateway, 'getStatus');
      assert.equal(status.state, 'running');
      assert.equal(status.http?.port, moved);

      const taken = (blocker.address() as { port: number }).port;
      document.settings.proxy.httpPort = taken;
      const error = await rejectsWith(call(gateway, 'importSettings', { document }), 'port_unavailable');
      assert.match(error.message, new RegExp(`^The import was saved, but the proxy cannot listen on 127\\.0\\.0\\.1:${taken}`));
      assert.match(error.details.fix ?? '', /ss -ltnp/);
      assert.equal((await settingsFile(dataDir)).proxy.httpPort, taken);
      assert.equal((await call(gateway, 'getStatus')).state, 'failed');
    } finally {
      await gateway.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('an import into settings written by a newer Gatehouse', () => {
  test('is refused as a conflict before anything, the before-import copy included, is written', async () => {
    const dataDir = await makeDataDir();
    const source = await createGateway({ dataDir });
    const exported = await call(source, 'exportSettings');
    await source.close();

    const newer = JSON.stringify({ ...exported.settings, version: SETTINGS_VERSION + 1 }, null, 2);
    await writeFile(join(dataDir, 'settings.json'), newer);
    const gateway = await createGateway({ dataDir });
    try {
      const error = await rejectsWith(call(gateway, 'importSettings', { document: exported }), 'conflict');
      assert.match(error.message, /newer/);
      assert.equal(await settingsText(dataDir), newer, 'settings.json is untouched');
      const copies = (await readdir(dataDir)).filter((name) => name.startsWith('settings.before-import-'));
      assert.deepEqual(copies, [], 'no before-import copy is left behind');
    } finally {
      await gateway.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
