// The Let's Encrypt UI in Chromium against a real `gatehouse serve`, a real Pebble (the ACME CA) and
// a real bind9 (the "public" DNS, through GATEHOUSE_DNS_SERVER; Pebble resolves through it too).
// Serve's HTTP listener is on Pebble's HTTP-01 port, so the CA's checks go through the real proxy.
// An account at a private directory is refused on the CA certificate field until its CA is pasted;
// an RFC 2136 provider passes its test; a route's setup check passes; the certificate is issued,
// renewed with a new fingerprint, and a renewal that cannot pass (the name moved to 127.0.0.2) shows
// one sentence, the fix and the CA's answer behind "Details", with the old certificate still valid.
// Screenshots of the page and the route form's setup check as they are then, at a phone's and a
// desktop's width, light and dark, with nothing wider than the screen.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { apiJson, certificatesOverview, heading, listRoutes, waitForStatusMessage } from '../helpers/admin-ui.js';
import { startBind9, needBind9, type Bind9 } from '../helpers/bind9.js';
import { browserMissing, launchBrowser, navigate, openAdmin, saveScreenshot, startTogether, waitFor } from '../helpers/browser.js';
import { DESKTOP, overflowReport, PHONE } from '../helpers/layout.js';
import { needPebble, startPebble, type Pebble } from '../helpers/pebble.js';
import { freePort } from '../helpers/ports.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { startEchoUpstream, type Upstream } from '../helpers/upstream.js';
import type { RouteCertificate } from '../../shared/status.js';

const NAME = 'app.test.example';

