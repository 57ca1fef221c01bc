// The Sign-in & security page of the web UI against the real `gatehouse serve`, in Chromium:
// two-factor sign-in turned on through the page with a code computed here from the key it shows
// (otpauth, as a phone's app would), then a sign-in with password and code; the recovery codes;
// changing the password; rotating the API token; signing out everywhere; turning 2FA off again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { heading, startUiServe, waitForStatusMessage } from '../helpers/admin-ui.js';
import { ADMIN_PASSWORD, browserMissing, launchBrowser, navigate, openAdmin, startTogether, VIEWPORT, waitForText } from '../helpers/browser.js';
import type { ServeProcess } from '../helpers/serve.js';

const TITLE = 'Sign-in & security';

/** The code an authenticator app shows `offsetS` seconds from now. */
function codeFor(secret: string, offsetS = 0): string {
  const totp = new TOTP({ issuer: 'Gatehouse', label: 'admin', secret: Secret.fromBase32(secret) });
  return totp.generate({ timestamp: Date.now() + offsetS * 1000 });
}

async function openSecurityPage(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Security', exact: true }).click();
  await heading(page, TITLE).waitFor();
}

describe('the Sign-in & security page', { skip: browserMissing() }, () => {
  let browser: Browser;
  let serve: ServeProcess;

  before(async () => {
    await startTogether([launchBrowser().then((b) => (browser = b)), startUiServe().then((s) => (serve = s))]);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  test('two-factor: enrol with the QR code\'s key and a real code, keep the recovery codes, then sign in with password and code', async () => {
    const { page, close } = await openAdmin(browser, serve);
    let secret: string;
    try {
      await openSecurityPage(page);
      await page.getByRole('button', { name: 'Turn on two-factor sign-in', exact: true }).click();
      // The password first: a session alone (or a stolen cookie) cannot enrol an authenticator.
      const enable = page.getByRole('dialog', { name: 'Turn on two-factor sign-in?' });
      await enable.getByLabel('Your password', { exact: true }).fill('not the right one');
      await enable.getByRole('button', { name: 'Continue', exact: true }).click();
      await enable.getByText('That password is not right.').first().waitFor();
      assert.equal(await page.getByRole('img', { name: 'QR code for two-factor sign-in' }).count(), 0, 'no secret without the password');
      await enable.getByLabel('Your password', { exact: true }).fill(ADMIN_PASSWORD);
      await enable.getByRole('button', { name: 'Continue', exact: true }).click();
      await page.getByRole('img', { name: 'QR code for two-factor sign-in' }).waitFor();
      secret = ((await page.getByLabel('Key for typing by hand').textContent()) ?? '').replace(/\s+/g, '');
      assert.match(secret, /^[A-Z2-7]{32}$/);

      await page.getByLabel('Code from the app', { exact: true }).fill('000000');
      await page.getByRole('button', { name: 'Turn on', exact: true }).click();
      await waitForText(page.locator('#totp-confirm-code-error'), 'not right');
      await page.getByLabel('Code from the app', { exact: true }).fill(codeFor(secret));
      await page.getByRole('button', { name: 'Turn on', exact: true }).click();

      const codes = page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
      await heading(page, TITLE).waitFor();
      await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
      const recovery = (await codes.allTextContents()).map((text) => text.trim());
      assert.equal(recovery.length, 10);
      for (const code of recovery) assert.match(code, /^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Download codes', exact: true }).click();
      const file = await (await download).path();
      const { readFile } = await import('node:fs/promises');
      const text = await readFile(file, 'utf8');
      for (const code of recovery) assert.ok(text.includes(code), `the file holds ${code}`);
      await page.getByRole('button', { name: 'I have saved them', exact: true }).click();
      await waitForText(page.locator('main'), 'recovery codes (10 left)');
      assert.equal(await page.getByRole('list', { name: 'Recovery codes' }).count(), 0, 'shown once');
    } finally {
      await close();
    }

    // A new browser: password first, then the code field appears; the next step's code signs in
    // (the one used to enrol cannot be used twice).
    const context = await browser.newContext({ viewport: VIEWPORT });
    try {
      const page = await context.newPage();
      await page.goto(serve.adminUrl);
      await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByLabel('Code', { exact: true }).waitFor();
      assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0, 'the password alone does not sign in');
      await page.getByLabel('Code', { exact: true }).fill(codeFor(secret, 30));
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await heading(page, 'Dashboard').waitFor();

      // Turning it off asks for the password.
      await openSecurityPage(page);
      await page.getByRole('button', { name: 'Turn off two-factor sign-in', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Turn off two-factor sign-in?' });
      await dialog.getByLabel('Your password', { exact: true }).fill('wrong password');
      await dialog.getByRole('button', { name: 'Turn off', exact: true }).click();
      await waitForText(dialog.locator('.field-error'), 'not right');
      await dialog.getByLabel('Your password', { exact: true }).fill(ADMIN_PASSWORD);
      await dialog.getByRole('button', { name: 'Turn off', exact: true }).click();
      await dialog.waitFor({ state: 'detached' });
      await page.getByRole('button', { name: 'Turn on two-factor sign-in', exact: true }).waitFor();
      const state = (await (await serve.api('/auth/state')).json()) as { totpEnabled: boolean };
      assert.equal(state.totpEnabled, false);
    } finally {
      await context.close();
    }
  });

  test('rotating the API token asks for the password, shows the new token once, and the old one stops working', async () => {
    const { page, close } = await openAdmin(browser, serve);
    try {
      await openSecurityPage(page);
      await page.getByRole('button', { name: 'Rotate token', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Make a new API token?' });
      await waitForText(dialog, 'stops working');
      // Keyboard only: the password field has focus, Enter submits.
      await page.keyboard.type(ADMIN_PASSWORD);
      await page.keyboard.press('Enter');
      const field = page.getByLabel('New API token', { exact: true });
      await field.waitFor();
      const token = await field.inputValue();
      assert.match(token, /^[A-Za-z0-9_-]{40,}$/);
      assert.notEqual(token, serve.token);
      const old = await serve.api('/api/routes');
      assert.equal(old.status, 401, 'the old token is refused');
      const fresh = await fetch(new URL('/api/routes', serve.adminUrl), { headers: { authorization: `Bearer ${token}` } });
      assert.equal(fresh.status, 200);
      assert.doesNotMatch(page.url(), /token/);
      await page.getByRole('button', { name: 'Done', exact: true }).click();
      assert.equal(await page.getByLabel('New API token', { exact: true }).count(), 0, 'shown once');
    } finally {
      await close();
    }
  });

  test('changing the password: the current one is checked on its field, the new one signs in', async () => {
    const { page, close } = await openAdmin(browser, serve);
    try {
      await openSecurityPage(page);
      await page.getByLabel('Current password', { exact: true }).fill('not it');
      await page.getByLabel('New password', { exact: true }).fill('another long password');
      await page.getByLabel('New password again', { exact: true }).fill('another long password');
      await page.getByRole('button', { name: 'Change password', exact: true }).click();
      await waitForText(page.locator('#change-current-password-error'), 'not right');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'change-current-password', 'focus goes to the field to fix');
      await page.getByLabel('Current password', { exact: true }).fill(ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'Change password', exact: true }).click();
      await waitForStatusMessage(page, 'Password changed');
      await navigate(page, '#/', 'Dashboard');

      const context = await browser.newContext({ viewport: VIEWPORT });
      const other = await context.newPage();
      await other.goto(serve.adminUrl);
      await other.getByLabel('Password', { exact: true }).fill('another long password');
      await other.getByRole('button', { name: 'Sign in', exact: true }).click();
      await heading(other, 'Dashboard').waitFor();
      await context.close();

      // Back to the password the other tests use.
      await openSecurityPage(page);
      await page.getByLabel('Current password', { exact: true }).fill('another long password');
      await page.getByLabel('New password', { exact: true }).fill(ADMIN_PASSWORD);
      await page.getByLabel('New password again', { exact: true }).fill(ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'Change password', exact: true }).click();
      // The fields empty once Gatehouse took it (the status line still shows the first change).
      await page.waitForFunction(() => (document.getElementById('change-current-password') as HTMLInputElement | null)?.value === '');
      assert.equal(await page.locator('[aria-invalid="true"]').count(), 0);
    } finally {
      await close();
    }
  });

  test('sessions: the count and the end time are shown; Sign out everywhere asks first and ends every session', async () => {
    const first = await openAdmin(browser, serve);
    const second = await openAdmin(browser, serve);
    try {
      await openSecurityPage(first.page);
      await waitForText(first.page.locator('#sessions-heading + p'), /\d+ browsers are signed in, this one included\. This session ends/);
      await first.page.getByRole('button', { name: 'Sign out everywhere', exact: true }).click();
      const dialog = first.page.getByRole('dialog', { name: 'Sign out everywhere?' });
      await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
      await heading(first.page, TITLE).waitFor();
      await first.page.getByRole('button', { name: 'Sign out everywhere', exact: true }).click();
      await dialog.getByRole('button', { name: 'Sign out everywhere', exact: true }).click();
      await heading(first.page, 'Sign in to Gatehouse').waitFor();
      // The other browser finds out at its next request.
      await navigate(second.page, '#/logs');
      await heading(second.page, 'Sign in to Gatehouse').waitFor();
    } finally {
      await first.close();
      await second.close();
    }
  });
});
