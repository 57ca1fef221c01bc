// The Access page and the route form's "Who can reach this" in Chromium against the real
// `gatehouse serve`: an access list made from pasted lines keeps the order shown (and moved), is
// attached to a route through the form, cannot be deleted while in use (the refusal names the
// route), and "Would this address get in?" shows the core's own verdict in plain words (a LAN
// address and 203.0.113.5 on a this-network-only route); a sign-in provider added from each preset
// shows, and saves, the exact URL and the preset's hint; a user added, re-passworded and removed on
// the page is what the proxy's basic sign-in lets in (401/200).
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Browser } from 'playwright-core';
import type { AccessOverview, AccessVerdict } from '../../shared/access.js';
import { FORWARD_AUTH_PRESETS } from '../../shared/forward-auth-presets.js';
import type { Route } from '../../shared/model.js';
import { verdictHeadline } from '../../src-renderer/access/access-words.js';
import { addRoute, apiJson, heading, proxyPort, startUiServe, waitForStatusMessage } from '../helpers/admin-ui.js';
import { browserMissing, launchBrowser, navigate, openAdmin, startTogether, waitFor } from '../helpers/browser.js';
import type { ServeProcess } from '../helpers/serve.js';
import { startEchoUpstream, type Upstream } from '../helpers/upstream.js';

const access = (serve: ServeProcess) => apiJson<AccessOverview>(serve, '/api/access');

async function openAccessPage(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Access', exact: true }).click();
  await heading(page, 'Access').waitFor();
}