/** The text of the elements a control's aria-describedby names. */
function description(control: Locator): Promise<string> {
  return control.evaluate((element) =>
    (element.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .map((id) => document.getElementById(id)?.textContent ?? '')
      .join(' ')
      .trim(),
  );
}

describe('the Let’s Encrypt UI against a real serve, Pebble and bind9', { skip: browserMissing() || needPebble() || needBind9() }, () => {
  let browser: Browser;
  let bind: Bind9;
  let pebble: Pebble;
  let serve: ServeProcess;
  let upstream: Upstream;
  let page: Page;
  let close: () => Promise<void>;

  before(async () => {
    await startTogether([
      launchBrowser().then((b) => (browser = b)),
      startEchoUpstream('app').then((u) => (upstream = u)),
      (async () => {
        bind = await startBind9({ zones: ['test.example'], records: [`${NAME}. 60 IN A 127.0.0.1`] });
        // Pebble first, on a free port; then serve's HTTP listener takes that port for HTTP-01.
        pebble = await startPebble({ dnsServer: bind.address, httpPort: await freePort() });
        serve = await startServe({ args: ['--bind', '127.0.0.1'], httpPort: pebble.httpPort, env: { GATEHOUSE_DNS_SERVER: bind.address, GATEHOUSE_ACME_HTTP_PORT: String(pebble.httpPort) } });
        await apiJson(serve, '/api/settings', { method: 'PATCH', body: { app: { onboarded: true } } });
      })(),
    ]);
    ({ page, close } = await openAdmin(browser, serve, { hash: '#/certificates', viewport: DESKTOP }));
  });

  after(async () => {
    await close?.();
    await browser?.close();
    await serve?.stop();
    await pebble?.close();
    await bind?.close();
    await upstream?.close();
  });

  const certificate = async (): Promise<RouteCertificate | undefined> => (await certificatesOverview(serve)).routes.find((cert) => cert.names.includes(NAME));

  test('an account at a private directory: refused on the CA field until its CA is pasted, then created', async () => {
    await heading(page, 'Certificates').waitFor();
    await page.getByRole('button', { name: 'Add account', exact: true }).click();
    const form = page.getByRole('form', { name: 'Add an ACME account' });
    await form.getByLabel('Other directory URL', { exact: false }).check();
    await form.getByLabel('Directory URL', { exact: true }).fill(pebble.directoryUrl);
    await form.getByRole('button', { name: 'Continue', exact: true }).click();
    const ca = form.getByLabel('CA certificate of this directory', { exact: true });
    await waitFor('the CA field marked invalid', async () => (await ca.getAttribute('aria-invalid')) === 'true');
    assert.match(await description(ca), /not trusted here/);
    assert.match(await form.getByRole('alert').innerText(), /"CA certificate of this directory" field/, 'the fix names the field');

    await ca.fill(pebble.apiCa);
    await form.getByRole('button', { name: 'Continue', exact: true }).click();
    const terms = form.getByLabel('I accept the terms of service');
    await form.getByRole('button', { name: 'Create account', exact: true }).waitFor();
    if ((await terms.count()) > 0) {
      await form.getByRole('button', { name: 'Create account', exact: true }).click();
      await waitFor('the terms box marked invalid', async () => (await terms.getAttribute('aria-invalid')) === 'true');
      await terms.check();
    }
    await form.getByLabel('Name', { exact: true }).fill('Home Pebble');
    await form.getByRole('button', { name: 'Create account', exact: true }).click();
    await waitForStatusMessage(page, 'Account created: Home Pebble');
    const item = page.locator('section[aria-labelledby="acme-accounts-heading"] ul > li').filter({ hasText: 'Home Pebble' });
    await item.getByText('trusts its own CA', { exact: false }).waitFor();
    await item.getByText('Registered', { exact: true }).waitFor();
  });

  test('an RFC 2136 provider (the bind9) is added through the form and passes its test', async () => {
    await page.getByRole('button', { name: 'Add DNS provider', exact: true }).click();
    const form = page.getByRole('form', { name: 'Add a DNS provider' });
    await form.getByLabel('Kind', { exact: true }).selectOption('rfc2136');
    await form.getByLabel('Name', { exact: true }).fill('Home BIND');
    await form.getByLabel('Name server', { exact: true }).fill(bind.address);
    await form.getByLabel('Zone (optional)', { exact: true }).fill('test.example');
    await form.getByLabel('TSIG key name', { exact: true }).fill(bind.acmeKey.name);
    await form.getByLabel('TSIG algorithm', { exact: true }).selectOption(bind.acmeKey.algorithm);
    await form.getByLabel('TSIG secret (base64)', { exact: true }).fill(bind.acmeKey.secret);
    await form.getByRole('button', { name: 'Add DNS provider', exact: true }).click();
    await waitForStatusMessage(page, 'DNS provider added: Home BIND');
    assert.equal(await page.getByText(bind.acmeKey.secret).count(), 0, 'the secret is nowhere on the page');

    const item = page.locator('section[aria-labelledby="dns-providers-heading"] ul > li').filter({ hasText: 'Home BIND' });
    await item.getByRole('button', { name: 'Test Home BIND', exact: true }).click();
    await item.getByLabel('A name in the zone to test with').fill(NAME);
    await item.getByRole('button', { name: 'Run test', exact: true }).click();
    const result = item.getByRole('list', { name: 'Test of Home BIND' });
    await result.waitFor({ timeout: 20_000 });
    assert.match(await result.innerText(), /^Passed:/m, await result.innerText());
  });

  test('a route with the HTTP challenge: its setup check passes, and once saved its certificate is issued', async () => {
    await navigate(page, '#/routes/new', 'Add route');
    await page.getByLabel('Title', { exact: true }).fill('App');
    await page.getByLabel('Host names', { exact: true }).fill(NAME);
    await page.getByLabel('Upstream', { exact: true }).fill(upstream.address);
    await page.getByRole('radio', { name: "Certificate from Let's Encrypt (or another ACME certificate authority)" }).check();
    const account = page.getByLabel('Account', { exact: true });
    await waitFor('the account chosen', async () => ((await account.inputValue()) !== '' ? true : null));
    await page.getByLabel('HTTP (port 80 must reach this machine)').check();
    await page.getByRole('button', { name: 'Check setup', exact: true }).click();
    const checklist = page.getByRole('list', { name: 'Setup check for this route' });
    await checklist.waitFor({ timeout: 20_000 });
    const text = await checklist.innerText();
    assert.doesNotMatch(text, /Failed:/, text);
    assert.match(text, new RegExp(`Passed:.*${NAME.replace(/\./g, '\\.')}.*public DNS`, 'i'), text);
    assert.match(text, /Passed:.*(HTTP|port)/i, text);

    await page.getByRole('button', { name: 'Save route', exact: true }).click();
    await heading(page, 'Dashboard').waitFor();
    await navigate(page, '#/certificates', 'Certificates');
    const row = page.getByRole('row').filter({ hasText: NAME }).first();
    await row.getByText('Issued by', { exact: false }).waitFor({ timeout: 30_000 });
    const cert = await waitFor('the certificate valid', async () => ((await certificate())?.state === 'valid' ? await certificate() : null), { timeoutMs: 30_000 });
    assert.match(await row.innerText(), /Issued by .*Pebble/i);
    await page.locator('.acme-details').filter({ hasText: cert!.fingerprintSha256!.slice(0, 11) }).waitFor();
    assert.match(await page.locator('.acme-details').innerText(), /Next renewal/i);
  });

  test('"Renew now" gets a new certificate; when the CA cannot reach the name, one sentence and the fix, the old one kept', async () => {
    const first = (await certificate())!.fingerprintSha256!;
    await page.getByRole('button', { name: 'Renew now for App', exact: true }).click();
    await waitForStatusMessage(page, 'Certificate renewed: App');
    const second = (await certificate())!.fingerprintSha256!;
    assert.notEqual(second, first, 'a new certificate');
    await page.locator('.acme-details').filter({ hasText: second.slice(0, 11) }).waitFor();

    await bind.update('test.example', [`update delete ${NAME}. A`, `update add ${NAME}. 60 A 127.0.0.2`]);
    await page.getByRole('button', { name: 'Renew now for App', exact: true }).click();
    const section = page.locator('section[aria-labelledby="route-certs-heading"]');
    await waitFor('the renewal failed, said in the status region', async () => (await page.getByRole('status').allTextContents()).some((text) => text.includes('Renewal failed: App')) || null, {
      timeoutMs: 30_000,
      describe: () => section.innerText(),
    });
    const problem = page.locator('.acme-details .acme-problem');
    await problem.waitFor();
    const said = await problem.innerText();
    assert.match(said, /What to do: /, said);
    assert.equal(await problem.locator('pre').isVisible(), false, 'the raw answer waits behind details');
    await problem.locator('summary').first().click();
    await problem.locator('pre').waitFor();
    assert.equal(await section.getByRole('alert').count(), 0, 'the failure is said once, under the certificate, not again in an alert');
    const row = page.getByRole('row').filter({ hasText: NAME }).first();
    assert.match(await row.innerText(), /Valid for \d+ days more; the last renewal failed/);
    const kept = (await certificate())!;
    assert.equal(kept.fingerprintSha256, second, 'the old certificate is still the one served');
    assert.ok(new Date(kept.notAfter!).getTime() > Date.now());
  });

  test('the page with all of it fits a phone and a desktop, light and dark', async () => {
    for (const [viewport, size] of [
      [PHONE, 'phone'],
      [DESKTOP, 'desktop'],
    ] as const) {
      for (const colorScheme of ['light', 'dark'] as const) {
        const view = await openAdmin(browser, serve, { hash: '#/certificates', viewport, colorScheme });
        try {
          await view.page.locator('.acme-details .acme-problem').waitFor();
          const report = await overflowReport(view.page);
          assert.deepEqual(report.offenders, [], `nothing wider than the ${size}: ${report.offenders.join('; ')}`);
          await saveScreenshot(view.page, `acme-real-certificates-${size}-${colorScheme}`);
          if (size === 'phone') {
            // The account form is as narrow as a phone on a desktop too (40rem at most).
            await view.page.getByRole('button', { name: 'Add account', exact: true }).click();
            await view.page.getByRole('form', { name: 'Add an ACME account' }).getByLabel('Other directory URL', { exact: false }).check();
            const formReport = await overflowReport(view.page);
            assert.deepEqual(formReport.offenders, [], `the account form fits the ${size}: ${formReport.offenders.join('; ')}`);
            await saveScreenshot(view.page, `acme-real-account-form-${size}-${colorScheme}`);

            // The route form's setup check, now that the name points where the CA cannot reach.
            const [route] = await listRoutes(serve);
            await navigate(view.page, `#/routes/${route!.id}`, 'Edit route');
            await view.page.getByRole('button', { name: 'Check setup', exact: true }).click();
            const checklist = view.page.getByRole('list', { name: 'Setup check for this route' });
            await checklist.waitFor({ timeout: 20_000 });
            assert.match(await checklist.innerText(), /Failed:/, 'the port check fails for 127.0.0.2');
            const routeReport = await overflowReport(view.page);
            assert.deepEqual(routeReport.offenders, [], `the route form fits the ${size}: ${routeReport.offenders.join('; ')}`);
            await saveScreenshot(view.page, `acme-real-route-form-${size}-${colorScheme}`);
          }
        } finally {
          await view.close();
        }
      }
    }
  });
});
