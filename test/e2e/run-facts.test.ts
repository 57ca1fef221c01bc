// What a person sees in Chromium of the facts of this run, against a real `gatehouse serve` started
// with --http-port 0 --https-port 0 --bind 127.0.0.1: Settings says which values the flags override
// and takes the two v5 settings (with errors at the field); the Certificates page shows no QR code
// for a proxy bound to loopback and says why, and tells a headless user that "this machine" is the
// server; Discovery's probe says when a route already forwards to a port; the first-run ports step
// starts from the ports in use and does not save a port that failed its check. Each screen is shot
// at 390×844 and 1280×800 in light and dark (test-artifacts/screenshots/run-facts-*), and none may
// be wider than the window.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { GeneralSettings } from '../../shared/model.js';
import type { CertificatesOverview, ProxyStatus } from '../../shared/status.js';
import { addRoute, apiJson, heading, startUiServe } from '../helpers/admin-ui.js';
import { browserMissing, launchBrowser, navigate, openAdmin, SCREENSHOT_DIR, startTogether, waitFor, waitForText } from '../helpers/browser.js';
import { freePort } from '../helpers/ports.js';
import type { ServeProcess } from '../helpers/serve.js';
import { startEchoUpstream, type Upstream } from '../helpers/upstream.js';

const SIZES = [
  { width: 390, height: 844 },
  { width: 1280, height: 800 },
] as const;
const THEMES = ['light', 'dark'] as const;

/** The outermost elements that reach past the window's right edge, as "tag.class (right edge)". */
function tooWide(page: Page): Promise<string[]> {
  // A string, not a function: tsx would wrap a named inner function in a helper the page lacks.
  return page.evaluate(`(() => {
    const out = [];
    const stack = Array.from(document.body.children);
    while (stack.length > 0 && out.length < 8) {
      const element = stack.shift();
      const right = element.getBoundingClientRect().right;
      if (right > window.innerWidth + 0.5) out.push(element.tagName.toLowerCase() + (element.className ? '.' + String(element.className).split(' ')[0] : '') + ' (' + Math.round(right) + ')');
      else stack.push(...Array.from(element.children));
    }
    return out;
  })()`);
}

/**
 * Shoots the page at each size and theme, `focus` scrolled into view, and fails if the page or the
 * element `focus` is wider than the window at any of them.
 */
