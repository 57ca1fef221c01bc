// The settings store's everyday life: first start, saving, reading back, and many saves at once.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ZodError } from 'zod';
import { SETTINGS_VERSION, SettingsSchema, defaultSettings } from '../../shared/model.js';
import { SettingsStore } from '../../src-main/core/settings/index.js';
import { numberedRoute, tempDataDir } from '../fixtures/settings/helpers.js';

const POSIX = process.platform !== 'win32';

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8')) as unknown;
}

test('first open creates settings.json with the defaults, readable by the owner only', async (t) => {
  const dataDir = join(await tempDataDir(t), 'nested', 'data');
  const store = await SettingsStore.open(dataDir);
  assert.equal(store.path, join(dataDir, 'settings.json'));
  assert.equal(store.notice, null);
  assert.deepEqual(store.current, defaultSettings());
  assert.deepEqual(await readJson(store.path), defaultSettings());
  if (POSIX) {
    assert.equal((await stat(store.path)).mode & 0o777, 0o600);
    assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
  }
  assert.equal(existsSync(`${store.path}.bak`), false, 'nothing to back up on first start');
});

test('an update is on disk when it resolves, survives a re-open, and the previous file becomes .bak', async (t) => {
  const dataDir = await tempDataDir(t);
  const store = await SettingsStore.open(dataDir);
  const saved = await store.update((draft) => {
    draft.proxy.httpPort = 8080;
    draft.routes.push({ ...numberedRoute(1), upstreams: [{ url: '10.33.0.4:8096', weight: 1, backup: false, drained: false }] });
  });
  assert.equal(saved.proxy.httpPort, 8080);
  assert.equal(saved.routes[0]?.upstreams[0]?.url, 'http://10.33.0.4:8096', 'stored in the schema-normalized form');
  assert.equal(store.current, saved);
  assert.deepEqual(await readJson(store.path), saved);
  assert.deepEqual(await readJson(`${store.path}.bak`), defaultSettings());
  if (POSIX) assert.equal((await stat(store.path)).mode & 0o777, 0o600);

  const reopened = await SettingsStore.open(dataDir);
  assert.equal(reopened.notice, null);
  assert.deepEqual(reopened.current, saved);
  assert.deepEqual(await readdir(dataDir).then((names) => names.sort()), ['settings.json', 'settings.json.bak']);
});

test('an update may return a new object instead of changing the draft', async (t) => {
  const store = await SettingsStore.open(await tempDataDir(t));
  const saved = await store.update((draft) => ({ ...draft, log: { ...draft.log, keepFiles: 9 } }));
  assert.equal(saved.log.keepFiles, 9);
  assert.equal((await SettingsStore.open(join(store.path, '..'))).current.log.keepFiles, 9);
});

test('current is frozen, so a caller cannot change it behind the disk’s back', async (t) => {
  const store = await SettingsStore.open(await tempDataDir(t));
  assert.throws(() => {
    store.current.proxy.httpPort = 1;
  }, TypeError);
  assert.throws(() => store.current.routes.push(numberedRoute(1)), TypeError);
});

test('a file missing fields gets them from the defaults, section by section, and is left as written', async (t) => {
  const dataDir = await tempDataDir(t);
  const text = JSON.stringify({ version: SETTINGS_VERSION, proxy: { httpPort: 8080, timeouts: { headersMs: 20_000 } }, routes: [numberedRoute(1)] });
  await writeFile(join(dataDir, 'settings.json'), text);
  const store = await SettingsStore.open(dataDir);
  assert.equal(store.notice, null);
  const expected = defaultSettings();
  expected.proxy.httpPort = 8080;
  expected.proxy.timeouts.headersMs = 20_000;
  expected.routes = [numberedRoute(1)];
  assert.deepEqual(store.current, expected);
  assert.equal(await readFile(store.path, 'utf8'), text, 'not rewritten just for being short');
  if (POSIX) assert.equal((await stat(store.path)).mode & 0o777, 0o600, 'a hand-made file is made owner-only');
});