describe('the Access page', { skip: browserMissing() }, () => {
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

  test('a list made on the page, attached in the route form, checked against an address', async () => {
    const wiki = await addRoute(serve, { title: 'Wiki', names: ['wiki.home.arpa'], upstream: upstream.address });
    const { page, close } = await openAdmin(browser, serve);
    try {
      await openAccessPage(page);
      const you = (await access(serve)).yourAddress;
      assert.ok(you, 'over HTTP the core knows the caller’s address');
      await page.getByText(`As Gatehouse sees it: ${you}`).waitFor();
      await page.getByText("Read top to bottom; the first entry that matches decides. If none matches, the route's exposure decides.").first().waitFor();

      await page.getByRole('button', { name: 'New list', exact: true }).click();
      await page.getByLabel('List name').fill('Family');
      await page.getByLabel('Paste addresses').fill('deny 127.0.0.9 the test box\n127.0.0.0/8');
      await page.getByRole('button', { name: 'Add to the end', exact: true }).click();
      const range = (n: number) => page.getByLabel(`Entry ${n}: address or range`, { exact: true });
      assert.equal(await range(1).inputValue(), '127.0.0.9');
      assert.equal(await range(2).inputValue(), '127.0.0.0/8');
      await page.getByRole('button', { name: 'Move entry 2 up', exact: true }).click();
      assert.equal(await range(1).inputValue(), '127.0.0.0/8', 'moved up, shown first');
      await page.getByRole('button', { name: 'Move entry 1 down', exact: true }).click();
      assert.equal(await range(1).inputValue(), '127.0.0.9');
      await page.getByRole('button', { name: 'Create list', exact: true }).click();
      await waitForStatusMessage(page, 'Access list created: Family');
      const [family] = (await access(serve)).lists;
      assert.deepEqual(family?.entries, [
        { action: 'deny', range: '127.0.0.9', note: 'the test box' },
        { action: 'allow', range: '127.0.0.0/8', note: '' },
      ]);
      await page.getByText('Not used by any route').waitFor();

      // Attach it in the route form.
      await navigate(page, `#/routes/${encodeURIComponent(wiki.id)}`, 'Edit route');
      await page.getByRole('group', { name: 'Who can reach this' }).waitFor();
      await page.getByLabel('List to attach').selectOption({ label: 'Family (2 entries)' });
      await page.getByRole('button', { name: 'Attach', exact: true }).click();
      await page.getByRole('list', { name: 'Attached lists, in order' }).getByText('Family').waitFor();
      await page.getByRole('button', { name: 'Save route', exact: true }).click();
      await waitForStatusMessage(page, 'Route saved');
      const saved = await apiJson<Route>(serve, `/api/routes/${encodeURIComponent(wiki.id)}`);
      assert.deepEqual(saved.access.lists, [family!.id]);

      // In use: the list says so, and deleting it is refused naming the route.
      await openAccessPage(page);
      await page.getByText('Used by Wiki').waitFor();
      await page.getByRole('button', { name: 'Delete Family', exact: true }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete list', exact: true }).click();
      await page.getByRole('alert').filter({ hasText: '"Family" is used by "Wiki"' }).waitFor();
      assert.equal((await access(serve)).lists.length, 1, 'the list is still there');

      // "Would this address get in?" shows the core's verdict for the route, step by step.
      await page.getByLabel('Route', { exact: true }).selectOption({ label: 'Wiki' });
      await page.getByLabel('Address', { exact: true }).fill('127.0.0.9');
      await page.getByRole('button', { name: 'Check', exact: true }).click();
      const verdict = await apiJson<AccessVerdict>(serve, '/api/access/check', { method: 'POST', body: { routeId: wiki.id, address: '127.0.0.9' } });
      const shown = page.getByRole('status').filter({ hasText: verdictHeadline(verdict) });
      await shown.waitFor();
      // Steps after the deciding one may share its reason ("the access list … decided"): each reason shows as often as the core gave it.
      for (const step of verdict.steps) {
        const times = verdict.steps.filter((other) => other.reason === step.reason).length;
        assert.equal(await shown.getByText(step.reason, { exact: true }).count(), times, step.reason);
      }
      assert.equal(await shown.getByRole('listitem').count(), verdict.steps.length, 'one line per step the core took');

      await page.getByLabel('Address', { exact: true }).fill('127.0.0.300');
      await page.getByRole('button', { name: 'Check', exact: true }).click();
      await page.getByText('enter an IP address, such as 203.0.113.5').waitFor();
    } finally {
      await close();
    }
  });

  test('a sign-in provider from each preset gets the exact URL and the preset’s hint, shown before saving', async () => {
    const { presets } = await access(serve);
    assert.deepEqual(
      presets.map((preset) => preset.kind),
      FORWARD_AUTH_PRESETS.map((preset) => preset.kind),
      'the core reports the shared presets',
    );
    const { page, close } = await openAdmin(browser, serve);
    try {
      await openAccessPage(page);
      for (const preset of presets) {
        await page.getByRole('button', { name: 'Add provider', exact: true }).click();
        const form = page.getByRole('form', { name: 'Add sign-in provider' });
        const expected = `http://10.33.0.5:${preset.examplePort}${preset.path}`;
        await form.getByLabel(preset.label, { exact: true }).check();
        await form.getByLabel(`${preset.label} server's address`).fill('10.33.0.5');
        await waitFor(`the URL ${expected} on the page`, async () => (await form.getByTestId('provider-url').textContent()) === expected || null);
        assert.equal(await form.getByTestId('preset-hint').textContent(), preset.hint, `${preset.label}'s hint under the address`);
        assert.equal(await form.getByRole('link', { name: `${preset.label}'s documentation` }).getAttribute('href'), preset.docs);
        assert.equal(await form.getByLabel('Headers copied to the service').inputValue(), preset.copyHeaders.join('\n'));
        await form.getByRole('button', { name: 'Add provider', exact: true }).click();
        await waitForStatusMessage(page, `Sign-in provider added: ${preset.label}`);
        const provider = (await access(serve)).providers.find((candidate) => candidate.kind === preset.kind);
        assert.equal(provider?.url, expected, `${preset.label} stored with the URL shown`);
        assert.equal(provider?.name, preset.label);
        assert.deepEqual(provider?.copyHeaders, preset.copyHeaders);
        await page.getByText(expected, { exact: true }).waitFor();
      }
      assert.equal((await access(serve)).providers.length, presets.length);
    } finally {
      await close();
    }
  });

  test('a user added, given a new password and removed on the page signs in through the proxy, then no longer', async () => {
    const { page, close } = await openAdmin(browser, serve);
    try {
      await openAccessPage(page);
      await page.getByRole('button', { name: 'Add user', exact: true }).click();
      const adding = page.getByRole('form', { name: 'Add user' });
      await adding.getByLabel('User name', { exact: true }).fill('alice');
      await adding.getByLabel('Password', { exact: true }).fill('first password 123');
      await adding.getByLabel('Password again', { exact: true }).fill('first password 12');
      await adding.getByRole('button', { name: 'Add user', exact: true }).click();
      await adding.getByText('the two passwords differ; type the same password twice').waitFor();
      await adding.getByLabel('Password again', { exact: true }).fill('first password 123');
      await adding.getByRole('button', { name: 'Add user', exact: true }).click();
      await waitForStatusMessage(page, 'User added: alice');
      assert.deepEqual((await access(serve)).users.map((user) => user.name), ['alice']);

      const notes = await addRoute(serve, { title: 'Notes', names: ['notes.home.arpa'], upstream: upstream.address, access: { signIn: { method: 'basic', users: ['alice'] } } });
      assert.equal(notes.access.signIn.method, 'basic');
      const ask = (password: string | null) => proxyGet(serve, 'notes.home.arpa', password === null ? null : `alice:${password}`);
      await waitFor('the route answering through the proxy', async () => ((await ask('first password 123')) === 200 ? true : null));
      assert.equal(await ask(null), 401, 'no password: asked for one');
      assert.equal(await ask('wrong password 123'), 401);

      await page.getByRole('button', { name: 'Change password of alice', exact: true }).click();
      const changing = page.getByRole('form', { name: 'Change password of alice' });
      await changing.getByLabel('New password for alice', { exact: true }).fill('second password 456');
      await changing.getByLabel('Password again', { exact: true }).fill('second password 456');
      await changing.getByRole('button', { name: 'Change password', exact: true }).click();
      await waitForStatusMessage(page, 'Password changed for alice');
      await waitFor('the new password letting alice in', async () => ((await ask('second password 456')) === 200 ? true : null));
      assert.equal(await ask('first password 123'), 401, 'the old password no longer works');

      await page.getByRole('button', { name: 'Remove alice', exact: true }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Remove user', exact: true }).click();
      await waitForStatusMessage(page, 'User removed: alice');
      await page.getByText('No users yet.').waitFor();
      assert.deepEqual((await access(serve)).users, []);
      await waitFor('alice refused once removed', async () => ((await ask('second password 456')) === 401 ? true : null));
    } finally {
      await close();
    }
  });

  test('"Would this address get in?" on a this-network-only route, in plain words', async () => {
    await addRoute(serve, { title: 'Photos', names: ['photos.home.arpa'], upstream: upstream.address });
    const { page, close } = await openAdmin(browser, serve);
    try {
      await openAccessPage(page);
      const check = async (address: string) => {
        await page.getByLabel('Route', { exact: true }).selectOption({ label: 'Photos' });
        await page.getByLabel('Address', { exact: true }).fill(address);
        await page.getByRole('button', { name: 'Check', exact: true }).click();
        const shown = page.getByRole('status').filter({ has: page.getByRole('heading', { name: address }) });
        await shown.waitFor();
        return shown;
      };

      const lan = await check('192.168.1.20');
      await lan.getByRole('heading', { name: '192.168.1.20 gets in.', exact: true }).waitFor();
      await lan.getByText('It is on this network.', { exact: true }).waitFor();
      const lanExposure = lan.getByRole('listitem').filter({ hasText: 'Who can reach it' });
      await lanExposure.getByText('192.168.1.20 is on this network', { exact: true }).waitFor();
      assert.match((await lanExposure.textContent()) ?? '', /Passed/);

      const outside = await check('203.0.113.5');
      await outside.getByRole('heading', { name: '203.0.113.5 is refused.', exact: true }).waitFor();
      // The country database may place the documentation range (203.0.113.0/24 is APNIC's): named, with its code.
      await outside.getByText(/^It is outside this network(, in [A-Z][^(]+ \([A-Z]{2}\))?\.$/).waitFor();
      const refusedBy = outside.getByRole('listitem').filter({ has: page.getByText('Refused', { exact: true }) });
      assert.equal(await refusedBy.count(), 1, 'one step refuses it');
      assert.match((await refusedBy.textContent()) ?? '', /^Who can reach it/, 'refused by the exposure');
      await refusedBy.getByText('203.0.113.5 is not on this network, and the route is open to this network only', { exact: true }).waitFor();
    } finally {
      await close();
    }
  });
});

/** GET / of `host` through the proxy with HTTP basic credentials ("user:password"); the status. */
async function proxyGet(serve: ServeProcess, host: string, credentials: string | null): Promise<number> {
  const port = await proxyPort(serve);
  assert.ok(port, 'the proxy is listening');
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host };
    if (credentials !== null) headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
    const request = httpRequest({ host: '127.0.0.1', port, path: '/', headers, agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.setTimeout(5000, () => request.destroy(new Error(`no answer from ${host} within 5 s`)));
    request.on('error', reject);
    request.end();
  });
}
