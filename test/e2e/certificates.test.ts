// The Certificates page in Chromium against the real `gatehouse serve`: the fingerprint it shows is
// the CA's (and the downloaded .crt is that CA, read by openssl), a certificate made by openssl is
// imported and listed, a key that does not match is refused on its field, a route saved from the
// form with the local CA gets a valid certificate, and changing the CA's domains asks first.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { bodyRows, cell, certificatesOverview, heading, makeCertificate, routeRow, startUiServe, waitForStatusMessage } from '../helpers/admin-ui.js';
import { browserMissing, launchBrowser, navigate, openAdmin, saveScreenshot, startTogether, waitFor, waitForText } from '../helpers/browser.js';
import { openssl } from '../helpers/openssl.js';
import type { ServeProcess } from '../helpers/serve.js';
import { needTools } from '../helpers/tools.js';
import { startEchoUpstream, type Upstream } from '../helpers/upstream.js';

/** The accessible description of a field: the message its aria-describedby points at. */
function describedBy(page: Page, label: string): Promise<string> {
  return page.getByLabel(label, { exact: true }).evaluate((element) =>
    (element.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .map((id) => document.getElementById(id)?.textContent ?? '')
      .join(' ')
      .trim(),
  );
}

describe('the Certificates page', { skip: browserMissing() || needTools('openssl') }, () => {
  let browser: Browser;
  let serve: ServeProcess;
  let upstream: Upstream;
  let downloads: string;

  before(async () => {
    downloads = await mkdtemp(join(tmpdir(), 'gatehouse-downloads-'));
    await startTogether([
      launchBrowser().then((b) => (browser = b)),
      startUiServe().then((s) => (serve = s)),
      startEchoUpstream('wiki').then((u) => (upstream = u)),
    ]);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
    await upstream?.close();
    await rm(downloads, { recursive: true, force: true });
  });

  test('shows the CA’s real fingerprint, and the .crt download is that CA in DER', async () => {
    const { ca } = await certificatesOverview(serve);
    const { page, close } = await openAdmin(browser, serve);
    try {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Certificates', exact: true }).click();
      await heading(page, 'Certificates').waitFor();
      await page.getByText(ca.fingerprintSha256, { exact: true }).first().waitFor();
      await page.getByText(ca.keyType, { exact: true }).waitFor();

      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CA (.crt)', exact: true }).click()]);
      assert.match(download.suggestedFilename(), /\.crt$/);
      const file = join(downloads, download.suggestedFilename());
      await download.saveAs(file);
      const read = await openssl('x509', '-inform', 'der', '-in', file, '-noout', '-fingerprint', '-sha256');
      assert.equal(read.code, 0, read.output);
      assert.equal(/Fingerprint=([0-9A-F:]+)/i.exec(read.output)?.[1]?.toUpperCase(), ca.fingerprintSha256.toUpperCase());
    } finally {
      await close();
    }
  });

  test('imports a certificate made by openssl, and refuses a key that does not match on its field', async () => {
    const good = await makeCertificate(['nas.home.example', '*.home.example']);
    const other = await makeCertificate(['other.home.example']);
    const { page, close } = await openAdmin(browser, serve, { hash: '#/certificates' });
    try {
      await heading(page, 'Certificates').waitFor();
      await page.getByLabel('Label', { exact: true }).fill('Home wildcard');
      await page.getByLabel('Certificate (PEM)', { exact: true }).fill(good.certificatePem);
      await page.getByLabel('Private key (PEM)', { exact: true }).fill(other.privateKeyPem);
      await page.getByRole('button', { name: 'Import certificate', exact: true }).click();
      const key = page.getByLabel('Private key (PEM)', { exact: true });
      await waitFor('the key field marked invalid', async () => (await key.getAttribute('aria-invalid')) === 'true');
      const message = await describedBy(page, 'Private key (PEM)');
      assert.match(message, /key/i, `the key field says what is wrong: ${message}`);
      assert.equal((await certificatesOverview(serve)).custom.length, 0, 'nothing was imported');

      await key.fill(good.privateKeyPem);
      await page.getByRole('button', { name: 'Import certificate', exact: true }).click();
      await waitForStatusMessage(page, 'Certificate imported: Home wildcard');
      const table = page.getByRole('table', { name: 'Imported certificates', exact: true });
      const row = bodyRows(table).filter({ hasText: 'Home wildcard' });
      await row.waitFor();
      assert.match((await cell(row, 'Names')).text, /nas\.home\.example/);
      assert.equal((await cell(row, 'Used by')).text, 'No route');
      const overview = await certificatesOverview(serve);
      assert.deepEqual(overview.custom.map((cert) => cert.label), ['Home wildcard']);
    } finally {
      await close();
    }
  });

  test('a route saved from the form with the local CA gets a valid certificate, shown here and on the dashboard', async () => {
    const { page, close } = await openAdmin(browser, serve, { hash: '#/routes/new' });
    try {
      await heading(page, 'Add route').waitFor();
      const https = page.getByRole('group', { name: 'HTTPS', exact: true });
      assert.equal(await https.getByRole('radio', { name: "Certificate from Gatehouse's local CA", exact: true }).isChecked(), true, 'new routes default to the local CA');
      await page.getByLabel('Title', { exact: true }).fill('Wiki');
      await page.getByLabel('Host names', { exact: true }).fill('wiki.home.arpa');
      await page.getByLabel('Upstream', { exact: true }).fill(upstream.address);
      await page.getByRole('button', { name: 'Save route', exact: true }).click();
      await heading(page, 'Dashboard').waitFor();
      await waitForText(routeRow(page, 'Wiki').locator('td.https'), /^HTTPS, valid until \d{1,2} [A-Z][a-z]{2} \d{4}$/);
      const link = routeRow(page, 'Wiki').getByRole('link', { name: 'wiki.home.arpa', exact: true });
      assert.match((await link.getAttribute('href')) ?? '', /^https:\/\/wiki\.home\.arpa(:\d+)?\/$/);

      await navigate(page, '#/certificates', 'Certificates');
      const table = page.getByRole('table', { name: 'Route certificates', exact: true });
      const row = bodyRows(table).filter({ hasText: 'Wiki' });
      await waitForText(row, /Valid/);
      assert.equal((await cell(row, 'Mode')).text, 'Local CA');
      assert.equal((await cell(row, 'State')).text, 'Valid');
      assert.match((await cell(row, 'Names')).text, /wiki\.home\.arpa/);
      const overview = await certificatesOverview(serve);
      assert.equal(overview.routes.find((cert) => cert.names.includes('wiki.home.arpa'))?.state, 'valid');
    } finally {
      await close();
    }
  });

  test('changing the CA’s domains asks first; Cancel keeps the CA, "Create new CA" replaces it', async () => {
    const before = (await certificatesOverview(serve)).ca;
    const { page, close } = await openAdmin(browser, serve, { hash: '#/certificates' });
    try {
      await heading(page, 'Certificates').waitFor();
      await saveScreenshot(page, 'certificates-light');
      await page.emulateMedia({ colorScheme: 'dark' });
      await saveScreenshot(page, 'certificates-dark');
      await page.emulateMedia({ colorScheme: 'light' });

      await page.getByRole('button', { name: 'Change domains…', exact: true }).click();
      const domains = page.getByLabel('Domains', { exact: true });
      await domains.fill([...before.permittedDomains, 'home.example'].join('\n'));
      await page.getByRole('button', { name: 'Save domains', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Replace the local CA?', exact: true });
      await dialog.waitFor();
      assert.match((await dialog.textContent()) ?? '', /must install the new one/);
      await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
      await dialog.waitFor({ state: 'detached' });
      assert.equal((await certificatesOverview(serve)).ca.fingerprintSha256, before.fingerprintSha256, 'Cancel changed nothing');

      await page.getByRole('button', { name: 'Save domains', exact: true }).click();
      await dialog.getByRole('button', { name: 'Create new CA', exact: true }).click();
      await waitForStatusMessage(page, 'New local CA created');
      const after = (await certificatesOverview(serve)).ca;
      assert.notEqual(after.fingerprintSha256, before.fingerprintSha256);
      assert.ok(after.permittedDomains.includes('home.example'));
      await page.getByText(after.fingerprintSha256, { exact: true }).first().waitFor();
    } finally {
      await close();
    }
  });
});
