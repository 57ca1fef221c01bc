// The move-in page's controller against the fake Gatehouse: a preview chooses every item that maps
// (never one that cannot), an import sends only the chosen keys and keeps their labels for the
// result, a second preview shows what came in as already there, and a missing folder's error lands
// on the folder field.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApiClient } from '../../shared/api.js';
import { FakeGatehouse } from '../../src-renderer/dev/fake-gatehouse.js';

const { NpmImport } = await import('../../src-renderer/insight/npm-import.svelte.js');

function setup() {
  const fake = new FakeGatehouse();
  return new NpmImport(createApiClient(fake));
}

describe('moving in from NPM (page controller)', () => {
  it('chooses what maps, imports only the chosen keys, and a second preview shows them as already here', async () => {
    const importer = setup();
    importer.folder = '/srv/npm-data';
    await importer.look();
    assert.equal(importer.error, null);
    const items = importer.preview!.items;
    assert.deepEqual(importer.chosenKeys, items.filter((entry) => entry.maps !== 'no').map((entry) => entry.key));
    assert.ok(items.some((entry) => entry.maps === 'no' && importer.chosen[entry.key] === false), 'an item that cannot come is not chosen');
    importer.chosen['stream:1'] = false;
    importer.chosen['proxy-host:1'] = false;
    importer.chosen['certificate:1'] = false;
    await importer.importChosen();
    const imported = importer.result!.imported.map((entry) => entry.key);
    assert.ok(!imported.includes('stream:1') && !imported.includes('proxy-host:1'), 'unchosen items stay out');
    assert.ok(imported.includes('certificate:1'), 'the certificate comes with nextcloud (its need)');
    assert.equal(importer.preview, null, 'the old preview is cleared');
    assert.equal(importer.label('access-list:1'), 'Family', 'the result keeps the labels');

    await importer.look();
    assert.equal(importer.preview!.items.find((entry) => entry.key === 'proxy-host:2')!.maps, 'no');
    assert.equal(importer.preview!.items.find((entry) => entry.key === 'stream:1')!.maps, 'yes');
  });

  it('a folder that is not there: the error names the folder field', async () => {
    const importer = setup();
    importer.folder = '/nowhere/npm';
    await importer.look();
    assert.equal(importer.preview, null);
    assert.equal(importer.error!.details.issues![0]!.path, 'folder');
    assert.match(importer.error!.details.issues![0]!.message, /docker cp/);
  });
});
