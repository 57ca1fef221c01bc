// What the settings store does with a file it cannot use as it is: an older format, a newer one,
// broken JSON, or values the schema rejects. The user's file must never be lost or overwritten.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { SETTINGS_VERSION, defaultSettings } from '../../shared/model.js';
import { NEWER_VERSION_CODE, SettingsReadOnlyError, SettingsStore, UNREADABLE_CODE } from '../../src-main/core/settings/index.js';
import { numberedRoute, tempDataDir } from '../fixtures/settings/helpers.js';

const FIXTURES = new URL('../fixtures/settings/', import.meta.url);
const UNREADABLE_NAME = /^settings\.json\.unreadable-(\d{4}-\d{2}-\d{2}T\d{6}\.\d{3}Z)$/;

/** A data directory whose settings.json has httpPort 8081 and whose .bak (the state before) has 8080. */
async function dataDirWithBackup(t: Parameters<typeof tempDataDir>[0]): Promise<string> {
  const dataDir = await tempDataDir(t);
  const store = await SettingsStore.open(dataDir);
  await store.update((draft) => void (draft.proxy.httpPort = 8080));
  await store.update((draft) => void (draft.proxy.httpPort = 8081));
  return dataDir;
}

/** The one kept-aside file in `dataDir`, checked to be named for a time within [from, to]. */
async function keptAsideFile(dataDir: string, from: Date, to: Date): Promise<string> {
  const kept = (await readdir(dataDir)).filter((name) => name.startsWith('settings.json.unreadable-'));
  assert.equal(kept.length, 1, `expected one kept-aside file, found ${kept.join(', ')}`);
  const name = kept[0] ?? '';
  const stamp = UNREADABLE_NAME.exec(name)?.[1];
  assert.ok(stamp, `${name} is not settings.json.unreadable-<ISO time without colons>`);
  const at = new Date(stamp.replace(/T(\d\d)(\d\d)(\d\d)/, 'T$1:$2:$3'));
  assert.ok(at >= new Date(from.getTime() - 1) && at <= to, `${stamp} is not the time of the open`);
  return join(dataDir, name);
}

test('a pre-release file without a version is migrated, written back, and the original kept as .bak', async (t) => {
  const dataDir = await tempDataDir(t);
  const path = join(dataDir, 'settings.json');
  await copyFile(new URL('v0-pre-release.json', FIXTURES), path);
  const original = await readFile(path, 'utf8');

  const store = await SettingsStore.open(dataDir);
  assert.equal(store.notice, null);
  assert.equal(store.current.version, SETTINGS_VERSION);
  assert.equal(store.current.proxy.httpPort, 8080);
  assert.equal(store.current.proxy.timeouts.headersMs, 20_000);
  assert.deepEqual(store.current.admin, defaultSettings().admin, 'a section the old file lacked');
  assert.deepEqual(
    store.current.routes.map((route) => [route.id, route.upstreams[0]?.url, route.insecureUpstreamTls]),
    [
      ['jellyfin', 'http://10.33.0.4:8096', false],
      ['proxmox', 'https://10.33.0.9:8006', true],
    ],
  );
  assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), store.current, 'the upgraded form is on disk');
  assert.equal(await readFile(`${path}.bak`, 'utf8'), original, 'the old format survives as the backup');
});

