// The route form's HTTPS choices in Chromium against the real `gatehouse serve`: redirect and HSTS
// need a certificate, a name outside the local CA's domains is refused on Host names with the fix,
// and an imported certificate is chosen from the select and saved on the route.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { apiJson, heading, listRoutes, makeCertificate, startUiServe } from '../helpers/admin-ui.js';
import { browserMissing, launchBrowser, openAdmin, startTogether, waitFor } from '../helpers/browser.js';
import type { ServeProcess } from '../helpers/serve.js';
import { needTools } from '../helpers/tools.js';
import { startEchoUpstream, type Upstream } from '../helpers/upstream.js';
import type { CustomCertificate } from '../../shared/status.js';

describe('the route form’s HTTPS choices', { skip: browserMissing() || needTools('openssl') }, () => {
  let browser: Browser;
  let serve: ServeProcess;
  let upstream: Upstream;

  before(async () => {
    await startTogether([
      launchBrowser().then((b) => (browser = b)),
      startUiServe().then((s) => (serve = s)),
      startEchoUpstream('tls').then((u) => (upstream = u)),
    ]);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
    await upstream?.close();
  });

  test('redirect and HSTS are off without a certificate; a name outside the CA’s domains lands on Host names', async () => {
    const { page, close } = await openAdmin(browser, serve, { hash: '#/routes/new' });
    try {
      await heading(page, 'Add route').waitFor();
      const redirect = page.getByLabel('Redirect HTTP to HTTPS', { exact: true });
      const hsts = page.getByLabel('Send HSTS (browsers then refuse plain HTTP)', { exact: true });
      assert.equal(await redirect.isEnabled(), true);
      await page.getByRole('radio', { name: 'No HTTPS', exact: true }).check();
      assert.equal(await redirect.isDisabled(), true);
      assert.equal(await hsts.isDisabled(), true);
      await page.getByRole('radio', { name: "Certificate from Gatehouse's local CA", exact: true }).check();
      assert.equal(await hsts.isEnabled(), true);

      await page.getByLabel('Host names', { exact: true }).fill('nas.example.com');
      await page.getByLabel('Upstream', { exact: true }).fill(upstream.address);
      await page.getByRole('button', { name: 'Save route', exact: true }).click();
      const names = page.getByLabel('Host names', { exact: true });
      await waitFor('Host names marked invalid', async () => (await names.getAttribute('aria-invalid')) === 'true');
      const message = await names.evaluate((element) => document.getElementById(element.getAttribute('aria-describedby') ?? '')?.textContent ?? '');
      assert.match(message, /nas\.example\.com/, `the message names the name: ${message}`);
      assert.deepEqual(await listRoutes(serve), [], 'nothing was saved');
    } finally {
      await close();
    }
  });

  test('an imported certificate is chosen from the select and saved on the route', async () => {
    const made = await makeCertificate(['files.home.example']);
    const cert = await apiJson<CustomCertificate>(serve, '/api/certificates', { method: 'POST', body: { label: 'Files', ...made } });
    const { page, close } = await openAdmin(browser, serve, { hash: '#/routes/new' });
    try {
      await heading(page, 'Add route').waitFor();
      await page.getByRole('radio', { name: 'Imported certificate', exact: true }).check();
      const select = page.getByLabel('Certificate', { exact: true });
      await waitFor('the imported certificate listed', async () => (await select.locator('option').allTextContents()).some((text) => text.startsWith('Files')));
      await select.selectOption({ label: 'Files (files.home.example)' });
      await page.getByLabel('Title', { exact: true }).fill('Files');
      await page.getByLabel('Host names', { exact: true }).fill('files.home.example');
      await page.getByLabel('Upstream', { exact: true }).fill(upstream.address);
      await page.getByLabel('Redirect HTTP to HTTPS', { exact: true }).check();
      await page.getByRole('button', { name: 'Save route', exact: true }).click();
      await heading(page, 'Dashboard').waitFor();
      const [route] = await listRoutes(serve);
      assert.deepEqual(route?.tls, { mode: 'custom', certificateId: cert.id, acme: null, redirectHttp: true, hsts: false, proxyProtocol: 'off' as const });
    } finally {
      await close();
    }
  });
});
