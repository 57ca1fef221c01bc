// Issue 12's target, end to end: from a fresh `gatehouse serve` whose password was set on the
// server (`gatehouse set-password`, the password on stdin), a phone-sized Chromium (390×844, touch)
// signs in and adds a route through the form, with no horizontal scrolling at any step. The route
// then answers through the proxy.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { heading, listRoutes, proxyPort, startUiServe, waitForStatusMessage } from '../helpers/admin-ui.js';
import { browserMissing, launchBrowser, startTogether } from '../helpers/browser.js';
import { runSetPassword } from '../helpers/auth.js';
import type { ServeProcess } from '../helpers/serve.js';
import { requestThrough, startEchoUpstream, type Upstream } from '../helpers/upstream.js';

const PHONE = { width: 390, height: 844 };
const PASSWORD = 'a phone-typed pass phrase';

/** Fails naming the step and the widest element when the page is wider than the phone's screen. */
async function assertFitsWidth(page: Page, step: string): Promise<void> {
  const { scrollWidth, innerWidth, widest } = await page.evaluate(() => {
    let widest = '';
    let right = 0;
    for (const element of Array.from(document.querySelectorAll('body *'))) {
      const box = element.getBoundingClientRect();
      if (box.right > right) {
        right = box.right;
        widest = `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}${element.className && typeof element.className === 'string' ? `.${element.className.split(' ').join('.')}` : ''} (right edge ${Math.round(box.right)} px)`;
      }
    }
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, widest };
  });
  // A mobile browser zooms out to show a page wider than the screen, which widens innerWidth with
  // it: both are held to the phone's own width.
  assert.equal(innerWidth, PHONE.width, `${step}: the browser zoomed out to ${innerWidth} px, so something is wider than the screen; widest: ${widest}`);
  assert.ok(scrollWidth <= innerWidth, `${step}: the page is ${scrollWidth} px wide on a ${innerWidth} px screen; widest: ${widest}`);
}

describe('a phone signs in and adds a route', { skip: browserMissing() }, () => {
  let browser: Browser;
  let serve: ServeProcess;
  let upstream: Upstream;

  before(async () => {
    await startTogether([
      launchBrowser().then((b) => (browser = b)),
      startUiServe().then((s) => (serve = s)),
      startEchoUpstream('phone').then((u) => (upstream = u)),
    ]);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
    await upstream?.close();
  });

  test('at 390×844: sign-in screen, dashboard, the route form and the saved route all fit the screen', async () => {
    const set = await runSetPassword(serve.dataDir, `${PASSWORD}\n`);
    assert.equal(set.code, 0, set.stderr);

    const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    try {
      const page = await context.newPage();
      await page.goto(serve.adminUrl);
      await heading(page, 'Sign in to Gatehouse').waitFor();
      await assertFitsWidth(page, 'sign-in screen');

      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).tap();
      await heading(page, 'Dashboard').waitFor();
      await assertFitsWidth(page, 'dashboard');

      await page.getByRole('link', { name: 'Add route', exact: true }).first().tap();
      await heading(page, 'Add route').waitFor();
      await assertFitsWidth(page, 'empty route form');
      await page.getByLabel('Title', { exact: true }).fill('Phone test');
      await page.getByLabel('Host names', { exact: true }).fill('phone.home.arpa');
      await page.getByLabel('Upstream', { exact: true }).fill(upstream.address);
      await assertFitsWidth(page, 'filled route form');
      const save = page.getByRole('button', { name: 'Save route', exact: true });
      await save.scrollIntoViewIfNeeded();
      await save.tap();

      await heading(page, 'Dashboard').waitFor();
      await waitForStatusMessage(page, 'Route saved');
      await assertFitsWidth(page, 'dashboard with the new route');
      const routes = await listRoutes(serve);
      assert.deepEqual(
        routes.map((route) => route.names),
        [['phone.home.arpa']],
      );
      const answer = await requestThrough((await proxyPort(serve))!, 'phone.home.arpa', '/');
      assert.equal(answer.status, 200);
    } finally {
      await context.close();
    }
  });
});
