// The Let's Encrypt UI in Chromium: the built pages (dist/renderer) with the dev fake as their
// Gatehouse (src-renderer/dev/fake-bridge.ts, as the screenshot script injects it). Adding an
// account at a directory that needs terms and EAB, a DNS provider whose credentials are write-only,
// its test, a removal refused naming the routes, an ACME certificate's rate-limit problem with its
// raw answer behind "details", and the route form's challenge error and setup checklist; nothing
// wider than a phone's screen.
// Note: this drives the fake, not a real `gatehouse serve`, because the ACME handlers are still
// placeholders on this branch; the browser test against a real serve and Pebble comes after merge.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build } from 'esbuild';
import type { Browser, Locator, Page } from 'playwright-core';
import { browserMissing, launchBrowser, saveScreenshot, startTogether, waitFor } from '../helpers/browser.js';
import { overflowReport, PHONE } from '../helpers/layout.js';
import { repoRoot } from '../helpers/serve.js';

const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

/** Serves dist/renderer on 127.0.0.1 (a free port). */
async function serveRenderer(): Promise<{ server: Server; base: string }> {
  const dir = join(repoRoot, 'dist', 'renderer');
  const server = createServer((request, response) => {
    const path = normalize(new URL(request.url ?? '/', 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    readFile(join(dir, path)).then(
      (body) => response.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body),
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, base: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/` };
}

async function bridgeScript(): Promise<string> {
  const bundle = await build({ entryPoints: [join(repoRoot, 'src-renderer/dev/fake-bridge.ts')], bundle: true, format: 'iife', write: false, target: 'es2022' });
  return bundle.outputFiles[0]!.text;
}

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

describe('the Let’s Encrypt UI against the dev fake', { skip: browserMissing() }, () => {
  let browser: Browser;
  let server: Server;
  let base: string;
  let bridge: string;

  before(async () => {
    await startTogether([
      launchBrowser().then((b) => (browser = b)),
      serveRenderer().then((s) => ({ server, base } = s)),
      bridgeScript().then((script) => (bridge = script)),
    ]);
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  async function open(hash: string, viewport = { width: 1280, height: 800 }) {
    const context = await browser.newContext({ viewport });
    await context.addInitScript(bridge);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${base}${hash}`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    return { page, errors, close: () => context.close() };
  }

  test('adds an account at a directory that needs its terms accepted and EAB', async () => {
    const { page, errors, close } = await open('#/certificates');
    try {
      await page.getByRole('button', { name: 'Add account', exact: true }).click();
      const form = page.getByRole('form', { name: 'Add an ACME account' });
      await form.getByLabel('Other directory URL', { exact: false }).check();
      assert.equal(await form.getByLabel('EAB key id').count(), 0, 'no EAB fields before the directory says it needs them');
      await form.getByLabel('Directory URL', { exact: true }).fill('https://acme.zerossl.com/v2/DV90');
      await form.getByRole('button', { name: 'Continue', exact: true }).click();
      await form.getByLabel('EAB key id', { exact: true }).fill('kid-1f3a9c');
      await form.getByLabel('EAB HMAC key', { exact: true }).fill('c2VjcmV0LWhtYWMta2V5');
      assert.equal(await form.getByLabel('EAB HMAC key', { exact: true }).getAttribute('type'), 'password');
      assert.equal(await form.getByRole('link', { name: 'https://acme.zerossl.com/terms/v1.2.pdf' }).getAttribute('href'), 'https://acme.zerossl.com/terms/v1.2.pdf');

      await form.getByRole('button', { name: 'Create account', exact: true }).click();
      const terms = form.getByLabel('I accept the terms of service');
      await waitFor('the terms box marked invalid', async () => (await terms.getAttribute('aria-invalid')) === 'true');
      assert.match(await description(terms), /accept the terms of service/);

      await terms.check();
      await form.getByRole('button', { name: 'Create account', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'Account created: acme.zerossl.com' }).waitFor();
      const item = page.locator('section[aria-labelledby="acme-accounts-heading"] ul > li').filter({ hasText: 'acme.zerossl.com' });
      await item.getByText('linked with EAB key kid-1f3a9c').waitFor();
      assert.equal(await page.getByText('c2VjcmV0LWhtYWMta2V5').count(), 0, 'the HMAC key is nowhere on the page');
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  test('removing an account in use is refused, naming the routes; new terms are accepted from the banner', async () => {
    const { page, close } = await open('#/certificates');
    try {
      await page.getByRole('button', { name: "Remove Let's Encrypt", exact: true }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText('Nextcloud, Photos, Vaultwarden get their certificates through it').waitFor();
      await dialog.getByRole('button', { name: 'Remove account', exact: true }).click();
      const alert = page.locator('section[aria-labelledby="acme-accounts-heading"] [role="alert"]');
      await alert.waitFor();
      assert.match(await alert.innerText(), /still used by Nextcloud, Photos, Vaultwarden/);

      const banner = page.getByRole('note').filter({ hasText: 'changed its terms of service' });
      await banner.getByRole('button', { name: 'Accept new terms for Trying things out' }).click();
      await page.getByRole('status').filter({ hasText: 'New terms accepted for Trying things out' }).waitFor();
      await waitFor('the banner gone', async () => (await banner.count()) === 0);
    } finally {
      await close();
    }
  });

  test('a DNS provider’s credentials are write-only, and its test shows the checklist', async () => {
    const { page, close } = await open('#/certificates');
    try {
      await page.getByRole('button', { name: 'Add DNS provider', exact: true }).click();
      const form = page.getByRole('form', { name: 'Add a DNS provider' });
      await form.getByLabel('Kind').selectOption('duckdns');
      await form.getByLabel('Name', { exact: true }).fill('Duck');
      await form.getByRole('button', { name: 'Add DNS provider', exact: true }).click();
      const token = form.getByLabel('Token', { exact: true });
      await waitFor('the token marked invalid', async () => (await token.getAttribute('aria-invalid')) === 'true');
      assert.equal(await token.getAttribute('type'), 'password');
      await token.fill('duck-token-123');
      await form.getByRole('button', { name: 'Add DNS provider', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'DNS provider added: Duck' }).waitFor();
      const item = page.locator('section[aria-labelledby="dns-providers-heading"] ul > li').filter({ hasText: 'Duck' });
      await item.getByText('Credentials stored').waitFor();

      await item.getByRole('button', { name: 'Edit Duck', exact: true }).click();
      const edit = page.getByRole('form', { name: 'Edit Duck' });
      assert.equal(await edit.getByLabel('Token', { exact: true }).inputValue(), '', 'the stored token is not shown');
      assert.match(await description(edit.getByLabel('Token', { exact: true })), /Leave empty to keep them/);
      await edit.getByRole('button', { name: 'Cancel', exact: true }).click();

      await item.getByRole('button', { name: 'Test Duck', exact: true }).click();
      await item.getByLabel('A name in the zone to test with').fill('home.duckdns.org');
      await item.getByRole('button', { name: 'Run test', exact: true }).click();
      const result = item.getByRole('list', { name: 'Test of Duck' });
      await result.waitFor();
      assert.match(await result.innerText(), /Passed:\s*Duck can create a TXT record for home\.duckdns\.org/);
    } finally {
      await close();
    }
  });

  test('an ACME certificate shows its rate limit in words, the raw answer behind details, within a phone’s width', async () => {
    const { page, close } = await open('#/certificates', PHONE);
    try {
      const problem = page.locator('.acme-problem').filter({ hasText: 'refused a new certificate for cloud.example.net' });
      await problem.waitFor();
      assert.match(await problem.innerText(), /What to do: Wait until .* when the limit lifts/);
      assert.equal(await problem.locator('pre').isVisible(), false, 'the raw answer waits behind details');
      await problem.getByText('Details (what the server said)').click();
      await problem.locator('pre').getByText('urn:ietf:params:acme:error:rateLimited', { exact: false }).waitFor();
      await page.getByText("Next renewal: ", { exact: false }).filter({ hasText: "in the window Let's Encrypt suggested" }).first().waitFor();
      const report = await overflowReport(page);
      assert.deepEqual(report.offenders, [], `nothing wider than the phone: ${report.offenders.join('; ')}`);
      assert.ok(report.scrollWidth <= PHONE.width);
      await saveScreenshot(page, 'acme-certificates-phone');

      await page.getByRole('button', { name: 'Renew now for Nextcloud' }).click();
      await page.getByRole('status').filter({ hasText: 'Certificate renewed: Nextcloud' }).waitFor();
      await waitFor('the problem gone after a good renewal', async () => (await problem.count()) === 0);
    } finally {
      await close();
    }
  });

  test('the route form: a wildcard over HTTP is an error at once, and "Check setup" shows failed and warned checks', async () => {
    const { page, errors, close } = await open('#/routes/route-g', PHONE);
    try {
      const https = page.getByRole('group', { name: 'HTTPS', exact: true });
      assert.equal(await https.getByRole('radio', { name: "Certificate from Let's Encrypt (or another ACME certificate authority)" }).isChecked(), true);
      await page.getByLabel('Account', { exact: true }).waitFor();
      assert.equal(await page.getByLabel('DNS provider', { exact: true }).inputValue(), 'dns000004');

      await page.getByRole('button', { name: 'Check setup', exact: true }).click();
      const checklist = page.getByRole('list', { name: 'Setup check for this route' });
      await checklist.waitFor();
      const text = await checklist.innerText();
      assert.match(text, /Failed:\s*CAA for example\.org allows Let's Encrypt/);
      assert.match(text, /Warning:\s*vault\.example\.org resolves in public DNS/);
      assert.match(text, /What to do: Add a CAA record/);
      const report = await overflowReport(page);
      assert.deepEqual(report.offenders, [], `nothing wider than the phone: ${report.offenders.join('; ')}`);

      await page.getByLabel('HTTP (port 80 must reach this machine)').check();
      await page.getByLabel('Host names', { exact: true }).fill('*.example.org');
      const group = page.getByRole('radiogroup', { name: 'Challenge' });
      await waitFor('the challenge marked invalid', async () => (await group.getAttribute('aria-invalid')) === 'true');
      assert.match(await description(group), /a wildcard needs the DNS challenge/);
      await page.getByRole('button', { name: 'Save route', exact: true }).click();
      await page.waitForTimeout(300);
      assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Edit route', 'not saved');
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });
});
