// The route form's answers to bad input (inline, per field, with the shared schema's own message,
// and nothing saved), and the keyboard: the form filled and submitted without a mouse, and the
// delete dialog closed with Escape, focus back where it was.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { hostnameProblem, normalizeHostname, parseUpstream } from '../../shared/model.js';
import { addRoute, apiAnswer, heading, listRoutes, routeRow, settingsFile, startUiServe, waitForStatusMessage } from '../helpers/admin-ui.js';
import { browserMissing, startTogether, focusIsVisible, launchBrowser, navigate, openAdmin, tabTo, waitFor, waitForText } from '../helpers/browser.js';
import type { ServeProcess } from '../helpers/serve.js';
import { startEchoUpstream, type Upstream } from '../helpers/upstream.js';

/** The field's error message: the text of the elements its aria-describedby names, or null when it is valid. */
async function fieldError(page: Page, field: Locator): Promise<string | null> {
  if ((await field.getAttribute('aria-invalid')) !== 'true') return null;
  const ids = (await field.getAttribute('aria-describedby'))?.split(/\s+/).filter(Boolean) ?? [];
  const texts = await Promise.all(ids.map((id) => page.locator(`[id="${id}"]`).textContent()));
  return texts.join(' ').replace(/\s+/g, ' ').trim();
}

function problemOf(upstream: string): string {
  const parsed = parseUpstream(upstream);
  assert.ok('problem' in parsed, `${upstream} is a bad upstream`);
  return parsed.problem;
}