test('an invalid update rejects with the ZodError and changes nothing, and later updates still work', async (t) => {
  const store = await SettingsStore.open(await tempDataDir(t));
  await store.update((draft) => void (draft.proxy.httpPort = 8080));
  const before = await readFile(store.path, 'utf8');
  const backupBefore = await readFile(`${store.path}.bak`, 'utf8');
  const current = store.current;

  const error = await store.update((draft) => void (draft.proxy.httpPort = 99999)).catch((e: unknown) => e);
  assert.ok(error instanceof ZodError, `expected a ZodError, got ${String(error)}`);
  assert.deepEqual(error.issues[0]?.path, ['proxy', 'httpPort']);
  await assert.rejects(
    store.update(() => {
      throw new Error('the caller changed its mind');
    }),
    /changed its mind/,
  );

  assert.equal(await readFile(store.path, 'utf8'), before);
  assert.equal(await readFile(`${store.path}.bak`, 'utf8'), backupBefore);
  assert.equal(store.current, current);
  assert.deepEqual(await readdir(join(store.path, '..')).then((n) => n.sort()), ['settings.json', 'settings.json.bak'], 'no temp file left');

  const saved = await store.update((draft) => void (draft.proxy.httpPort = 8081));
  assert.equal(saved.proxy.httpPort, 8081);
});

test('concurrent updates run one at a time, each seeing the one before, and all land', async (t) => {
  const dataDir = await tempDataDir(t);
  const store = await SettingsStore.open(dataDir);
  const count = 25;
  const results = await Promise.all(
    Array.from({ length: count }, (_, n) =>
      store.update((draft) => {
        assert.equal(draft.routes.length, n, 'each update sees every earlier one');
        draft.routes.push(numberedRoute(n));
      }),
    ),
  );
  results.forEach((settings, n) => assert.equal(settings.routes.length, n + 1));
  await store.flush();
  const ids = Array.from({ length: count }, (_, n) => `r${n}`);
  assert.deepEqual(store.current.routes.map((route) => route.id), ids);
  const onDisk = SettingsSchema.parse(await readJson(store.path));
  assert.deepEqual(onDisk.routes.map((route) => route.id), ids);
  assert.deepEqual((await SettingsStore.open(dataDir)).current, store.current);
});

test('flush waits for queued updates, including failed ones', async (t) => {
  const store = await SettingsStore.open(await tempDataDir(t));
  const good = store.update((draft) => void draft.routes.push(numberedRoute(1)));
  const bad = store.update((draft) => void (draft.log.keepFiles = 0));
  bad.catch(() => undefined);
  await store.flush();
  assert.equal(store.current.routes.length, 1);
  await good;
  await assert.rejects(bad, ZodError);
  await store.flush(); // an empty queue resolves at once
});

test('temp files left by a crashed write are removed on open', async (t) => {
  const dataDir = await tempDataDir(t);
  await SettingsStore.open(dataDir);
  await writeFile(join(dataDir, 'settings.json.tmp-123-abcd'), '{"half": ');
  await writeFile(join(dataDir, 'settings.json.bak.tmp-123-abcd'), '{}');
  await writeFile(join(dataDir, 'ca.key'), 'not ours');
  await SettingsStore.open(dataDir);
  assert.deepEqual((await readdir(dataDir)).sort(), ['ca.key', 'settings.json']);
});

test('open explains a data directory it cannot create', async (t) => {
  const parent = await tempDataDir(t);
  const blocker = join(parent, 'a-file');
  await writeFile(blocker, '');
  await assert.rejects(SettingsStore.open(join(blocker, 'data')), (error: Error) => {
    assert.match(error.message, /Cannot use the data directory .*a-file[/\\]data/);
    return true;
  });
});

test('open explains a settings path it cannot read', async (t) => {
  const dataDir = await tempDataDir(t);
  await mkdir(join(dataDir, 'settings.json'));
  await assert.rejects(SettingsStore.open(dataDir), /Cannot read the settings file .*settings\.json/);
});
