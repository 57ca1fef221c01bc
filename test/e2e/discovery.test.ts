// The Discovery page in Chromium against the real `gatehouse serve`, on the host network (mDNS off,
// as the test runner sets it): Probe a host finds a Jellyfin-like server on 127.0.0.1, Map it opens
// Add route prefilled from the preset, Save makes the route, and the route answers through the
// proxy. And the page's "off" state with its way back on, and the Settings toggle for lan.mdns.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { GeneralSettings } from '../../shared/model.js';
import type { AppPreset } from '../../shared/status.js';
import { apiJson, bodyRows, cell, heading, listRoutes, proxyPort, startUiServe, waitForStatusMessage } from '../helpers/admin-ui.js';
import { browserMissing, launchBrowser, navigate, openAdmin, saveScreenshot, startTogether, waitFor } from '../helpers/browser.js';
import type { ServeProcess } from '../helpers/serve.js';
import { requestThrough, startUpstream, type Upstream } from '../helpers/upstream.js';

const JELLYFIN_PAGE = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Jellyfin</title></head><body><div class="splashLogo"></div></body></html>';

/** Answers like a Jellyfin server's public endpoints: the system info and the web client's page. */
function startJellyfinLike(): Promise<Upstream> {
  return startUpstream((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/System/Info/Public') {
      const body = JSON.stringify({ LocalAddress: 'http://127.0.0.1', ServerName: 'x', Version: '10.10.0', ProductName: 'Jellyfin Server', OperatingSystem: '', Id: 'f3b7a0f4c2d94b2c9d2e1a0b9c8d7e6f', StartupWizardCompleted: true });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } else if (path === '/' || path === '/web/' || path === '/web/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(JELLYFIN_PAGE) });
      res.end(JELLYFIN_PAGE);
    } else {
      res.writeHead(404, { 'content-length': 0 });
      res.end();
    }
  });
}

