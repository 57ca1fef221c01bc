// Export on one `gatehouse serve`, import on another with a fresh data directory, over the admin
// API as the web UI does it: every route and every setting arrives.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { GeneralSettings, Route } from '../../shared/model.js';
import type { ImportPreview, SettingsExport } from '../../shared/status.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';

async function json<T>(response: Promise<Response>): Promise<T> {
  const answer = await response;
  const body = (await answer.json()) as T;
  assert.equal(answer.status, 200, JSON.stringify(body));
  return body;
}

const send = (method: string, body: unknown): RequestInit => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('export from one gatehouse serve, import into a fresh one', () => {
  let source: ServeProcess;
  let target: ServeProcess;

  before(async () => {
    [source, target] = await Promise.all([startServe(), startServe()]);
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  test('every route and setting is reproduced', async () => {
    await json(source.api('/api/routes', send('POST', { title: 'Jellyfin', names: ['jellyfin.home.arpa', 'tv.home.arpa'], upstream: '10.33.0.4:8096', websocket: false })));
    await json(source.api('/api/routes', send('POST', { names: ['*.lab.home.arpa'], upstream: 'https://10.33.0.9:8006', insecureUpstreamTls: true, rewriteHost: 'pve.lan', trustedProxies: ['10.33.0.1'] })));
    await json(source.api('/api/routes', send('POST', { names: ['off.home.arpa'], upstream: '10.33.0.5:80', enabled: false })));
    await json(
      source.api(
        '/api/settings',
        send('PATCH', {
          proxy: { httpsPort: 8443, trustedProxies: ['10.33.0.0/24'], timeouts: { upstreamConnectMs: 3000 } },
          admin: { port: 4790 },
          log: { keepFiles: 2 },
          app: { onboarded: true, startAtLogin: true },
        }),
      ),
    );
    const exported = await json<SettingsExport>(source.api('/api/settings/export'));
    const sourceRoutes = await json<Route[]>(source.api('/api/routes'));
    const sourceSettings = await json<GeneralSettings>(source.api('/api/settings'));
    assert.equal(exported.settings.routes.length, 3);

    // The file as a person would carry it: written out and read back as text.
    const document = JSON.parse(JSON.stringify(exported, null, 2)) as unknown;
    const preview = await json<ImportPreview>(target.api('/api/settings/import/preview', send('POST', { document })));
    assert.equal(preview.routes.added.length, 3);
    assert.ok(preview.settings.some((change) => change.path === 'proxy.httpsPort' && change.after === 8443));

    const imported = await json<{ settings: GeneralSettings; routes: Route[] }>(target.api('/api/settings/import', send('POST', { document })));
    assert.deepEqual(imported.routes, sourceRoutes);
    assert.deepEqual(imported.settings, sourceSettings);
    assert.deepEqual(await json<Route[]>(target.api('/api/routes')), sourceRoutes);
    assert.deepEqual(await json<GeneralSettings>(target.api('/api/settings')), sourceSettings);
    assert.deepEqual(JSON.parse(await readFile(join(target.dataDir, 'settings.json'), 'utf8')), exported.settings, 'the target file is the exported one');

    // The target's proxy runs on the port its --http-port flag gave it, with the imported routes.
    const status = await json<{ state: string; routeCount: number; http: { port: number } }>(target.api('/api/proxy'));
    assert.equal(status.state, 'running');
    assert.equal(status.routeCount, 3);
    assert.equal(status.http.port, target.proxyPort);
  });

  test('a broken import answers 400 naming the field', async () => {
    const exported = await json<SettingsExport>(target.api('/api/settings/export'));
    const document = { ...exported, settings: { ...exported.settings, routes: [{ ...exported.settings.routes[0], names: ['bad name'] }] } };
    const answer = await target.api('/api/settings/import', send('POST', { document }));
    assert.equal(answer.status, 400);
    const { error } = (await answer.json()) as { error: { code: string; message: string; issues: { path: string }[] } };
    assert.equal(error.code, 'invalid_input');
    assert.equal(error.issues[0]?.path, 'settings.routes.0.names.0');
    assert.match(error.message, /settings\.routes\.0\.names\.0: "bad name" contains a space/);
  });
});
