// Every page in light and dark, as test artifacts (test-artifacts/screenshots/<page>-<theme>.png; at
// 390×844 and 1280×800 also <page>-phone|desktop-<theme>.png for the phone layout of issue 12),
// each taken once the page shows what it is about; plus a check that the two themes really differ.
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { SettingsExport } from '../../shared/status.js';
import { addRoute, apiJson, bodyRows, cell, heading, proxyPort, routeRow, startUiServe } from '../helpers/admin-ui.js';
import { browserMissing, startTogether, launchBrowser, navigate, openAdmin, pngInfo, saveScreenshot, SCREENSHOT_DIR, VIEWPORT, waitFor } from '../helpers/browser.js';
import { DESKTOP, PHONE } from '../helpers/layout.js';
import { freePort } from '../helpers/ports.js';
import type { ServeProcess } from '../helpers/serve.js';
import { requestThrough, startEchoUpstream, type Upstream } from '../helpers/upstream.js';

const THEMES = ['light', 'dark'] as const;
const PAGES = ['welcome', 'dashboard-empty', 'dashboard', 'route-form-error', 'logs', 'settings-import-preview', 'certificates'];

/** Shoots the page as it is now in both themes; returns each theme's page background colour. */
async function shootBothThemes(page: Page, name: string): Promise<Record<string, string>> {
  const backgrounds: Record<string, string> = {};
  for (const theme of THEMES) {
    await page.emulateMedia({ colorScheme: theme });
    await page.waitForFunction((dark) => matchMedia('(prefers-color-scheme: dark)').matches === dark, theme === 'dark');
    await page.evaluate(() => document.fonts.ready.then(() => undefined));
    // No named functions inside: tsx would wrap them in a helper (__name) the page does not have.
    backgrounds[theme] = await page.evaluate(
      () =>
        [document.querySelector('main'), document.body, document.documentElement]
          .map((element) => (element ? getComputedStyle(element).backgroundColor : ''))
          .find((color) => color !== '' && color !== 'rgba(0, 0, 0, 0)' && color !== 'transparent') ?? 'transparent',
    );
    await saveScreenshot(page, `${name}-${theme}`);
  }
  return backgrounds;
}

/**
 * Shoots the page at the current viewport in both themes as NAME-SCREEN-THEME.png and checks each
 * file: a PNG at least the screen's size, and more than a blank page compresses to. `fullPage`
 * false keeps what a person sees on the screen (an open menu, a dialog).
 */
async function shootScreen(page: Page, name: string, screen: keyof typeof SCREENS, fullPage = true): Promise<void> {
  const { width, height } = SCREENS[screen];
  for (const theme of THEMES) {
    await page.emulateMedia({ colorScheme: theme });
    await page.waitForFunction((dark) => matchMedia('(prefers-color-scheme: dark)').matches === dark, theme === 'dark');
    await page.evaluate(() => document.fonts.ready.then(() => undefined));
    const path = join(SCREENSHOT_DIR, `${name}-${screen}-${theme}.png`);
    await page.screenshot({ path, fullPage, animations: 'disabled' });
    const info = await pngInfo(path);
    assert.ok(info.width === width && info.height >= height && info.bytes > 8 * 1024, `${path} is a real ${width} px screenshot (${JSON.stringify(info)})`);
  }
}

const SCREENS = { phone: PHONE, desktop: DESKTOP };

