// Backups through `gatehouse serve`'s HTTP API, as the web UI sends them: a backup made over HTTP is
// previewed and restored over HTTP (base64 in JSON), a backup larger than the admin API's usual
// 1 MiB body limit is still read (the restore members take up to their schema's 64 MiB), and the
// restore is in force when it answers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { BackupDownload, RestorePreview, RestoreResult } from '../../shared/insight.js';
import type { Route } from '../../shared/model.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';

const PASSPHRASE = 'headless backup passphrase';
const json = (body: unknown) => ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

describe('backups over the admin HTTP API', () => {
  let serve: ServeProcess;

  before(async () => {
    serve = await startServe();
  });
  after(async () => {
    await serve?.stop();
  });

  test('back up, remove a route, preview and restore over HTTP: the route is back', async () => {
    const added = await serve.api('/api/routes', { method: 'POST', ...json({ title: 'NAS', names: ['nas.home.arpa'], upstream: '10.33.0.4:5000' }) });
    assert.equal(added.status, 200, await added.clone().text());
    const route = (await added.json()) as Route;
    const made = await serve.api('/api/backups', { method: 'POST', ...json({ passphrase: PASSPHRASE }) });
    assert.equal(made.status, 200, await made.clone().text());
    const download = (await made.json()) as BackupDownload;
    await serve.api(`/api/routes/${route.id}`, { method: 'DELETE' });

    const previewed = await serve.api('/api/backups/restore/preview', { method: 'POST', ...json({ contentBase64: download.contentBase64, passphrase: PASSPHRASE }) });
    assert.equal(previewed.status, 200, await previewed.clone().text());
    const preview = (await previewed.json()) as RestorePreview;
    assert.ok(preview.changes.some((change) => change.area === 'routes' && change.what === 'route NAS' && change.change === 'add'), JSON.stringify(preview.changes));

    const unconfirmed = await serve.api('/api/backups/restore', { method: 'POST', ...json({ contentBase64: download.contentBase64, passphrase: PASSPHRASE }) });
    assert.equal(unconfirmed.status, 400);
    assert.match(await unconfirmed.text(), /confirm: true/);

    const restored = await serve.api('/api/backups/restore', { method: 'POST', ...json({ contentBase64: download.contentBase64, passphrase: PASSPHRASE, confirm: true }) });
    assert.equal(restored.status, 200, await restored.clone().text());
    const result = (await restored.json()) as RestoreResult;
    assert.match(result.keptIn, /replaced-/);
    const routes = (await (await serve.api('/api/routes')).json()) as Route[];
    assert.deepEqual(routes.map((one) => one.id), [route.id]);
  });

  test('a body over 1 MiB reaches the restore members (and a file that is not a backup is named as such)', async () => {
    const big = randomBytes(3 * 1024 * 1024).toString('base64');
    const answer = await serve.api('/api/backups/restore/preview', { method: 'POST', ...json({ contentBase64: big, passphrase: PASSPHRASE }) });
    assert.equal(answer.status, 400);
    assert.match(await answer.text(), /damaged or not a Gatehouse backup/);
    // Other members keep the 1 MiB limit.
    const other = await serve.api('/api/routes', { method: 'POST', ...json({ names: ['a.home.arpa'], upstream: '10.33.0.4:1', title: 'x'.repeat(2 * 1024 * 1024) }) });
    assert.equal(other.status, 413);
  });
});
