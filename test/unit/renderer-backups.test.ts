// The Backup page's logic against the fake Gatehouse: passphrases are checked before anything is
// sent, the schedule is saved (a new passphrase only when typed), a restore needs a preview of the
// same source first and sends the passphrase the preview opened it with, a wrong passphrase shows
// the core's sentence, and the preview is grouped by area with unchanged items only counted.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApiClient } from '../../shared/api.js';
import { FakeGatehouse } from '../../src-renderer/dev/fake-gatehouse.js';
import { SAMPLE_RESTORE_CHANGES } from '../../src-renderer/dev/fake-backups.js';

const { Backups, groupChanges, passphraseProblem, fileAsBase64 } = await import('../../src-renderer/insight/backups.svelte.js');

describe('Backup page', () => {
  it('checks the passphrase twice, then backs up', async () => {
    assert.match(passphraseProblem('short', 'short') ?? '', /at least 10/);
    assert.match(passphraseProblem('a long passphrase', 'a long passphrase!') ?? '', /differ/);
    assert.equal(passphraseProblem('a long passphrase', 'a long passphrase'), null);
    const backups = new Backups(createApiClient(new FakeGatehouse()));
    const download = await backups.create('a long passphrase');
    assert.match(download?.fileName ?? '', /^gatehouse-\d{8}-\d{6}\.gatehouse-backup$/);
    assert.ok(backups.created && backups.created.holds.length > 3);
  });

  it('saves the schedule, and refuses turning it on without a passphrase', async () => {
    const fake = new FakeGatehouse();
    const backups = new Backups(createApiClient(fake));
    await backups.load();
    assert.equal(backups.overview?.schedule.enabled, false);
    assert.equal(await backups.saveSchedule({ enabled: true, folder: '/srv/backups', everyHours: 12, keep: 3, passphrase: '' }), false);
    assert.match(backups.scheduleError?.message ?? '', /passphrase/);
    assert.equal(await backups.saveSchedule({ enabled: true, folder: ' /srv/backups ', everyHours: 12, keep: 3, passphrase: 'a long passphrase' }), true);
    assert.deepEqual(fake.backups.schedule, { enabled: true, folder: '/srv/backups', everyHours: 12, keep: 3 });
    assert.equal(backups.overview?.passphraseSet, true);
    assert.ok(backups.overview?.nextRun);
  });

  it('restores only after a preview, with the passphrase the preview used', async () => {
    const fake = new FakeGatehouse();
    fake.backups.seed();
    const backups = new Backups(createApiClient(fake));
    await backups.load();
    assert.equal(await backups.restore(), false, 'nothing to restore before a preview');
    backups.choose({ kind: 'scheduled', name: fake.backups.files[0]!.name });
    assert.equal(await backups.previewRestore('wrong passphrase'), false);
    assert.match(backups.restoreError?.message ?? '', /passphrase does not open this backup/);
    assert.equal(await backups.previewRestore('a long backup passphrase'), true);
    assert.ok(backups.preview);
    assert.equal(await backups.restore(), true);
    assert.match(backups.restored?.keptIn ?? '', /replaced-/);
    assert.equal(backups.preview, null);
  });

  it('groups the preview by area, in a fixed order, counting unchanged items', () => {
    const groups = groupChanges(SAMPLE_RESTORE_CHANGES);
    assert.deepEqual(groups.map((group) => group.area), ['routes', 'access', 'users', 'local-ca', 'certificates', 'acme', 'dns', 'secrets', 'settings']);
    const routes = groups[0]!;
    assert.equal(routes.same, 1);
    assert.deepEqual(routes.changes.map((change) => change.change), ['replace', 'add', 'remove']);
    assert.equal(groups.find((group) => group.area === 'access')?.changes.length, 0);
  });

  it('reads a picked file as base64', async () => {
    const bytes = new Uint8Array(100_000).map((_, i) => i % 256);
    assert.equal(await fileAsBase64(new Blob([bytes])), Buffer.from(bytes).toString('base64'));
  });
});
