// The sign-in screens and the Sign-in & security page at a phone's 390×844 and a desktop's 1280×800,
// light and dark, as test artifacts (test-artifacts/screenshots/<screen>-<width>-<theme>.png), each
// checked to be no wider than the screen: sign-in without a password, choose-a-password after the
// one-time link, the security page (and with two-factor enrolment open), and sign-in with its error.
import { overflowReport } from '../helpers/layout.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { heading, startUiServe } from '../helpers/admin-ui.js';
import { onceLinkIn } from '../helpers/auth.js';
import { browserMissing, launchBrowser, navigate, saveScreenshot, startTogether, waitFor } from '../helpers/browser.js';
import type { ServeProcess } from '../helpers/serve.js';

const SIZES = [
  { width: 390, height: 844 },
  { width: 1280, height: 800 },
] as const;
const THEMES = ['light', 'dark'] as const;
const PASSWORD = 'screenshots need a password';

/** Shoots the page at both sizes in both themes, failing if it is wider than the screen anywhere. */
async function shootEverywhere(page: Page, name: string): Promise<void> {
  for (const size of SIZES) {
    await page.setViewportSize(size);
    for (const theme of THEMES) {
      await page.emulateMedia({ colorScheme: theme });
      await page.waitForFunction((dark) => matchMedia('(prefers-color-scheme: dark)').matches === dark, theme === 'dark');
      await page.evaluate(() => document.fonts.ready.then(() => undefined));
      const report = await overflowReport(page);
      assert.ok(report.scrollWidth <= size.width && report.offenders.length === 0, `${name} at ${size.width} px (${theme}): ${report.scrollWidth} px wide; ${report.offenders.join('; ')}`);
      await saveScreenshot(page, `${name}-${size.width}-${theme}`);
    }
  }
}

describe('screenshots of sign-in and security, phone and desktop, light and dark', { skip: browserMissing() }, () => {
  let browser: Browser;
  let serve: ServeProcess;

  before(async () => {
    await startTogether([launchBrowser().then((b) => (browser = b)), startUiServe().then((s) => (serve = s))]);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  test('sign-in (no password yet), choose a password, security page, two-factor enrolment, sign-in with an error', async () => {
    const context = await browser.newContext({ viewport: SIZES[0] });
    try {
      const page = await context.newPage();
      await page.goto(serve.adminUrl);
      await heading(page, 'Sign in to Gatehouse').waitFor();
      await shootEverywhere(page, 'sign-in-no-password');

      const link = await waitFor('the one-time link', () => onceLinkIn(serve.stdout()));
      await page.goto(link);
      await heading(page, 'Sign in to Gatehouse').waitFor();
      await shootEverywhere(page, 'once-link');
      await page.getByRole('button', { name: 'Sign in with this link', exact: true }).click();
      await heading(page, 'Choose an admin password').waitFor();
      await page.getByLabel('New password', { exact: true }).fill('short');
      await page.getByLabel('New password again', { exact: true }).fill('');
      await page.getByRole('button', { name: 'Save password', exact: true }).click();
      await page.locator('[aria-invalid="true"]').first().waitFor();
      await shootEverywhere(page, 'choose-password');
      await page.getByLabel('New password', { exact: true }).fill(PASSWORD);
      await page.getByLabel('New password again', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Save password', exact: true }).click();
      await heading(page, 'Dashboard').waitFor();

      await navigate(page, '#/security', 'Sign-in & security');
      await page.locator('#sessions-heading + p').filter({ hasText: 'This session ends' }).waitFor();
      await shootEverywhere(page, 'security');
      await page.getByRole('button', { name: 'Turn on two-factor sign-in', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Turn on two-factor sign-in?' });
      await dialog.getByLabel('Your password', { exact: true }).waitFor();
      await shootEverywhere(page, 'security-two-factor-password');
      await dialog.getByLabel('Your password', { exact: true }).fill(PASSWORD);
      await dialog.getByRole('button', { name: 'Continue', exact: true }).click();
      await page.getByRole('img', { name: 'QR code for two-factor sign-in' }).waitFor();
      await page.getByRole('heading', { name: 'Add Gatehouse to your authenticator app' }).scrollIntoViewIfNeeded();
      await shootEverywhere(page, 'security-two-factor');
      await page.getByRole('button', { name: 'Cancel', exact: true }).click();

      await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Sign out', exact: true }).click();
      await heading(page, 'Sign in to Gatehouse').waitFor();
      await page.getByLabel('Password', { exact: true }).fill('not the right one');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.locator('#sign-in-password-error').waitFor();
      await shootEverywhere(page, 'sign-in');
    } finally {
      await context.close();
    }
  });
});
