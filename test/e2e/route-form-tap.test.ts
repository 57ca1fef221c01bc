// "Save route" on a phone (issue 12): taps on it landed on another element. With a message showing
// at the bottom of the screen (the 15-second "Route deleted" with Undo), the form is scrolled to its
// end as a thumb would; document.elementFromPoint at the button's centre must be the button, and a
// tap there must save the route.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { addRoute, heading, listRoutes, startUiServe, waitForStatusMessage } from '../helpers/admin-ui.js';
import { browserMissing, launchBrowser, navigate, openAdmin, startTogether, waitFor } from '../helpers/browser.js';
import { PHONE, tapCheck } from '../helpers/layout.js';
import type { ServeProcess } from '../helpers/serve.js';

describe('Save route on a phone', { skip: browserMissing() }, () => {
  let browser: Browser;
  let serve: ServeProcess;

  before(async () => {
    await startTogether([launchBrowser().then((b) => (browser = b)), startUiServe().then((s) => (serve = s))]);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  test('a tap at the centre of Save route reaches it, with a message on screen, on Add and Edit', async () => {
    await addRoute(serve, { title: 'Scratch', names: ['scratch.home.arpa'], upstream: '127.0.0.1:9' });
    const kept = await addRoute(serve, { title: 'Kept', names: ['kept.home.arpa'], upstream: '127.0.0.1:9' });
    const { page, close } = await openAdmin(browser, serve);
    try {
      await page.setViewportSize(PHONE);
      await heading(page, 'Dashboard').waitFor();
      await page.getByRole('button', { name: 'Delete Scratch', exact: true }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
      await waitForStatusMessage(page, 'Route deleted');
      const toast = page.getByRole('status').filter({ hasText: 'Route deleted' });

      await navigate(page, '#/routes/new', 'Add route');
      await page.getByLabel('Title', { exact: true }).fill('Phone');
      await page.getByLabel('Host names', { exact: true }).fill('phone.home.arpa');
      await page.getByLabel('Upstream', { exact: true }).fill('127.0.0.1:9');
      const save = page.getByRole('button', { name: 'Save route', exact: true });
      for (const where of ['scrolled to the end of the page', 'scrolled to the button']) {
        if (where.includes('end')) await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
        assert.ok(await toast.isVisible(), `the message is still on screen (${where})`);
        const tap = await tapCheck(save);
        assert.ok(tap.hitsItself, `${where}: a tap at the centre of Save route reaches ${tap.reached}`);
        assert.ok(tap.height >= 44, `${where}: Save route is 44 px tall (${tap.height})`);
      }
      const box = (await save.boundingBox())!;
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      await heading(page, 'Dashboard').waitFor();
      await waitFor('the route to be saved', async () => (await listRoutes(serve)).some((route) => route.title === 'Phone'));

      await navigate(page, `#/routes/${encodeURIComponent(kept.id)}`, 'Edit route');
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      for (const name of ['Save route', 'Cancel', 'Delete route']) {
        const tap = await tapCheck(page.getByRole('button', { name, exact: true }));
        assert.ok(tap.hitsItself && tap.height >= 44, `${name} on Edit route: ${JSON.stringify(tap)}`);
      }
    } finally {
      await close();
    }
  });
});
