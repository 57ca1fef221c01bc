// The route doctor in Chromium against the real `gatehouse serve`: "Check this route" on the route's
// page runs the core's checks over HTTP and shows them as a checklist in order, judging the
// browser's own address (the caller) for access; with the proxy stopped, "Check again" shows the
// port failure with how to fix it, the certificate skipped, and the summary says why.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { addRoute, apiJson, heading, startUiServe } from '../helpers/admin-ui.js';
import { browserMissing, launchBrowser, navigate, openAdmin, startTogether } from '../helpers/browser.js';
import type { ServeProcess } from '../helpers/serve.js';
import { startEchoUpstream, type Upstream } from '../helpers/upstream.js';

describe('the route doctor', { skip: browserMissing() }, () => {
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

  test('checks a route, then says the proxy is stopped', async () => {
    const route = await addRoute(serve, { title: 'Wiki', names: ['wiki.home.arpa'], upstream: upstream.address, tls: { mode: 'local' } });
    const { page, close } = await openAdmin(browser, serve);
    try {
      await navigate(page, `#/routes/${route.id}/insight`);
      await heading(page, 'Wiki').waitFor();
      await page.getByRole('button', { name: 'Check this route', exact: true }).click();
      const list = page.getByRole('list', { name: "Doctor's checks for Wiki" });
      await list.waitFor({ timeout: 15_000 });
      const items = await list.getByRole('listitem').allInnerTexts();
      const steps = items.map((text) => text.trim().split(/\s+/)[1]);
      const order = ['NAME', 'PORT', 'CERTIFICATE', 'SERVICE', 'ACCESS'];
      assert.deepEqual([...new Set(steps)], order, items.join('\n'));
      const service = items.find((text) => text.includes(`${upstream.address} answers`));
      assert.match(service ?? '', /Passed:.*\n?It answers: HTTP 200/s);
      const accessText = items.find((text) => text.includes('ACCESS')) ?? '';
      assert.match(accessText, /127\.0\.0\.1 \(on this network\) would be let in/, 'the caller (this browser) is judged');
      await page.getByRole('button', { name: 'Check again', exact: true }).waitFor();

      await apiJson(serve, '/api/proxy/stop', { method: 'POST' });
      await page.getByRole('button', { name: 'Check again', exact: true }).click();
      await page.getByText('Failed: The proxy is running').waitFor({ timeout: 15_000 });
      const after = await list.getByRole('listitem').allInnerTexts();
      assert.ok(after.some((text) => /The proxy is stopped/.test(text) && /What to do: Start the proxy/.test(text)), after.join('\n'));
      assert.ok(after.some((text) => /Skipped:.*\n?.*proxy is not running/s.test(text)), after.join('\n'));
      await page.getByText('Something is wrong.').waitFor();
    } finally {
      await close();
    }
  });
});
