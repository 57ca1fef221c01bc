// The streams UI in Chromium: the built pages (dist/renderer) with the dev fake as their Gatehouse
// (src-renderer/dev/fake-bridge.ts, as the screenshot script injects it). Adding an SSH stream from
// the empty dashboard's preset button, seeing it listed, changing its port, removing it; a port two
// streams would share refused at the listen port field; a stream that failed to listen showing its
// problem and the fix; the first-run port check naming stream ports; and no page wider than its
// screen on a phone and a desktop, light and dark.
// Note: this drives the fake, not a real `gatehouse serve`: the stream engine lands in sibling
// branches; the fake validates with the same StreamInputSchema.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build } from 'esbuild';
import type { Browser, Locator, Page } from 'playwright-core';
import { browserMissing, launchBrowser, startTogether, waitFor } from '../helpers/browser.js';
import { DESKTOP, PHONE } from '../helpers/layout.js';
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

function overflow(page: Page): Promise<{ scrollWidth: number; innerWidth: number }> {
  return page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
}

describe('the streams UI against the dev fake', { skip: browserMissing() }, () => {
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

  async function open(path: string, options: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' } = {}) {
    const context = await browser.newContext({ viewport: options.viewport ?? DESKTOP, colorScheme: options.colorScheme ?? 'light' });
    await context.addInitScript(bridge);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${base}${path}`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    return { page, errors, close: () => context.close() };
  }

  test('adds an SSH stream from the empty dashboard, sees it, changes its port, removes it', async () => {
    const { page, errors, close } = await open('?scenario=empty#/');
    try {
      const section = page.locator('section[aria-labelledby="streams-heading"]');
      await section.getByText('No streams yet').waitFor();
      await section.getByRole('list', { name: 'Add a stream for' }).getByRole('link', { name: 'SSH', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Add stream' }).waitFor();
      assert.equal(await page.getByRole('radio', { name: 'SSH', exact: true }).isChecked(), true, 'the SSH preset is chosen');
      assert.equal(await page.getByLabel('Listen port (TCP)').inputValue(), '2222', 'SSH suggests 2222');

      // Saving without a server: the problem lands on the server field, nothing is sent.
      await page.getByLabel('Name', { exact: true }).fill('NAS SSH');
      await page.getByRole('button', { name: 'Save stream', exact: true }).click();
      const server = page.getByLabel('Server 1', { exact: true });
      await waitFor('the server field marked invalid', async () => (await server.getAttribute('aria-invalid')) === 'true');
      assert.match(await description(server), /enter the server's address and port/);

      await server.fill('10.33.0.5:22');
      await page.getByRole('button', { name: 'Save stream', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
      const table = page.getByRole('table', { name: 'Streams' });
      const row = table.getByRole('row').filter({ hasText: 'NAS SSH' });
      await row.waitFor();
      const text = await row.innerText();
      assert.match(text, /TCP 2222/);
      assert.match(text, /10\.33\.0\.5:22/);
      assert.match(text, /Listening/);

      await row.getByRole('link', { name: 'Edit NAS SSH' }).click();
      await page.getByRole('heading', { level: 1, name: 'Edit stream' }).waitFor();
      await page.getByLabel('Listen port (TCP)').fill('2200');
      await page.getByRole('button', { name: 'Save stream', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
      await waitFor('the new port listed', async () => /TCP 2200/.test(await table.getByRole('row').filter({ hasText: 'NAS SSH' }).innerText()));

      await table.getByRole('button', { name: 'Remove NAS SSH' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText('stops listening on TCP 2200').waitFor();
      await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'Stream removed' }).waitFor();
      await section.getByText('No streams yet').waitFor();
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  test('a port another stream uses is refused at the listen port; a port below 1024 is explained before saving and after', async () => {
    const { page, errors, close } = await open('#/streams/new?preset=sftp');
    try {
      await page.getByLabel('Name', { exact: true }).fill('Backup SFTP');
      await page.getByLabel('Server 1', { exact: true }).fill('10.33.0.6:22');
      await page.getByRole('button', { name: 'Save stream', exact: true }).click();
      const port = page.getByLabel('Listen port (TCP)');
      await waitFor('the listen port marked invalid', async () => (await port.getAttribute('aria-invalid')) === 'true');
      assert.match(await description(port), /stream "NAS SSH" and stream "Backup SFTP" both use TCP port 2222/);

      await port.fill('22');
      const hint = page.getByRole('note').filter({ hasText: 'Port 22 is below 1024' });
      await hint.waitFor();
      assert.match(await hint.innerText(), /such as 2222/);
      assert.match(await hint.innerText(), /setcap/);
      await page.getByRole('button', { name: 'Save stream', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Edit stream' }).waitFor();
      const alert = page.getByRole('alert').filter({ hasText: 'Not listening' });
      await alert.waitFor();
      assert.match(await alert.innerText(), /port 22 is below 1024/);
      assert.match(await alert.innerText(), /How to fix it: .*setcap/);
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  test('the dashboard shows a failed stream’s problem and fix, failover order and the server in use', async () => {
    const { page, close } = await open('#/');
    try {
      const table = page.getByRole('table', { name: 'Streams' });
      const ftp = table.getByRole('row').filter({ hasText: 'NAS FTP' });
      assert.match(await ftp.innerText(), /Not listening[\s\S]*Port 21 is below 1024[\s\S]*How to fix it/);
      const ssh = table.getByRole('row').filter({ hasText: 'NAS SSH' });
      const servers = ssh.getByRole('list', { name: 'Servers of NAS SSH, in failover order' });
      assert.match(await servers.innerText(), /10\.33\.0\.5:22\s*in use[\s\S]*10\.33\.0\.6:22\s*down/);
      assert.match(await ssh.innerText(), /1\.2 GB/);
      assert.match(await table.getByRole('row').filter({ hasText: 'Game servers' }).innerText(), /UDP 27015–27020[\s\S]*10\.33\.0\.8:27015–27020[\s\S]*Disabled/);
      await table.getByRole('button', { name: 'Enable Game servers' }).click();
      await page.getByRole('status').filter({ hasText: 'Game servers enabled' }).waitFor();
      await table.getByRole('button', { name: 'Disable Game servers' }).waitFor();
    } finally {
      await close();
    }
  });

  test('the first-run port check lists each stream’s ports under its name', async () => {
    const { page, close } = await open('?scenario=first-run#/');
    try {
      await page.getByRole('heading', { level: 1, name: 'Welcome to Gatehouse' }).waitFor();
      await page.getByRole('button', { name: 'Check ports', exact: true }).click();
      const results = page.getByRole('list', { name: 'Port check results' });
      await results.waitFor();
      const text = await results.innerText();
      assert.match(text, /Stream "NAS SSH" \(TCP 2222\)\s*Port 2222 is free/);
      assert.match(text, /Stream "NAS FTP" \(TCP 21\)\s*Port 21 is below 1024/);
      assert.match(text, /The FTP passive range of "NAS FTP" \(30000–30049\)\s*Ports 30000–30049 are free/);
      assert.match(text, /Stream "Pi-hole DNS" \(UDP 1053\)/);
    } finally {
      await close();
    }
  });

  for (const [screen, viewport] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
    for (const colorScheme of ['light', 'dark'] as const) {
      test(`no page wider than the screen: ${screen}, ${colorScheme}`, async () => {
        const { page, errors, close } = await open('#/', { viewport, colorScheme });
        try {
          const pages: [string, () => Promise<void>][] = [
            ['dashboard', async () => void (await page.getByRole('heading', { level: 2, name: 'Streams' }).waitFor())],
            ['add SSH', async () => void (await page.goto(`${base}#/streams/new?preset=ssh`), await page.getByRole('heading', { level: 1, name: 'Add stream' }).waitFor())],
            ['add FTP', async () => {
              await page.getByText('FTP', { exact: true }).click();
              await page.getByLabel('Listen port (TCP)').fill('21');
              await page.getByRole('group', { name: 'FTP', exact: true }).waitFor();
            }],
            ['edit failed FTP', async () => void (await page.goto(`${base}#/streams/stream-ftp`), await page.getByRole('alert').filter({ hasText: 'Not listening' }).waitFor())],
          ];
          for (const [name, go] of pages) {
            await go();
            const { scrollWidth, innerWidth } = await overflow(page);
            assert.ok(scrollWidth <= innerWidth, `${name} at ${viewport.width}×${viewport.height} ${colorScheme}: ${scrollWidth} px wide on a ${innerWidth} px screen`);
          }
          if (screen === 'phone') assert.equal(await page.goto(`${base}#/`).then(() => page.getByRole('list', { name: 'Streams' }).count()), 1, 'phones get cards');
          assert.deepEqual(errors, []);
        } finally {
          await close();
        }
      });
    }
  }
});