async function shoot(page: Page, name: string, focus: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  for (const size of SIZES) {
    await page.setViewportSize(size);
    for (const theme of THEMES) {
      await page.emulateMedia({ colorScheme: theme });
      await page.locator(focus).first().scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SCREENSHOT_DIR, `run-facts-${name}-${size.width}-${theme}.png`), animations: 'disabled' });
      const box = await page.locator(focus).first().boundingBox();
      assert.ok(box, `${focus} is on the page`);
      assert.ok(box.x >= 0 && box.x + box.width <= size.width + 0.5, `${name}: ${focus} fits in ${size.width} px (it spans ${box.x}–${box.x + box.width})`);
      assert.deepEqual(await tooWide(page), [], `${name}: nothing on the page is wider than ${size.width} px`);
    }
  }
  await page.setViewportSize(SIZES[1]);
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('the facts of this run, in the browser', { skip: browserMissing() }, () => {
  let browser: Browser;
  let serve: ServeProcess;
  let upstream: Upstream;
  let blocker: Server;

  before(async () => {
    await startTogether([
      launchBrowser().then((b) => (browser = b)),
      startUiServe().then((s) => (serve = s)),
      startEchoUpstream('run-facts').then((u) => (upstream = u)),
    ]);
    blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
    await upstream?.close();
    await new Promise((resolve) => blocker?.close(resolve));
  });

  test('Settings: a note beside each field a flag overrides; error details and admin names saved, a bad name shown at its field', async () => {
    const status = await apiJson<ProxyStatus>(serve, '/api/proxy');
    const { page, close } = await openAdmin(browser, serve, { hash: '#/settings' });
    try {
      await heading(page, 'Settings').waitFor();
      const hint = (id: string) => page.locator(`#${id}-hint`);
      await waitForText(hint('settings-http-port'), `The proxy uses port ${status.http!.port} (a free port, as 0 asks) for this run because serve was started with --http-port 0; the saved value 80 applies next time.`);
      await waitForText(hint('settings-https-port'), `The proxy uses port ${status.https!.port} (a free port, as 0 asks) for this run because serve was started with --https-port 0; the saved value 443 applies next time.`);
      await waitForText(hint('settings-bind-address'), 'The proxy uses address 127.0.0.1 for this run because serve was started with --bind 127.0.0.1; the saved value 0.0.0.0 applies next time.');

      await page.getByLabel('Nobody', { exact: true }).check();
      const hosts = page.getByLabel('Extra names for the admin', { exact: true });
      await hosts.fill('gatehouse.lan\nnot a name!');
      await page.getByRole('button', { name: 'Save settings', exact: true }).click();
      await waitFor('the host names field to be marked invalid', async () => (await hosts.getAttribute('aria-invalid')) === 'true');
      const message = await waitForText(page.locator('#settings-admin-hosts-error'), /\S/);
      assert.ok(message.length > 0);
      assert.deepEqual((await apiJson<GeneralSettings>(serve, '/api/settings')).admin.allowedHosts, [], 'nothing was sent');
      await shoot(page, 'settings-error', '#settings-admin-hosts');

      await hosts.fill('gatehouse.lan\nnas-admin.home.arpa');
      await page.getByRole('button', { name: 'Save settings', exact: true }).click();
      const saved = await waitFor('the settings to be saved', async () => {
        const settings = await apiJson<GeneralSettings>(serve, '/api/settings');
        return settings.admin.allowedHosts.length === 2 ? settings : null;
      });
      assert.deepEqual(saved.admin.allowedHosts, ['gatehouse.lan', 'nas-admin.home.arpa']);
      assert.equal(saved.proxy.errorDetails, 'nobody');
      assert.equal(saved.proxy.httpPort, 80, 'the ports were not sent: the flags still hold');
      await waitForText(hint('settings-http-port'), '--http-port 0');
      await shoot(page, 'settings', '#settings-http-port-hint');
    } finally {
      await close();
    }
  });

  test('Certificates: no QR code for a proxy on loopback, and why; on a headless server "this machine" is the server', async () => {
    const overview = await apiJson<CertificatesOverview>(serve, '/api/certificates');
    assert.deepEqual(overview.onboarding.urls, []);
    assert.equal(overview.onboarding.qr, null);
    assert.equal(overview.onboarding.problem?.code, 'proxy_loopback_only');

    const { page, close } = await openAdmin(browser, serve, { hash: '#/certificates' });
    try {
      await heading(page, 'Certificates').waitFor();
      const unreachable = page.locator('.unreachable');
      await waitForText(unreachable, 'No QR code: The proxy listens only on this machine (127.0.0.1), so phones and other computers cannot reach the onboarding page.');
      await waitForText(unreachable, 'Set the bind address to 0.0.0.0 in Settings');
      assert.equal(await page.getByRole('img', { name: /QR code/ }).count(), 0, 'no QR code image');
      assert.equal(await page.locator('a[href*="127.0.0.1"]').count(), 0, 'no link to a loopback onboarding page');
      await shoot(page, 'certificates-onboarding', '.unreachable');

      await page.getByRole('heading', { name: 'This machine: the server running Gatehouse', exact: true }).waitFor();
      await waitForText(page.locator('.server-note'), 'not the phone or computer you are using now');
      await waitForText(page.locator('.server-note'), 'For the device you are using, follow Other devices above');
      await shoot(page, 'certificates-trust', '.server-note');
    } finally {
      await close();
    }
  });

  test('Discovery: a probed port a route already forwards to says so and offers to open the route', async () => {
    const route = await addRoute(serve, { title: 'Echo', names: ['echo.home.arpa'], upstream: upstream.address });
    const { page, close } = await openAdmin(browser, serve, { hash: '#/discovery' });
    try {
      await heading(page, 'Discovery').waitFor();
      await page.getByLabel('Address', { exact: true }).fill('127.0.0.1');
      await page.getByLabel('Ports', { exact: true }).fill(String(upstream.port));
      await page.getByRole('button', { name: 'Probe', exact: true }).click();
      const table = page.getByRole('table', { name: 'Open ports' });
      await waitForText(table, `Port ${upstream.port} already has a route: echo.home.arpa`);
      assert.equal(await table.getByRole('button', { name: /^Map it/ }).count(), 0, 'no Map it for a mapped port');
      const open = table.getByRole('link', { name: 'Open echo.home.arpa' });
      assert.match((await open.getAttribute('href')) ?? '', /^http:\/\/echo\.home\.arpa:\d+\/$/);
      assert.equal(await table.getByRole('link', { name: 'Edit route Echo' }).getAttribute('href'), `#/routes/${route.id}`);
      await shoot(page, 'discovery-mapped', 'table[aria-label="Open ports"]');
    } finally {
      await close();
    }
  });

  test('first run: the ports in use, checked as this Gatehouse\'s own; a failed check is not saved without asking', async () => {
    await apiJson(serve, '/api/settings', { method: 'PATCH', body: { app: { onboarded: false } } });
    const status = await apiJson<ProxyStatus>(serve, '/api/proxy');
    const [httpNow, httpsNow] = [status.http!.port, status.https!.port];
    const { page, close } = await openAdmin(browser, serve);
    try {
      await heading(page, 'Welcome to Gatehouse').waitFor();
      const http = page.getByLabel('HTTP port', { exact: true });
      const https = page.getByLabel('HTTPS port', { exact: true });
      await waitFor('the ports in use to be prefilled', async () => (await http.inputValue()) === String(httpNow) && (await https.inputValue()) === String(httpsNow));
      await waitForText(page.locator('.run-flags'), 'was started with --http-port 0 --https-port 0 --bind 127.0.0.1');
      await page.getByRole('button', { name: 'Check ports', exact: true }).click();
      const results = page.getByRole('list', { name: 'Port check results' });
      await waitForText(results, `Port ${httpNow} is in use by this Gatehouse's proxy: fine`);
      await waitForText(results, `Port ${httpsNow} is in use by this Gatehouse's proxy: fine`);
      await shoot(page, 'welcome-own-ports', '.port-checks');

      const taken = (blocker.address() as { port: number }).port;
      await http.fill(String(taken));
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      const alert = page.locator('.confirm-failed');
      await waitForText(alert, `HTTP port ${taken} did not pass the check.`);
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      assert.equal((await apiJson<GeneralSettings>(serve, '/api/settings')).proxy.httpPort, 80, 'Continue saved nothing');
      await page.getByRole('heading', { name: 'Ports', exact: true }).waitFor();
      await shoot(page, 'welcome-failed', '.confirm-failed');

      const free = await freePort();
      await http.fill(String(free));
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      await page.getByRole('heading', { name: 'Add your first service', exact: true }).waitFor();
      const saved = await apiJson<GeneralSettings>(serve, '/api/settings');
      assert.deepEqual([saved.proxy.httpPort, saved.proxy.httpsPort], [free, httpsNow]);
      await navigate(page, '#/settings', 'Settings');
      await waitForText(page.locator('#settings-http-port-hint'), 'Usually 80.');
    } finally {
      await close();
    }
  });
});
