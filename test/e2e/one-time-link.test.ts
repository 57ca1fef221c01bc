// The first sign-in on a headless server, in Chromium: the one-time link `gatehouse serve` prints
// signs the browser in, the UI asks for a password before anything else, and then the dashboard
// opens. The link does not work a second time. And nothing secret is left behind: no page address
// ever holds the token, and Chromium's History database (read as bytes after the browser closed)
// has no "token=" and not the admin token.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';
import { heading, startUiServe } from '../helpers/admin-ui.js';
import { onceLinkIn } from '../helpers/auth.js';
import { browserMissing, CHROMIUM_ARGS, CHROMIUM_PATH, VIEWPORT, waitFor, waitForText } from '../helpers/browser.js';
import type { ServeProcess } from '../helpers/serve.js';

const NEW_PASSWORD = 'four words make a password';

/** Every History* file of the profile (the database and any journal), as one buffer. */
async function historyBytes(profile: string): Promise<Buffer> {
  const dir = join(profile, 'Default');
  const files = (await readdir(dir)).filter((name) => name.startsWith('History'));
  assert.ok(files.includes('History'), `Chromium wrote a History database (found ${files.join(', ') || 'nothing'})`);
  return Buffer.concat(await Promise.all(files.map((name) => readFile(join(dir, name)))));
}

describe('the one-time sign-in link', { skip: browserMissing() }, () => {
  let serve: ServeProcess;
  let profile: string;
  let context: BrowserContext | null = null;
  let other: BrowserContext | null = null;

  before(async () => {
    serve = await startUiServe();
    profile = await mkdtemp(join(tmpdir(), 'gatehouse-profile-'));
  });

  after(async () => {
    await context?.close();
    await other?.close();
    await serve?.stop();
    await rm(profile, { recursive: true, force: true });
  });

  test('signs in once, asks for a password before anything else, and leaves no token in the address or the History', async () => {
    const link = await waitFor('serve to print the one-time link', () => onceLinkIn(serve.stdout()), { describe: () => serve.stdout() });
    assert.ok(link.startsWith(new URL('/auth/once/', serve.adminUrl).href), link);
    assert.doesNotMatch(serve.stdout(), new RegExp(serve.token), 'serve never prints the token');

    // A profile directory of our own, so its History file can be read after the browser closed.
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, viewport: VIEWPORT });
    const page = context.pages()[0] ?? (await context.newPage());
    const addresses: string[] = [];
    page.on('framenavigated', (frame) => frame === page.mainFrame() && addresses.push(frame.url()));

    // Opening the link only shows its button (a link preview spends nothing); the button signs in.
    const shown = await page.goto(link);
    assert.equal(shown?.status(), 200);
    await heading(page, 'Sign in to Gatehouse').waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Sign in with this link', exact: true }).click();
    await heading(page, 'Choose an admin password').waitFor();
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0, 'nothing else before the password');
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('New password again', { exact: true }).fill(`${NEW_PASSWORD}!`);
    await page.getByRole('button', { name: 'Save password', exact: true }).click();
    await waitForText(page.locator('#choose-confirm-password-error'), 'differ');
    await page.getByLabel('New password again', { exact: true }).fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Save password', exact: true }).click();
    await heading(page, 'Dashboard').waitFor();

    const state = (await (await serve.api('/auth/state')).json()) as { passwordSet: boolean };
    assert.equal(state.passwordSet, true, 'the password chosen in the browser is Gatehouse\'s now');
    await page.reload();
    await heading(page, 'Dashboard').waitFor();
    addresses.push(page.url());

    // Used once: in another browser the same link is refused, and the admin asks for the password.
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
    other = await browser.newContext({ viewport: VIEWPORT });
    const second = await other.newPage();
    const refused = await second.goto(link);
    assert.equal(refused?.status(), 410);
    await waitForText(second.locator('h1'), 'does not work any more');
    await second.goto(serve.adminUrl);
    await heading(second, 'Sign in to Gatehouse').waitFor();
    await second.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
    await second.getByRole('button', { name: 'Sign in', exact: true }).click();
    await heading(second, 'Dashboard').waitFor();
    await other.close();
    other = null;
    await browser.close();

    for (const address of addresses) assert.doesNotMatch(address, /token/i, address);
    await context.close();
    context = null;
    const history = await historyBytes(profile);
    assert.ok(history.includes(new URL(serve.adminUrl).host), 'the History holds the admin visits (so the search below means something)');
    assert.equal(history.includes('token='), false, 'no "token=" in Chromium\'s History');
    assert.equal(history.includes(serve.token), false, 'the admin token is not in Chromium\'s History');
  });
});