test('a version 1 file gains the app section (first-run guide done) and HTTP-only routes, is written as the current version, and is kept as .bak', async (t) => {
  const dataDir = await tempDataDir(t);
  const path = join(dataDir, 'settings.json');
  await copyFile(new URL('v1-before-app.json', FIXTURES), path);
  const original = await readFile(path, 'utf8');

  const store = await SettingsStore.open(dataDir);
  assert.equal(store.notice, null);
  assert.equal(store.current.version, SETTINGS_VERSION);
  assert.deepEqual(store.current.app, { startAtLogin: false, onboarded: true }, 'someone who used version 1 has been through the app');
  assert.equal(store.current.proxy.httpPort, 8080, 'everything else is as it was');
  assert.deepEqual(store.current.proxy.trustedProxies, ['10.33.0.1']);
  assert.deepEqual(
    store.current.routes.map((route) => [route.id, route.title, route.upstreams[0]?.url, route.trustedProxies]),
    [['jellyfin', 'Jellyfin', 'http://10.33.0.4:8096', null]],
    'a route gets the new per-route trusted proxies field as null (the global list)',
  );
  assert.deepEqual(
    store.current.routes.map((route) => route.tls),
    [{ mode: 'none', certificateId: null, acme: null, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const }],
    'a route saved before the HTTPS listener stays plain HTTP',
  );
  assert.deepEqual(store.current.lan, { mdns: true }, 'mDNS is on for everyone');
  assert.deepEqual(
    store.current.routes.map((route) => route.publishOnLan),
    [false],
    'a route saved before Gatehouse published names is not published until the user says so',
  );
  const written = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  assert.equal(written.version, SETTINGS_VERSION);
  assert.deepEqual(written, store.current, 'the upgraded form is on disk');
  assert.equal(await readFile(`${path}.bak`, 'utf8'), original, 'the version 1 file survives as the backup');
});

test('a fresh data directory starts with the first-run guide not done', async (t) => {
  const store = await SettingsStore.open(await tempDataDir(t));
  assert.deepEqual(store.current.app, { startAtLogin: false, onboarded: false });
});

test('a file from a newer Gatehouse is used read-only, left untouched, and updates are refused', async (t) => {
  const dataDir = await tempDataDir(t);
  const path = join(dataDir, 'settings.json');
  await copyFile(new URL('newer-version.json', FIXTURES), path);
  const before = await stat(path);
  const text = await readFile(path, 'utf8');

  const store = await SettingsStore.open(dataDir);
  assert.equal(store.notice?.code, NEWER_VERSION_CODE);
  assert.match(store.notice?.message ?? '', new RegExp(`newer Gatehouse \\(settings version 99; this one understands up to ${SETTINGS_VERSION}\\)`));
  assert.match(store.notice?.message ?? '', /read-only/);
  assert.match(store.notice?.fix ?? '', /Update Gatehouse/);
  assert.equal(store.current.proxy.httpPort, 8080, 'what this version understands is used');
  assert.deepEqual(store.current.routes.map((route) => route.id), ['jellyfin']);

  await assert.rejects(store.update((draft) => void (draft.proxy.httpPort = 9000)), (error: Error) => {
    assert.ok(error instanceof SettingsReadOnlyError);
    assert.match(error.message, /newer Gatehouse \(settings version 99\).*Update Gatehouse/);
    return true;
  });
  await store.flush();
  assert.equal(await readFile(path, 'utf8'), text);
  assert.equal((await stat(path)).mtimeMs, before.mtimeMs);
  assert.deepEqual(await readdir(dataDir), ['settings.json'], 'no backup, temp or kept-aside file');
});

test('a newer file this version cannot understand runs on the defaults, still untouched', async (t) => {
  const dataDir = await tempDataDir(t);
  const path = join(dataDir, 'settings.json');
  const text = JSON.stringify({ version: SETTINGS_VERSION + 1, proxy: { httpPort: 8080, http3: true } });
  await writeFile(path, text);
  const store = await SettingsStore.open(dataDir);
  assert.equal(store.notice?.code, NEWER_VERSION_CODE);
  assert.match(store.notice?.message ?? '', /default settings are in use/);
  assert.deepEqual(store.current, defaultSettings());
  assert.equal(await readFile(path, 'utf8'), text);
});

test('bad JSON is kept aside under its exact name, the notice names the position, and .bak is used', async (t) => {
  const dataDir = await dataDirWithBackup(t);
  const path = join(dataDir, 'settings.json');
  const broken = '{\n  "version": 1,\n  "proxy": { "httpPort": 8080, }\n}\n';
  await writeFile(path, broken);

  const from = new Date();
  const store = await SettingsStore.open(dataDir);
  const kept = await keptAsideFile(dataDir, from, new Date());
  assert.equal(await readFile(kept, 'utf8'), broken, 'kept byte for byte');
  assert.equal(store.notice?.code, UNREADABLE_CODE);
  assert.match(store.notice?.message ?? '', /is not valid JSON: .* at line 3, column 32 \(position 49\)/);
  assert.ok(store.notice?.message.includes(kept), 'the notice says where the original is');
  assert.match(store.notice?.message ?? '', /started from the backup .*settings\.json\.bak/);
  assert.ok(store.notice?.fix?.includes(kept) && store.notice.fix.includes(path), 'the fix says what to restore where');
  assert.equal(store.current.proxy.httpPort, 8080, 'the backup, not the defaults');
  assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), store.current, 'a usable settings.json is in place again');

  const again = await SettingsStore.open(dataDir);
  assert.equal(again.notice, null);
  assert.equal(await readFile(kept, 'utf8'), broken, 'still there after the next start');
});

