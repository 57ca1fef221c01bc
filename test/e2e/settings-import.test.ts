// Settings in the browser: a port changed and saved; every setting exported as one file (the real
// download), and that file imported on a second `gatehouse serve` with a fresh data directory,
// through the preview, reproducing every route so each one answers through the second proxy.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { GeneralSettings } from '../../shared/model.js';
import type { SettingsExport } from '../../shared/status.js';
import { addRoute, apiAnswer, apiJson, heading, listRoutes, proxyPort, settingsFile, startUiServe, waitForStatusMessage } from '../helpers/admin-ui.js';
import { browserMissing, startTogether, launchBrowser, openAdmin, waitFor, waitForText } from '../helpers/browser.js';
import { freePort } from '../helpers/ports.js';
import type { ServeProcess } from '../helpers/serve.js';
import { requestThrough, startEchoUpstream, type EchoBody, type Upstream } from '../helpers/upstream.js';

describe('settings, export and import in the browser', { skip: browserMissing() }, () => {
  let browser: Browser;
  let source: ServeProcess;
  let fresh: ServeProcess;
  let upstreams: Upstream[];
  let scratch: string;
  let httpsPort: number;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'gatehouse-e2e-export-'));
    httpsPort = await freePort();
    upstreams = [];
    await startTogether([
      launchBrowser().then((b) => (browser = b)),
      startUiServe().then((s) => (source = s)),
      startUiServe().then((s) => (fresh = s)),
      ...['media', 'wiki', 'nas'].map((name, i) => startEchoUpstream(name).then((u) => (upstreams[i] = u))),
    ]);
  });

  after(async () => {
    await browser?.close();
    await source?.stop();
    await fresh?.stop();
    for (const upstream of upstreams ?? []) await upstream?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  test('a port changed on the Settings page is saved', async () => {
    const { page, close } = await openAdmin(browser, source, { hash: '#/settings' });
    try {
      await heading(page, 'Settings').waitFor();
      const field = page.getByLabel('HTTPS port', { exact: true });
      await waitFor('the HTTPS port to be filled in from the settings', async () => (await field.inputValue()) === '443');
      await field.fill(String(httpsPort));
      await page.getByRole('button', { name: 'Save settings', exact: true }).click();
      await waitFor('the new HTTPS port in the admin API', async () => (await apiJson<GeneralSettings>(source, '/api/settings')).proxy.httpsPort === httpsPort);
      assert.equal((JSON.parse((await settingsFile(source))!) as GeneralSettings).proxy.httpsPort, httpsPort, 'settings.json holds it');
      await page.reload();
      await heading(page, 'Settings').waitFor();
      await waitFor('the saved port after a reload', async () => (await page.getByLabel('HTTPS port', { exact: true }).inputValue()) === String(httpsPort));
    } finally {
      await close();
    }
  });

  test('an export imported on a fresh data directory reproduces every route', async () => {
    const [media, wiki, nas] = upstreams as [Upstream, Upstream, Upstream];
    // The file carries a changed setting too (already saved by the test above, unless it failed).
    await apiJson(source, '/api/settings', { method: 'PATCH', body: { proxy: { httpsPort } } });
    await addRoute(source, { title: 'Jellyfin', names: ['jellyfin.home.arpa', 'media.home.arpa'], upstream: media.address });
    await addRoute(source, { names: ['wiki.home.arpa'], upstream: wiki.url, websocket: false, rewriteHost: 'wiki.internal', trustedProxies: ['10.33.0.0/24'] });
    await addRoute(source, { title: 'NAS', names: ['*.nas.home.arpa'], upstream: nas.address, enabled: true });
    const routes = await listRoutes(source);

    // Export from the first serve: the browser's real download.
    const exporter = await openAdmin(browser, source, { hash: '#/settings' });
    let exportPath: string;
    try {
      await heading(exporter.page, 'Settings').waitFor();
      const [download] = await Promise.all([
        exporter.page.waitForEvent('download', { timeout: 10_000 }),
        exporter.page.getByRole('button', { name: 'Export settings', exact: true }).click(),
      ]);
      assert.match(download.suggestedFilename(), /^gatehouse-settings-\d{4}-\d{2}-\d{2}\.json$/);
      exportPath = join(scratch, download.suggestedFilename());
      await download.saveAs(exportPath);
    } finally {
      await exporter.close();
    }
    const exported = JSON.parse(await readFile(exportPath, 'utf8')) as SettingsExport;
    assert.equal(exported.format, 'gatehouse-settings');
    assert.deepEqual(exported.settings.routes, routes, 'the file holds every route');

    // Import on the second serve, through the preview.
    assert.deepEqual(await listRoutes(fresh), []);
    const importer = await openAdmin(browser, fresh, { hash: '#/settings' });
    try {
      const { page } = importer;
      await heading(page, 'Settings').waitFor();
      await page.getByLabel('Import settings file', { exact: true }).setInputFiles(exportPath);
      await page.getByRole('heading', { name: 'Import preview', exact: true }).waitFor();
      const body = page.locator('body');
      const shown = async () => ((await body.textContent()) ?? '').replace(/\s+/g, ' ');
      for (const route of routes) {
        const names = [route.title, ...route.names].filter((name): name is string => Boolean(name));
        await waitFor(`the preview to name the added route ${names[0]}`, async () => {
          const text = await shown();
          return names.some((name) => text.includes(name));
        }, {
          describe: shown,
        });
      }
      await waitForText(body, `proxy.httpsPort: 443 → ${httpsPort}`);
      assert.deepEqual(await listRoutes(fresh), [], 'the preview changes nothing');

      await page.getByRole('button', { name: 'Apply import', exact: true }).click();
      await waitForStatusMessage(page, 'Settings imported');
    } finally {
      await importer.close();
    }

    assert.deepEqual(await listRoutes(fresh), routes, 'every route, ids and fields, as on the first serve');
    assert.equal((await apiJson<GeneralSettings>(fresh, '/api/settings')).proxy.httpsPort, httpsPort);
    const port = await waitFor('the second proxy to run after the import', () => proxyPort(fresh));
    for (const [host, name] of [
      ['media.home.arpa', 'media'],
      ['jellyfin.home.arpa', 'media'],
      ['wiki.home.arpa', 'wiki'],
      ['files.nas.home.arpa', 'nas'],
    ] as const) {
      const response = await requestThrough(port, host);
      assert.equal(response.status, 200, `${host} answers through the second proxy`);
      assert.equal((JSON.parse(response.body) as EchoBody).upstream, name);
    }
    const wikiRequest = wiki.requests.at(-1)!;
    assert.equal(wikiRequest.headers.host, 'wiki.internal', 'the imported Host rewrite applies');
  });

  test('a file that is not a settings export shows the server message and changes nothing', async () => {
    const document = { format: 'gatehouse-settings', settings: { version: 2, routes: 'none' } };
    const refusal = await apiAnswer(fresh, '/api/settings/import/preview', { method: 'POST', body: { document } });
    assert.equal(refusal.status, 400);
    const message = refusal.body!.error!.message;
    const routesBefore = await listRoutes(fresh);
    const fileBefore = await settingsFile(fresh);
    const { page, close } = await openAdmin(browser, fresh, { hash: '#/settings' });
    try {
      await heading(page, 'Settings').waitFor();
      await page.getByLabel('Import settings file', { exact: true }).setInputFiles({
        name: 'not-settings.json',
        mimeType: 'application/json',
        buffer: Buffer.from(JSON.stringify(document)),
      });
      await waitFor(`the alert "${message}"`, async () => (await page.getByRole('alert').allTextContents()).some((text) => text.includes(message)), {
        describe: async () => (await page.getByRole('alert').allTextContents()).join(' | ') || '(no alert)',
      });
      assert.equal(await page.getByRole('button', { name: 'Apply import', exact: true }).count(), 0, 'nothing to apply');
      assert.deepEqual(await listRoutes(fresh), routesBefore);
      assert.equal(await settingsFile(fresh), fileBefore);
    } finally {
      await close();
    }
  });
});
