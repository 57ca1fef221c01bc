// The Settings page's "Also write access-combined.log in nginx's format, for CrowdSec" toggle against
// the real `gatehouse serve`: off by default, turned on in the page it is saved as log.combinedLog,
// and the next request through the proxy lands in DATA_DIR/access-combined.log as one combined line.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { GeneralSettings } from '../../shared/model.js';
import { addRoute, apiJson, proxyPort, startUiServe, waitForStatusMessage } from '../helpers/admin-ui.js';
import { browserMissing, launchBrowser, openAdmin, startTogether, waitFor } from '../helpers/browser.js';
import type { ServeProcess } from '../helpers/serve.js';
import { requestThrough, startEchoUpstream, type Upstream } from '../helpers/upstream.js';

async function combinedLog(serve: ServeProcess): Promise<string | null> {
  try {
    return await readFile(join(serve.dataDir, 'access-combined.log'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

describe('the combined log toggle on the Settings page', { skip: browserMissing() }, () => {
  let browser: Browser;
  let serve: ServeProcess;
  let upstream: Upstream;

  before(async () => {
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
  });

  test('off by default; turned on in the page, the proxy writes nginx-format lines', async () => {
    await addRoute(serve, { title: 'Wiki', names: ['wiki.home.arpa'], upstream: upstream.address });
    const port = await proxyPort(serve);
    assert.ok(port);
    assert.equal((await requestThrough(port, 'wiki.home.arpa', '/before')).status, 200);
    const { page, close } = await openAdmin(browser, serve, { hash: '#/settings' });
    try {
      const toggle = page.getByLabel("Also write access-combined.log in nginx's format, for CrowdSec", { exact: true });
      assert.equal(await toggle.isChecked(), false, 'off by default');
      assert.equal(await page.getByLabel('Write an access log', { exact: true }).isChecked(), true);
      await toggle.check();
      await page.getByRole('button', { name: 'Save settings', exact: true }).click();
      await waitForStatusMessage(page, 'Settings saved');
      const settings = await apiJson<GeneralSettings>(serve, '/api/settings');
      assert.equal(settings.log.combinedLog, true);
      assert.equal(settings.log.accessLog, true, 'the access log is left on');

      assert.equal((await requestThrough(port, 'wiki.home.arpa', '/after?x=1', { headers: { 'user-agent': 'combined-test/1' } })).status, 200);
      const text = await waitFor('a line in access-combined.log', async () => {
        const content = await combinedLog(serve);
        return content?.includes('/after?x=1') ? content : null;
      });
      assert.ok(!text.includes('/before'), 'only requests after it was turned on');
      const line = text.split('\n').find((candidate) => candidate.includes('/after?x=1'))!;
      assert.match(line, /^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "GET \/after\?x=1 HTTP\/1\.1" 200 \d+ "-" "combined-test\/1"/);

      await page.reload();
      assert.equal(await page.getByLabel("Also write access-combined.log in nginx's format, for CrowdSec", { exact: true }).isChecked(), true, 'the page shows it on after a reload');
    } finally {
      await close();
    }
  });
});
