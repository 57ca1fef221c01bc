// The main navigation on a phone (issue 12): folded behind a Menu button whose aria-expanded says
// whether the list is open, usable with the keyboard alone (Enter opens, Escape closes and gives
// focus back), folded again after choosing a page; on a desktop the links show as before.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { heading, startUiServe } from '../helpers/admin-ui.js';
import { browserMissing, launchBrowser, openAdmin, startTogether, tabTo, waitFor } from '../helpers/browser.js';
import { DESKTOP, PHONE, tapCheck } from '../helpers/layout.js';
import type { ServeProcess } from '../helpers/serve.js';

describe('the navigation folds on a phone', { skip: browserMissing() }, () => {
  let browser: Browser;
  let serve: ServeProcess;

  before(async () => {
    await startTogether([launchBrowser().then((b) => (browser = b)), startUiServe().then((s) => (serve = s))]);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  test('Menu opens and closes the list by keyboard and by tap, and a chosen page closes it', async () => {
    const { page, close } = await openAdmin(browser, serve);
    try {
      await page.setViewportSize(PHONE);
      await heading(page, 'Dashboard').waitFor();
      const nav = page.getByRole('navigation', { name: 'Main', exact: true });
      const menu = nav.getByRole('button', { name: 'Menu', exact: true });
      const logs = nav.getByRole('link', { name: 'Logs', exact: true });
      const expanded = () => menu.getAttribute('aria-expanded');

      assert.equal(await expanded(), 'false');
      assert.equal(await logs.isVisible(), false, 'the links are folded away');
      const controlled = await menu.getAttribute('aria-controls');
      assert.equal(await nav.locator(`#${controlled}`).count(), 1, 'aria-controls names the list');
      const tap = await tapCheck(menu);
      assert.ok(tap.hitsItself && tap.height >= 44, `Menu is a 44 px target (${JSON.stringify(tap)})`);

      await tabTo(page, menu);
      await page.keyboard.press('Enter');
      await waitFor('the list to open', async () => (await expanded()) === 'true' && (await logs.isVisible()));
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Dashboard', 'Tab moves into the list');
      await page.keyboard.press('Escape');
      await waitFor('Escape to close the list', async () => (await expanded()) === 'false' && !(await logs.isVisible()));
      assert.equal(await menu.evaluate((button) => button === document.activeElement), true, 'focus is back on Menu');

      await menu.click();
      await logs.click();
      await heading(page, 'Logs').waitFor();
      await waitFor('the list to fold after choosing Logs', async () => (await expanded()) === 'false' && !(await logs.isVisible()));

      await menu.click();
      await waitFor('the list to open again', () => logs.isVisible());
      // The list drops over the top of the page; a tap near the bottom of the screen is outside it.
      await page.mouse.click(PHONE.width / 2, PHONE.height - 20);
      await waitFor('a tap outside to fold the list', async () => (await expanded()) === 'false');

      await page.setViewportSize(DESKTOP);
      await waitFor('the links to show on a desktop', () => logs.isVisible());
      assert.equal(await menu.isVisible(), false, 'no Menu button on a desktop');
    } finally {
      await close();
    }
  });
});
