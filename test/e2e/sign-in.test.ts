// Signing in to the web UI of the real `gatehouse serve` in Chromium, as a person does: the plain
// admin URL shows the sign-in screen (not a dead dashboard), the password opens the dashboard and
// the session survives a reload and a new tab, a session ended elsewhere brings the sign-in back
// on the same page, signing out ends the cookie on the server too, and repeated wrong passwords
// get the rate limit's message. The failure limit counts per address, so its test comes last.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { heading, startUiServe } from '../helpers/admin-ui.js';
import { ADMIN_PASSWORD, browserMissing, ensureAdminPassword, launchBrowser, navigate, startTogether, VIEWPORT, waitForText } from '../helpers/browser.js';
import type { ServeProcess } from '../helpers/serve.js';

const SIGN_IN = 'Sign in to Gatehouse';

async function freshPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  return { context, page: await context.newPage() };
}

async function signInWithForm(page: Page, password: string): Promise<void> {
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** The admin API's answer to a request that carries only `cookie`. */
async function apiStatusWithCookie(serve: ServeProcess, cookie: string): Promise<number> {
  const response = await fetch(new URL('/api/routes', serve.adminUrl), { headers: { cookie } });
  await response.arrayBuffer();
  return response.status;
}

describe('signing in to the web UI', { skip: browserMissing() }, () => {
  let browser: Browser;
  let serve: ServeProcess;

  before(async () => {
    await startTogether([launchBrowser().then((b) => (browser = b)), startUiServe().then((s) => (serve = s))]);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
  });

  test('without a password set, the screen explains the two ways in and offers no field to set one', async () => {
    const { context, page } = await freshPage(browser);
    try {
      await page.goto(serve.adminUrl);
      await heading(page, SIGN_IN).waitFor();
      await waitForText(page.locator('main'), 'gatehouse set-password');
      assert.match((await page.locator('main').textContent()) ?? '', /one-time sign-in link/);
      assert.equal(await page.locator('input[type="password"]').count(), 0, 'an anonymous visitor is never asked to choose a password');
      assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0);
    } finally {
      await context.close();
    }
  });

  test('the admin URL shows the sign-in screen; a wrong password is said on its field; the right one opens the dashboard', async () => {
    await ensureAdminPassword(serve);
    const { context, page } = await freshPage(browser);
    try {
      await page.goto(serve.adminUrl);
      await heading(page, SIGN_IN).waitFor();
      assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0, 'no dashboard behind the sign-in screen');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'sign-in-password', 'the password field has focus');

      await signInWithForm(page, 'not the password at all');
      const error = await waitForText(page.locator('#sign-in-password-error'), /not right/i);
      assert.ok(error.length > 0);
      assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');

      await signInWithForm(page, ADMIN_PASSWORD);
      await heading(page, 'Dashboard').waitFor();
      assert.equal(new URL(page.url()).hash, '#/');
      assert.doesNotMatch(page.url(), /token/);

      await page.reload();
      await heading(page, 'Dashboard').waitFor();
      const second = await context.newPage();
      await second.goto(`${serve.adminUrl}#/logs`);
      await heading(second, 'Logs').waitFor();
      assert.equal(await second.getByRole('heading', { name: SIGN_IN }).count(), 0);
    } finally {
      await context.close();
    }
  });

  test('a session ended elsewhere brings the sign-in back on the same page, and signing in returns to it', async () => {
    await ensureAdminPassword(serve);
    const { context, page } = await freshPage(browser);
    try {
      await page.goto(`${serve.adminUrl}#/settings`);
      await signInWithForm(page, ADMIN_PASSWORD);
      await heading(page, 'Settings').waitFor();
      // Every session ends (a script with the bearer token signs everyone out).
      const ended = await serve.api('/auth/sign-out-everywhere', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(ended.status, 200);
      await navigate(page, '#/logs');
      await heading(page, SIGN_IN).waitFor();
      await waitForText(page.locator('main'), 'Your session has ended');
      assert.equal(new URL(page.url()).hash, '#/logs', 'the address still names the page');
      // Keyboard only: the password field has focus, Enter signs in.
      await page.waitForFunction(() => document.activeElement?.id === 'sign-in-password');
      await page.keyboard.type(ADMIN_PASSWORD);
      await page.keyboard.press('Enter');
      await heading(page, 'Logs').waitFor();
    } finally {
      await context.close();
    }
  });

  test('Sign out in the navigation shows the sign-in screen, and the old cookie no longer opens the API', async () => {
    await ensureAdminPassword(serve);
    const { context, page } = await freshPage(browser);
    try {
      await page.goto(serve.adminUrl);
      await signInWithForm(page, ADMIN_PASSWORD);
      await heading(page, 'Dashboard').waitFor();
      const cookies = await context.cookies(serve.adminUrl);
      assert.equal(cookies.length, 1, 'one session cookie');
      const cookie = `${cookies[0]!.name}=${cookies[0]!.value}`;
      assert.equal(cookies[0]!.httpOnly, true);
      assert.equal(cookies[0]!.sameSite, 'Strict');
      assert.equal(await apiStatusWithCookie(serve, cookie), 200);

      await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Sign out', exact: true }).click();
      await heading(page, SIGN_IN).waitFor();
      await waitForText(page.locator('main'), 'You are signed out');
      assert.equal(await apiStatusWithCookie(serve, cookie), 401, 'the server forgot the session, not only the browser');
      await page.reload();
      await heading(page, SIGN_IN).waitFor();
    } finally {
      await context.close();
    }
  });

  test('an old bookmark with #token= shows sign-in and loses the token from the address', async () => {
    await ensureAdminPassword(serve);
    const { context, page } = await freshPage(browser);
    try {
      await page.goto(`${serve.adminUrl}#token=${serve.token}`);
      await heading(page, SIGN_IN).waitFor();
      assert.doesNotMatch(page.url(), /token/);
      assert.deepEqual(await page.evaluate(() => Object.keys(sessionStorage)), [], 'nothing kept in the tab');
    } finally {
      await context.close();
    }
  });

  test('after repeated wrong passwords the form says when to try again', async () => {
    await ensureAdminPassword(serve);
    const { context, page } = await freshPage(browser);
    try {
      await page.goto(serve.adminUrl);
      await heading(page, SIGN_IN).waitFor();
      const alert = page.locator('form [role="alert"]');
      for (let attempt = 0; attempt < 8 && (await alert.count()) === 0; attempt++) {
        await signInWithForm(page, `wrong password ${attempt}`);
        await page.waitForFunction(() => document.querySelector('[aria-invalid="true"], form [role="alert"]') !== null);
        await page.waitForFunction(() => !document.querySelector('button[type="submit"][aria-disabled="true"]'));
      }
      const text = await waitForText(alert, /Try again in \d+ minutes?/);
      assert.match(text, /Too many failed attempts/);
      // The right password is refused too until the wait is over: the limit is not a hint.
      await signInWithForm(page, ADMIN_PASSWORD);
      await waitForText(alert, /Try again in/);
      assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0);
    } finally {
      await context.close();
    }
  });
});