describe('route form input', { skip: browserMissing() }, () => {
  let browser: Browser;
  let serve: ServeProcess;
  let upstream: Upstream;

  before(async () => {
    await startTogether([
      launchBrowser().then((b) => (browser = b)),
      startUiServe().then((s) => (serve = s)),
      startEchoUpstream('form').then((u) => (upstream = u)),
    ]);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
    await upstream?.close();
  });

  test('bad input shows an inline error per field, with the schema message, and saves nothing', async () => {
    await addRoute(serve, { title: 'Taken', names: ['taken.home.arpa'], upstream: upstream.address });
    const routesBefore = await listRoutes(serve);
    const fileBefore = await settingsFile(serve);
    const { page, close } = await openAdmin(browser, serve, { hash: '#/routes/new' });
    try {
      await heading(page, 'Add route').waitFor();
      const names = page.getByLabel('Host names', { exact: true });
      const target = page.getByLabel('Upstream', { exact: true });
      const trusted = page.getByLabel('Trusted proxies for this route', { exact: true });
      await names.fill('http://nas.home.arpa/');
      await target.fill('nas.home.arpa');
      // The box appears only once "Only these addresses" is chosen (the other choices need none).
      assert.equal(await trusted.count(), 0, 'no address box while the route uses the global list');
      await page.getByRole('radio', { name: 'Only these addresses', exact: true }).check();
      await trusted.fill('10.33.0.300');
      await page.getByRole('button', { name: 'Save route', exact: true }).click();

      const nameMessage = hostnameProblem(normalizeHostname('http://nas.home.arpa/'))!;
      await waitFor('the Host names error', async () => (await fieldError(page, names))?.includes(nameMessage), {
        describe: async () => `aria-invalid=${await names.getAttribute('aria-invalid')}, message=${await fieldError(page, names)}`,
      });
      assert.ok((await fieldError(page, target))?.includes(problemOf('nas.home.arpa')), `Upstream says: ${await fieldError(page, target)}`);
      assert.ok((await fieldError(page, trusted))?.includes('enter an IP address or a CIDR range'), `Trusted proxies says: ${await fieldError(page, trusted)}`);
      assert.equal(await heading(page, 'Add route').count(), 1, 'the form stays open');

      // Corrected while typing (after the first blur), each error goes away on its own.
      await target.fill(upstream.address);
      await trusted.fill('');
      // An empty box with "Only these addresses" would save as "trust nobody": the form says so instead.
      await waitFor('the empty-list message on Trusted proxies', async () => (await fieldError(page, trusted))?.includes('add at least one IP address or CIDR range, or choose another option'), {
        describe: async () => `message=${await fieldError(page, trusted)}`,
      });
      await trusted.fill('10.33.0.30');
      await names.fill('nas.home.arpa');
      await names.blur();
      for (const field of [names, target, trusted]) {
        await waitFor(`${String(field)} to be valid again`, async () => (await field.getAttribute('aria-invalid')) !== 'true');
      }

      // A name another route owns passes the schema; the server refuses it, and the form says why.
      await names.fill('taken.home.arpa');
      const refusal = await apiAnswer(serve, '/api/routes', { method: 'POST', body: { names: ['taken.home.arpa'], upstream: upstream.address } });
      assert.equal(refusal.status, 409);
      const serverMessage = refusal.body!.error!.message;
      await page.getByRole('button', { name: 'Save route', exact: true }).click();
      await waitFor(
        `the server's message "${serverMessage}" in the alert or on Host names`,
        async () => {
          const alerts = await page.getByRole('alert').allTextContents();
          return alerts.some((text) => text.includes(serverMessage)) || Boolean((await fieldError(page, names))?.includes(serverMessage));
        },
        { describe: async () => (await page.getByRole('alert').allTextContents()).join(' | ') || '(no alert)' },
      );
      assert.equal(await heading(page, 'Add route').count(), 1, 'the form stays open');

      assert.deepEqual(await listRoutes(serve), routesBefore, 'no route was added or changed');
      assert.equal(await settingsFile(serve), fileBefore, 'settings.json was not rewritten');
    } finally {
      await close();
    }
  });

  test('editing a route that trusts nobody keeps it trusting nobody (not the global list)', async () => {
    const stored = await addRoute(serve, { title: 'Nobody', names: ['nobody.home.arpa'], upstream: upstream.address, trustedProxies: [] });
    const { page, close } = await openAdmin(browser, serve, { hash: `#/routes/${stored.id}` });
    try {
      await heading(page, 'Edit route').waitFor();
      const nobody = page.getByRole('radio', { name: 'Trust nobody for this route', exact: true });
      await nobody.waitFor();
      assert.equal(await nobody.isChecked(), true, 'the stored [] shows as "Trust nobody for this route"');
      assert.equal(await page.getByRole('radio', { name: 'Use the global list (Settings)', exact: true }).isChecked(), false);
      await page.getByLabel('Title', { exact: true }).fill('Nobody at all');
      await page.getByRole('button', { name: 'Save route', exact: true }).click();
      await waitForStatusMessage(page, 'Route saved');
      const saved = (await listRoutes(serve)).find((route) => route.id === stored.id);
      assert.deepEqual({ title: saved?.title, trustedProxies: saved?.trustedProxies }, { title: 'Nobody at all', trustedProxies: [] });
    } finally {
      await close();
    }
  });

  test('the route form can be reached, filled and submitted with the keyboard only, focus always visible', async () => {
    const { page, close } = await openAdmin(browser, serve);
    try {
      await heading(page, 'Dashboard').waitFor();
      await tabTo(page, page.getByRole('link', { name: 'Add route', exact: true }).first());
      assert.ok(await focusIsVisible(page), 'the focused "Add route" link shows a focus ring');
      await page.keyboard.press('Enter');
      await heading(page, 'Add route').waitFor();

      for (const [label, text] of [
        ['Title', 'Keys'],
        ['Host names', 'keys.home.arpa'],
        ['Upstream', upstream.address],
      ] as const) {
        await tabTo(page, page.getByLabel(label, { exact: true }));
        assert.ok(await focusIsVisible(page), `the focused "${label}" field shows a focus ring`);
        await page.keyboard.type(text);
      }
      await tabTo(page, page.getByRole('button', { name: 'Save route', exact: true }));
      assert.ok(await focusIsVisible(page), 'the focused "Save route" button shows a focus ring');
      await page.keyboard.press('Enter');

      await heading(page, 'Dashboard').waitFor();
      await routeRow(page, 'Keys').waitFor();
      const saved = (await listRoutes(serve)).find((route) => route.title === 'Keys');
      assert.deepEqual({ names: saved?.names, upstream: saved?.upstreams[0]?.url }, { names: ['keys.home.arpa'], upstream: upstream.url });
    } finally {
      await close();
    }
  });

  test('the delete dialog takes focus, closes with Escape without deleting, and focus returns to its button', async () => {
    await addRoute(serve, { title: 'Escape', names: ['escape.home.arpa'], upstream: upstream.address });
    const { page, close } = await openAdmin(browser, serve);
    try {
      await navigate(page, '#/', 'Dashboard');
      const deleteButton = page.getByRole('button', { name: 'Delete Escape', exact: true });
      await deleteButton.waitFor();
      await tabTo(page, deleteButton, 80);
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: 'Delete Escape?', exact: true });
      await dialog.waitFor();
      await waitFor('focus to move into the dialog', () => dialog.evaluate((element) => element.contains(document.activeElement)));

      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      await waitFor('focus to return to "Delete Escape"', () => deleteButton.evaluate((element) => element === document.activeElement), {
        describe: () => page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120) ?? 'nothing'),
      });
      assert.ok((await listRoutes(serve)).some((route) => route.title === 'Escape'), 'Escape deleted nothing');
      await waitForText(routeRow(page, 'Escape'), 'escape.home.arpa');
    } finally {
      await close();
    }
  });
});