describe('discovery in the browser', { skip: browserMissing() }, () => {
  let browser: Browser;
  let serve: ServeProcess;
  let jellyfin: Upstream;

  before(async () => {
    // These tests share the host's network: multicast DNS from them would leave the machine.
    assert.equal(process.env.GATEHOUSE_MDNS, 'off', 'run through scripts/test.mjs, which turns mDNS off on the host network');
    await startTogether([
      launchBrowser().then((b) => (browser = b)),
      startUiServe().then((s) => (serve = s)),
      startJellyfinLike().then((u) => (jellyfin = u)),
    ]);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
    await jellyfin?.close();
  });

  test('Probe a host finds Jellyfin on 127.0.0.1; Map it → Save route makes the route its preset describes', async () => {
    const { page, close } = await openAdmin(browser, serve);
    try {
      await page.getByRole('navigation', { name: 'Main', exact: true }).getByRole('link', { name: 'Discovery', exact: true }).click();
      await heading(page, 'Discovery').waitFor();

      // Keyboard: the address, the port, Enter submits.
      await page.getByLabel('Address', { exact: true }).fill('127.0.0.1');
      await page.getByLabel('Ports', { exact: true }).fill(String(jellyfin.port));
      await page.getByLabel('Ports', { exact: true }).press('Enter');
      const openPorts = page.getByRole('table', { name: 'Open ports', exact: true });
      const alerts = page.getByRole('alert');
      await waitFor('the probe to list open ports, or an alert', async () => (await openPorts.count()) > 0 || (await alerts.count()) > 0, { timeoutMs: 15_000 });
      assert.equal(await alerts.count(), 0, `the probe failed: ${(await alerts.allTextContents()).join(' | ')}`);
      const row = bodyRows(openPorts).filter({ hasText: String(jellyfin.port) });
      assert.equal(await row.count(), 1, 'one row for the port');
      assert.match((await cell(row, 'What it is')).text, /Jellyfin/);
      assert.ok(jellyfin.requests.some((request) => request.url === '/System/Info/Public'), 'identification asked the server itself');
      await saveScreenshot(page, 'discovery-probe-light');

      // Click 1: Map it.
      await row.getByRole('button', { name: /^Map it/ }).click();
      await heading(page, 'Add route').waitFor();
      assert.equal(await page.getByLabel('Title', { exact: true }).inputValue(), 'Jellyfin');
      assert.equal(await page.getByLabel('Host names', { exact: true }).inputValue(), 'jellyfin.local');
      assert.equal(await page.getByLabel('Upstream', { exact: true }).inputValue(), `http://127.0.0.1:${jellyfin.port}`);
      assert.equal(await page.getByLabel('Publish on the LAN (mDNS)', { exact: true }).isChecked(), true);
      assert.equal(await page.getByRole('radio', { name: "Certificate from Gatehouse's local CA", exact: true }).isChecked(), true);

      // Click 2: Save route.
      await page.getByRole('button', { name: 'Save route', exact: true }).click();
      await waitForStatusMessage(page, 'Route saved');
      await heading(page, 'Dashboard').waitFor();

      const presets = await apiJson<AppPreset[]>(serve, '/api/discovery/presets');
      const preset = presets.find((candidate) => candidate.app === 'Jellyfin');
      assert.ok(preset, `a Jellyfin preset (presets: ${presets.map((candidate) => candidate.app).join(', ')})`);
      const routes = await listRoutes(serve);
      assert.equal(routes.length, 1);
      const route = routes[0]!;
      assert.equal(route.title, 'Jellyfin');
      assert.deepEqual(route.names, ['jellyfin.local']);
      assert.equal(route.upstreams[0]?.url, `http://127.0.0.1:${jellyfin.port}`);
      assert.equal(route.publishOnLan, true);
      assert.equal(route.tls.mode, 'local');
      assert.equal(route.websocket, preset.websocket);
      assert.equal(route.insecureUpstreamTls, false, 'a plain-HTTP upstream');

      const answer = await requestThrough((await proxyPort(serve))!, 'jellyfin.local', '/');
      assert.equal(answer.status, 200);
      assert.match(answer.body, /<title>Jellyfin<\/title>/, 'the new route reaches the server that was probed');
    } finally {
      await close();
    }
  });

  test('Settings turns lan.mdns off and on; Discovery then says it is off, with the button that turns it back on', async () => {
    const { page, close } = await openAdmin(browser, serve, { hash: '#/settings' });
    try {
      await heading(page, 'Settings').waitFor();
      const toggle = page.getByLabel('Use multicast DNS on the LAN', { exact: true });
      assert.equal(await toggle.isChecked(), true, 'on by default');
      await toggle.uncheck();
      await page.getByRole('button', { name: 'Save settings', exact: true }).click();
      await waitForStatusMessage(page, 'Settings saved');
      assert.equal((await apiJson<GeneralSettings>(serve, '/api/settings')).lan.mdns, false);

      await page.reload();
      await heading(page, 'Settings').waitFor();
      await waitFor('the toggle to show the saved setting after a reload', async () => (await toggle.isChecked()) === false);

      await navigate(page, '#/discovery', 'Discovery');
      await page.getByRole('heading', { name: 'Discovery is off', exact: true }).waitFor();
      await page.getByText('Multicast DNS is turned off in Settings').waitFor();
      assert.equal(await page.getByRole('table', { name: 'Services on the LAN' }).count(), 0, 'no list while off');
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await saveScreenshot(page, `discovery-off-${scheme}`);
      }

      const turnOn = page.getByRole('button', { name: 'Turn on multicast DNS', exact: true });
      await turnOn.click();
      await waitForStatusMessage(page, 'Multicast DNS turned on');
      assert.equal((await apiJson<GeneralSettings>(serve, '/api/settings')).lan.mdns, true);
      await waitFor('the button to go once the setting is on', async () => (await turnOn.count()) === 0);

      await navigate(page, '#/settings', 'Settings');
      assert.equal(await toggle.isChecked(), true, 'the Settings page shows the change made on the Discovery page');
    } finally {
      await close();
    }
  });
});
