// Scheduled backups through the gateway, with a short "hour" (GatewayOptions.backups.hourMs): the
// folder is checked (absolute, there, writable), the passphrase is kept sealed and never returned,
// a backup is written every period (0600, Gatehouse's own name), the folder is pruned to `keep`
// without touching files Gatehouse did not name, the last run is reported and survives a restart,
// and a scheduled backup can be previewed by its name.
import assert from 'node:assert/strict';
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { call, rejectsWith, settingsFile } from '../helpers/gateway-calls.js';
import { makeDataDir } from '../helpers/serve.js';

const PASSPHRASE = 'scheduled backup passphrase';
const HOUR_MS = 400;

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('scheduled backups', () => {
  let dataDir: string;
  let folder: string;
  let gateway: Gateway | undefined;

  before(async () => {
    dataDir = await makeDataDir();
    folder = await makeDataDir();
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' }, backups: { hourMs: HOUR_MS } });
  });
  after(async () => {
    await gateway?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(folder, { recursive: true, force: true });
  });

  test('a folder that is relative, missing or a file, and turning on without a passphrase, are refused with the fix', async () => {
    const relative = await rejectsWith(call(gateway!, 'updateBackupSchedule', { folder: 'backups' }), 'invalid_input');
    assert.match(relative.message, /whole folder path/);
    const missing = await rejectsWith(call(gateway!, 'updateBackupSchedule', { folder: join(folder, 'nope') }), 'invalid_input');
    assert.match(missing.message, /does not exist/);
    await writeFile(join(folder, 'a-file'), 'x');
    const file = await rejectsWith(call(gateway!, 'updateBackupSchedule', { folder: join(folder, 'a-file') }), 'invalid_input');
    assert.match(file.message, /is a file/);
    const noPassphrase = await rejectsWith(call(gateway!, 'updateBackupSchedule', { enabled: true, folder }), 'invalid_input');
    assert.match(noPassphrase.message, /passphrase/);
    const overview = await call(gateway!, 'getBackups');
    assert.equal(overview.schedule.enabled, false);
    assert.equal(overview.nextRun, null);
  });

  test('every period a 0600 backup is written and the folder is pruned to `keep`, leaving other files alone', async () => {
    // An old backup of Gatehouse's naming (pruned first) and files it did not name (never touched).
    await writeFile(join(folder, 'gatehouse-20200101-000000.gatehouse-backup'), 'old');
    await writeFile(join(folder, 'notes.txt'), 'mine');
    await writeFile(join(folder, 'gatehouse-20200101-000000.gatehouse-backup.copy'), 'mine too');
    const overview = await call(gateway!, 'updateBackupSchedule', { enabled: true, folder, everyHours: 1, keep: 2, passphrase: PASSPHRASE });
    assert.equal(overview.passphraseSet, true);
    assert.ok(!JSON.stringify(overview).includes(PASSPHRASE));
    assert.ok(!JSON.stringify(await settingsFile(dataDir)).includes(PASSPHRASE));
    assert.ok(overview.nextRun !== null);
    const seen = new Set<string>();
    await until('four scheduled runs', async () => {
      const now = await call(gateway!, 'getBackups');
      assert.equal(now.lastRun?.error ?? null, null, now.lastRun?.error ?? '');
      if (now.lastRun?.file) seen.add(now.lastRun.file);
      return seen.size >= 4;
    });
    const listed = await call(gateway!, 'getBackups');
    assert.ok(listed.files.length <= 2 && listed.files.length >= 1, JSON.stringify(listed.files));
    await until('the folder pruned to 2', async () => (await call(gateway!, 'getBackups')).files.length === 2);
    const names = (await readdir(folder)).sort();
    assert.ok(names.includes('notes.txt') && names.includes('gatehouse-20200101-000000.gatehouse-backup.copy') && names.includes('a-file'), names.join());
    assert.ok(!names.includes('gatehouse-20200101-000000.gatehouse-backup'), 'the old backup was pruned');
    assert.ok(!names.some((name) => name.includes('.tmp-')), 'no temp file left');
    for (const file of listed.files) {
      assert.match(file.name, /^gatehouse-\d{8}-\d{6}(-\d+)?\.gatehouse-backup$/);
      assert.equal((await stat(join(folder, file.name))).mode & 0o777, 0o600);
    }
    assert.ok(Date.parse(listed.files[0]!.time) >= Date.parse(listed.files[1]!.time), 'newest first');
  });

  test('a scheduled backup is previewed by its name with its passphrase', async () => {
    await call(gateway!, 'updateBackupSchedule', { enabled: false });
    const { files } = await call(gateway!, 'getBackups');
    const preview = await call(gateway!, 'previewRestore', { fileName: files[0]!.name, passphrase: PASSPHRASE });
    assert.ok(preview.changes.length > 0);
    assert.ok(preview.changes.every((change) => change.change === 'same' || change.area === 'settings'), JSON.stringify(preview.changes.filter((change) => change.change !== 'same')));
    await rejectsWith((async () => call(gateway!, 'previewRestore', { fileName: '../settings.json', passphrase: PASSPHRASE }))(), 'invalid_input');
    await rejectsWith(call(gateway!, 'previewRestore', { fileName: 'notes.txt', passphrase: PASSPHRASE }), 'invalid_input');
  });

  test('after a restart the next run counts from the newest backup and the last run is remembered', async () => {
    await call(gateway!, 'updateBackupSchedule', { enabled: true, everyHours: 24 });
    const before = await call(gateway!, 'getBackups');
    await gateway!.close();
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' }, backups: { hourMs: 60_000 } });
    const after = await call(gateway, 'getBackups');
    assert.equal(after.lastRun?.file, before.lastRun?.file);
    assert.equal(after.passphraseSet, true);
    const newest = Date.parse(after.files[0]!.time);
    assert.equal(Date.parse(after.nextRun!), newest + 24 * 60_000);
  });
});