test('bad JSON with no usable backup starts from the defaults and says so', async (t) => {
  const dataDir = await tempDataDir(t);
  await writeFile(join(dataDir, 'settings.json'), '{"version": 1, "proxy": {"httpPort": 80');
  await writeFile(join(dataDir, 'settings.json.bak'), 'also broken');
  const store = await SettingsStore.open(dataDir);
  assert.match(store.notice?.message ?? '', /the text ends at line 1, column 40 before the JSON is complete/);
  assert.match(store.notice?.message ?? '', /started from the default settings/);
  assert.deepEqual(store.current, defaultSettings());
  assert.equal(await readFile(join(dataDir, 'settings.json.bak'), 'utf8'), 'also broken', 'a bad backup is not destroyed at open');
});

test('a value the schema rejects is kept aside and the notice names its field', async (t) => {
  const dataDir = await dataDirWithBackup(t);
  const path = join(dataDir, 'settings.json');
  const invalid = JSON.stringify({ ...defaultSettings(), proxy: { ...defaultSettings().proxy, httpPort: 99999 } }, null, 2);
  await writeFile(path, invalid);

  const from = new Date();
  const store = await SettingsStore.open(dataDir);
  const kept = await keptAsideFile(dataDir, from, new Date());
  assert.equal(await readFile(kept, 'utf8'), invalid);
  assert.match(store.notice?.message ?? '', /could not be used: proxy\.httpPort: a port is a whole number from 0 to 65535\./);
  assert.equal(store.current.proxy.httpPort, 8080);
});

/** numberedRoute(n) as a file from before version 7 has it: no upstream list, balancing or health check. */
function singleUpstreamRoute(n: number) {
  const { upstreams: _upstreams, balancing: _balancing, healthCheck: _healthCheck, ...rest } = numberedRoute(n);
  return rest;
}

test('the notice lists route problems by index and counts the rest', async (t) => {
  const dataDir = await tempDataDir(t);
  const routes = [
    numberedRoute(1),
    { ...numberedRoute(2), names: ['bad name'] },
    // Written with the single `upstream` of the old format, which the migration turns into upstreams[0].
    { ...singleUpstreamRoute(3), upstream: 'ftp://x:1' },
    { ...numberedRoute(4), enabled: 'yes' },
    { ...numberedRoute(5), names: [] },
  ];
  await writeFile(join(dataDir, 'settings.json'), JSON.stringify({ version: 1, routes }));
  const store = await SettingsStore.open(dataDir);
  const message = store.notice?.message ?? '';
  assert.match(message, /routes\[1\]\.names\[0\]: "bad name" contains a space/);
  assert.match(message, /routes\[2\]\.upstreams\[0\]\.url: "ftp:\/\/x:1" uses ftp:\/\//);
  assert.match(message, /routes\[3\]\.enabled: /);
  assert.match(message, /; and 1 more problem\./);
});

test('a second unreadable file in the same millisecond does not replace the first', async (t) => {
  const { moveAsideWithoutReplacing } = await import('../../src-main/core/settings/durable-file.js');
  const dataDir = await tempDataDir(t);
  const wanted = join(dataDir, 'settings.json.unreadable-x');
  await writeFile(wanted, 'first');
  await writeFile(join(dataDir, 'settings.json'), 'second');
  const used = await moveAsideWithoutReplacing(join(dataDir, 'settings.json'), wanted);
  assert.equal(used, `${wanted}-1`);
  assert.equal(await readFile(wanted, 'utf8'), 'first');
  assert.equal(await readFile(used, 'utf8'), 'second');
  assert.equal(existsSync(join(dataDir, 'settings.json')), false);
});
