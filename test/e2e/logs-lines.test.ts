// The access log as compact lines (issue 12), on a phone and a desktop: one line per request with
// its time, status, method, host and path, client address and duration; the reason one tap away in
// the line's details; a search over host, path, status, client and reason.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator } from 'playwright-core';
import { addRoute, bodyRows, cell, heading, proxyPort, startUiServe } from '../helpers/admin-ui.js';
import { browserMissing, launchBrowser, openAdmin, startTogether, waitFor, waitForText } from '../helpers/browser.js';
import { DESKTOP, PHONE, tapCheck } from '../helpers/layout.js';
import { freePort } from '../helpers/ports.js';
import type { ServeProcess } from '../helpers/serve.js';
import { requestThrough, startEchoUpstream, type Upstream } from '../helpers/upstream.js';

describe('log lines', { skip: browserMissing() }, () => {
  let browser: Browser;
  let serve: ServeProcess;
  let upstream: Upstream;

  before(async () => {
    await startTogether([
      launchBrowser().then((b) => (browser = b)),
      startUiServe().then((s) => (serve = s)),
      startEchoUpstream('lines').then((u) => (upstream = u)),
    ]);
    await addRoute(serve, { title: 'Jellyfin', names: ['jellyfin.home.arpa'], upstream: upstream.address });
    await addRoute(serve, { title: 'Proxmox', names: ['pve.home.arpa'], upstream: `127.0.0.1:${await freePort()}` });
    const port = (await proxyPort(serve))!;
    await requestThrough(port, 'jellyfin.home.arpa', `/Items/42/Images/Primary?${'long=query&'.repeat(20)}`);
    await requestThrough(port, 'pve.home.arpa', '/api2/json/cluster/resources');
    await requestThrough(port, 'jellyfin.home.arpa', '/web/index.html');
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
    await upstream?.close();
  });

  test('each request is one line; a tap opens the reason; the search narrows the lines', async () => {
    const { page, close } = await openAdmin(browser, serve, { hash: '#/logs' });
    try {
      await heading(page, 'Logs').waitFor();
      const table = page.getByRole('table', { name: 'Access log', exact: true });
      const lines = table.locator('tbody tr.line');
      await waitFor('three lines', async () => (await lines.count()) === 3);
      const line = (path: string): Locator => lines.filter({ hasText: path });

      await page.setViewportSize(DESKTOP);
      const client = await cell(line('/web/index.html'), 'Client');
      assert.equal(client.text, '127.0.0.1', 'the client address has its column');
      for (const screen of [DESKTOP, PHONE]) {
        await page.setViewportSize(screen);
        for (const path of ['/Items/42', '/api2/json', '/web/index.html']) {
          const box = (await line(path).boundingBox())!;
          assert.ok(box.height <= 48, `${path} is one compact line at ${screen.width} px (${box.height} px tall)`);
          const lineHeight = await line(path).locator('button[aria-expanded]').evaluate((button) => parseFloat(getComputedStyle(button).lineHeight));
          const textHeight = await line(path).locator('button[aria-expanded]').evaluate((button) => button.getBoundingClientRect().height);
          assert.ok(textHeight <= lineHeight * 1.5, `${path}: host and path stay on one line, cut short (${textHeight} px for a ${lineHeight} px line)`);
        }
      }

      // On the phone: the failed request's line opens with a tap at its centre.
      const failed = line('/api2/json');
      const toggle = failed.locator('button[aria-expanded]');
      assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
      const tap = await tapCheck(failed.locator('td.status'));
      assert.ok(tap.reached.includes('aria-expanded') || tap.hitsItself, `a tap on the line reaches its disclosure (${tap.reached})`);
      const box = (await failed.boundingBox())!;
      assert.ok(box.height >= 44, `the line is a 44 px target on a phone (${box.height})`);
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      await waitFor('the line to open', async () => (await toggle.getAttribute('aria-expanded')) === 'true');
      const details = page.locator(`#${await toggle.getAttribute('aria-controls')}`);
      const said = await waitForText(details, 'refused the connection');
      assert.match(said, /Route Proxmox/);
      assert.match(said, /Client 127\.0\.0\.1/);
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      await waitFor('the line to close', async () => (await toggle.getAttribute('aria-expanded')) === 'false' && (await details.count()) === 0);

      const search = page.getByLabel('Search', { exact: true });
      const shown = async () => (await lines.allTextContents()).map((text) => text.replace(/\s+/g, ' ').trim());
      const expect = async (query: string, count: number) => {
        await search.fill(query);
        await waitFor(`"${query}" to leave ${count} lines`, async () => (await lines.count()) === count, { describe: async () => (await shown()).join(' | ') });
      };
      await expect('refused', 1); // the reason, which the line itself does not show
      assert.match((await shown())[0]!, /api2\/json/);
      await expect('502', 1);
      await expect('jellyfin', 2);
      await expect('jellyfin index', 1);
      await expect('127.0.0.1', 3);
      await expect('nothing-like-this', 0);
      await page.getByText('No requests match these filters').waitFor();
      await page.getByRole('button', { name: 'Show every request', exact: true }).click();
      await waitFor('every line back', async () => (await bodyRows(table).count()) === 3 && (await search.inputValue()) === '');
    } finally {
      await close();
    }
  });
});