describe('screenshots of every page, light and dark', { skip: browserMissing() }, () => {
  let browser: Browser;
  let serve: ServeProcess;
  let upstream: Upstream;
  let gone: Upstream;

  before(async () => {
    await startTogether([
      launchBrowser().then((b) => (browser = b)),
      startUiServe({ firstRun: true }).then((s) => (serve = s)),
      startEchoUpstream('shots').then((u) => (upstream = u)),
      startEchoUpstream('gone').then((u) => (gone = u)),
    ]);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
    await upstream?.close();
    await gone?.close();
  });

  test('welcome, dashboard (empty and with routes), route form with an error, logs, settings with import preview, certificates', async () => {
    const started = Date.now();
    const { page, close } = await openAdmin(browser, serve);
    try {
      await heading(page, 'Welcome to Gatehouse').waitFor();
      await shootBothThemes(page, 'welcome');

      await apiJson(serve, '/api/settings', { method: 'PATCH', body: { app: { onboarded: true } } });
      await navigate(page, '#/', 'Dashboard');
      await page.getByText('No routes yet').waitFor();
      const empty = await shootBothThemes(page, 'dashboard-empty');
      assert.notEqual(empty.light, empty.dark, `the page background follows the colour scheme (light ${empty.light}, dark ${empty.dark})`);

      await addRoute(serve, { title: 'Jellyfin', names: ['jellyfin.home.arpa', 'media.home.arpa'], upstream: upstream.address });
      await addRoute(serve, { title: 'Proxmox', names: ['pve.home.arpa'], upstream: `https://127.0.0.1:${await freePort()}`, insecureUpstreamTls: true });
      await addRoute(serve, { title: 'Old NAS', names: ['nas.home.arpa'], upstream: gone.address });
      await gone.close();
      const port = (await proxyPort(serve))!;
      for (let i = 0; i < 4; i++) await requestThrough(port, 'jellyfin.home.arpa', `/Items/${i}`);
      await requestThrough(port, 'nas.home.arpa', '/share');
      await requestThrough(port, 'unknown.home.arpa', '/');
      const jellyfin = routeRow(page, 'Jellyfin');
      await waitFor('Jellyfin Up and Old NAS Down', async () => /\bUp\b/.test((await cell(jellyfin, 'Status')).text) && /\bDown\b/.test((await cell(routeRow(page, 'Old NAS'), 'Status')).text), {
        timeoutMs: 15_000,
      });
      await shootBothThemes(page, 'dashboard');

      await navigate(page, '#/routes/new', 'Add route');
      await page.getByLabel('Title', { exact: true }).fill('Broken');
      await page.getByLabel('Host names', { exact: true }).fill('https://broken.home.arpa/');
      await page.getByLabel('Upstream', { exact: true }).fill('10.33.0.4');
      await page.getByRole('button', { name: 'Save route', exact: true }).click();
      await page.locator('[aria-invalid="true"]').first().waitFor();
      await shootBothThemes(page, 'route-form-error');

      await navigate(page, '#/logs', 'Logs');
      await waitFor('the access log to list requests', async () => (await bodyRows(page.getByRole('table', { name: 'Access log', exact: true })).filter({ hasText: '/Items/' }).count()) > 0);
      await shootBothThemes(page, 'logs');

      const exported = await apiJson<SettingsExport>(serve, '/api/settings/export');
      exported.settings.proxy.httpPort = 8080;
      exported.settings.routes = exported.settings.routes.filter((route) => route.title !== 'Old NAS');
      exported.settings.routes.push({ ...exported.settings.routes[0]!, id: 'imported-wiki', title: 'Wiki', names: ['wiki.home.arpa'] });
      exported.settings.routes[0] = { ...exported.settings.routes[0]!, websocket: false };
      await navigate(page, '#/settings', 'Settings');
      await page.getByLabel('Import settings file', { exact: true }).setInputFiles({ name: 'backup.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(exported)) });
      await page.getByRole('heading', { name: 'Import preview', exact: true }).waitFor();
      await shootBothThemes(page, 'settings-import-preview');
      await page.getByRole('button', { name: 'Cancel', exact: true }).click();

      await navigate(page, '#/certificates', 'Certificates');
      await page.getByText(/SHA-256/).first().waitFor();
      // serve listens on 127.0.0.1 here: no QR code a phone could not use, and the reason instead.
      await page.getByText('No QR code:').waitFor();
      await shootBothThemes(page, 'certificates');
    } finally {
      await close();
    }

    const files = new Set(await readdir(SCREENSHOT_DIR));
    for (const name of PAGES) {
      for (const theme of THEMES) {
        const file = `${name}-${theme}.png`;
        assert.ok(files.has(file), `${file} was written`);
        const info = await pngInfo(join(SCREENSHOT_DIR, file));
        assert.ok((await stat(join(SCREENSHOT_DIR, file))).mtimeMs >= started - 1000, `${file} is from this run`);
        assert.ok(info.width >= VIEWPORT.width && info.height >= VIEWPORT.height && info.bytes > 8 * 1024, `${file} is a real screenshot (${JSON.stringify(info)})`);
      }
    }
  });

  test('phone and desktop: dashboard, logs with a line opened, the route form, the Access page, the menu open on the phone', async () => {
    if ((await apiJson<unknown[]>(serve, '/api/routes')).length === 0) {
      await addRoute(serve, { title: 'Jellyfin', names: ['jellyfin.home.arpa'], upstream: upstream.address });
    }
    await apiJson(serve, '/api/settings', { method: 'PATCH', body: { app: { onboarded: true } } });
    const port = (await proxyPort(serve))!;
    await requestThrough(port, 'jellyfin.home.arpa', '/web/index.html');
    await requestThrough(port, 'nas.home.arpa', '/share');
    const { page, close } = await openAdmin(browser, serve);
    try {
      for (const screen of ['phone', 'desktop'] as const) {
        await page.setViewportSize(SCREENS[screen]);
        await navigate(page, '#/', 'Dashboard');
        await page.getByRole(screen === 'phone' ? 'list' : 'table', { name: 'Routes', exact: true }).waitFor();
        await shootScreen(page, 'dashboard', screen);

        if (screen === 'phone') {
          await page.getByRole('button', { name: 'Menu', exact: true }).click();
          await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Logs', exact: true }).waitFor();
          await shootScreen(page, 'nav-open', screen, false);
          await page.keyboard.press('Escape');
        }

        await navigate(page, '#/logs', 'Logs');
        const toggle = page.locator('tbody.failed button[aria-expanded]').first();
        await toggle.waitFor();
        await toggle.click();
        await page.locator('tr.details').first().waitFor();
        await shootScreen(page, 'logs-expanded', screen);

        await navigate(page, '#/routes/new', 'Add route');
        await shootScreen(page, 'add-route', screen);

        await navigate(page, '#/access', 'Access');
        await page.getByRole('heading', { name: 'Would this address get in?', exact: true }).waitFor();
        await shootScreen(page, 'access', screen);
      }
    } finally {
      await close();
    }
  });
});
