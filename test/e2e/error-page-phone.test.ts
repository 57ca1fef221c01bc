// The error page a visitor meets, in Chromium on a 390 px phone and a 1280 px desktop, light and
// dark: never wider than the screen, the retry button whole and inside it, and the retry really
// asks for the same address again (no script: the page's CSP allows none). Screenshots go to
// test-artifacts/screenshots/error-page-*.png for a person to look at.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { freePort } from '../helpers/ports.js';
import { browserMissing, CHROMIUM_ARGS, CHROMIUM_PATH, pngInfo, SCREENSHOT_DIR } from '../helpers/browser.js';
import { startProxy, testRoute, type ProxyUnderTest } from '../helpers/raw-http.js';
import { defaultSettings } from '../../shared/model.js';

const HOST = 'media-library-for-the-whole-family.home.arpa';

describe('the visitor error page in Chromium', { skip: browserMissing() }, () => {
  let browser: Browser;
  let proxy: ProxyUnderTest;
  let closed: number;

  before(async () => {
    closed = await freePort();
    // A long title, so wrapping is what is tested rather than luck.
    proxy = await startProxy([testRoute('media', [HOST], `http://127.0.0.1:${closed}`, { title: 'Jellyfin media library for the whole family' })]);
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ${HOST} 127.0.0.1`], headless: true });
    await mkdir(SCREENSHOT_DIR, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await proxy?.stop();
  });

  for (const details of ['nobody', 'local-network'] as const) {
    for (const viewport of [{ width: 390, height: 844 }, { width: 1280, height: 800 }]) {
      test(`${viewport.width} px, ${details === 'nobody' ? 'as a visitor sees it' : 'with details'}: fits, retry inside the screen, light and dark`, async () => {
        proxy.engine.applySettings({ ...defaultSettings().proxy, bindAddress: '127.0.0.1', httpPort: 0, httpsPort: 0, errorDetails: details });
        const context = await browser.newContext({ viewport });
        try {
          const page = await context.newPage();
          const url = `http://${HOST}:${proxy.port}/movies?id=7`;
          const response = await page.goto(url);
          assert.equal(response?.status(), 502);
          await page.locator('h1').waitFor();
          assert.equal(await page.locator('h1').textContent(), 'Jellyfin media library for the whole family is not available right now.');
          assert.equal(await page.locator('.details').count(), details === 'nobody' ? 0 : 1);
          for (const scheme of ['light', 'dark'] as const) {
            await page.emulateMedia({ colorScheme: scheme });
            const width = await page.evaluate(() => document.documentElement.scrollWidth);
            assert.ok(width <= viewport.width, `${scheme}: the page is ${width} px wide in a ${viewport.width} px screen`);
            const box = await page.locator('a.retry').boundingBox();
            assert.ok(box && box.x >= 0 && box.x + box.width <= viewport.width && box.height >= 32, `${scheme}: the retry button ${JSON.stringify(box)} fits and is tappable`);
            const file = join(SCREENSHOT_DIR, `error-page-${viewport.width}-${details}-${scheme}.png`);
            await page.screenshot({ path: file, fullPage: true });
            const png = await pngInfo(file);
            assert.equal(png.width, viewport.width, `${file} is as wide as the screen`);
          }
          // Retry asks for the very same address again.
          const before = proxy.logged.length;
          const [again] = await Promise.all([page.waitForResponse((r) => r.url() === url), page.locator('a.retry').click()]);
          assert.equal(again.status(), 502);
          assert.ok(proxy.logged.slice(before).some((e) => e.path === '/movies?id=7'), 'the retry reached the proxy for the same path');
        } finally {
          await context.close();
        }
      });
    }
  }
});
