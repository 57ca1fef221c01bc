// A person manages routes in Chromium against the real `gatehouse serve`, and every change is
// checked where it matters: in the admin API and in real requests through the proxy to real
// upstream servers on 127.0.0.1.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addRoute, cell, columnHeaders, heading, listRoutes, numberIn, proxyPort, routeRow, routesTable, uiWithTwoEchoes, waitForStatusMessage } from '../helpers/admin-ui.js';
import { browserMissing, openAdmin, waitFor, waitForText } from '../helpers/browser.js';
import { answeredBy, requestThrough } from '../helpers/upstream.js';

describe('routes in the browser', { skip: browserMissing() }, () => {
  const ui = uiWithTwoEchoes();

  test('the Main navigation reaches every page, marks the current one, and an unknown page says so', async () => {
    const { page, close } = await openAdmin(ui.browser, ui.serve);
    try {
      const nav = page.getByRole('navigation', { name: 'Main', exact: true });
      for (const [link, title, hash] of [
        ['Logs', 'Logs', '#/logs'],
        ['Settings', 'Settings', '#/settings'],
        ['Dashboard', 'Dashboard', '#/'],
      ] as const) {
        await nav.getByRole('link', { name: link, exact: true }).click();
        await heading(page, title).waitFor();
        assert.equal(await page.evaluate(() => location.hash), hash);
        assert.equal(await page.getByRole('heading', { level: 1 }).count(), 1, `one h1 on ${title}`);
        const current = await nav.locator('[aria-current="page"]').allTextContents();
        assert.deepEqual(current.map((text) => text.trim()), [link], `only "${link}" is marked current`);
      }
      await page.evaluate(() => (location.hash = '#/no-such-page'));
      await page.getByRole('heading', { name: 'Page not found', exact: true }).waitFor();
      // The page's own "Dashboard" link, after the one in the navigation.
      assert.equal(await page.getByRole('link', { name: 'Dashboard', exact: true }).count(), 2);
      await page.getByRole('link', { name: 'Dashboard', exact: true }).last().click();
      await heading(page, 'Dashboard').waitFor();
    } finally {
      await close();
    }
  });

  test('a route added in the form is listed live, Up, counts its requests, and answers through the proxy', async () => {
    const { page, close } = await openAdmin(ui.browser, ui.serve);
    try {
      await heading(page, 'Dashboard').waitFor();
      // Set once; a reload would lose it, so it proves the dashboard updated without one.
      await page.evaluate(() => ((window as unknown as { noReload: boolean }).noReload = true));
      await page.getByRole('link', { name: 'Add route', exact: true }).first().click();
      await heading(page, 'Add route').waitFor();
      await page.getByLabel('Title', { exact: true }).fill('Jellyfin');
      await page.getByLabel('Host names', { exact: true }).fill('jellyfin.home.arpa\nmedia.home.arpa');
      await page.getByLabel('Upstream', { exact: true }).fill(ui.first.address);
      await page.getByRole('button', { name: 'Save route', exact: true }).click();

      await heading(page, 'Dashboard').waitFor();
      await waitForStatusMessage(page, 'Route saved');
      const [route] = await listRoutes(ui.serve);
      assert.ok(route, 'the admin API lists the new route');
      assert.deepEqual(
        { title: route.title, names: route.names, upstream: route.upstreams[0]?.url, enabled: route.enabled, websocket: route.websocket },
        { title: 'Jellyfin', names: ['jellyfin.home.arpa', 'media.home.arpa'], upstream: ui.first.url, enabled: true, websocket: true },
      );

      const row = routeRow(page, 'Jellyfin');
      await row.waitFor();
      const columns = await columnHeaders(routesTable(page));
      for (const name of ['Service', 'Names', 'Upstream', 'Status', 'Req/min', 'Errors since start', 'p99']) {
        assert.ok(columns.includes(name), `the Routes table has a "${name}" column (it has ${JSON.stringify(columns)})`);
      }
      await waitFor('the Jellyfin row to show Up', async () => /\bUp\b/.test((await cell(row, 'Status')).text), {
        describe: async () => JSON.stringify(await cell(row, 'Status')),
      });
      assert.match((await cell(row, 'Names')).text, /jellyfin\.home\.arpa.*media\.home\.arpa/);
      assert.ok((await cell(row, 'Upstream')).text.includes(ui.first.address), 'the Upstream column shows host:port');

      const before = numberIn(await cell(row, 'Req/min'));
      const port = (await proxyPort(ui.serve))!;
      for (let i = 0; i < 5; i++) assert.equal(await answeredBy(port, i % 2 ? 'media.home.arpa' : 'jellyfin.home.arpa', `/item/${i}`), 'first');
      const after = await waitFor(
        'Req/min to count the 5 requests',
        async () => {
          const value = numberIn(await cell(row, 'Req/min'));
          return value >= before + 5 ? value : null;
        },
        { describe: async () => JSON.stringify(await cell(row, 'Req/min')) },
      );
      assert.ok(after >= 5);
      assert.equal(await page.evaluate(() => (window as unknown as { noReload?: boolean }).noReload), true, 'the page was not reloaded');
    } finally {
      await close();
    }
  });

  test('editing the upstream moves the traffic to the second server', async () => {
    const route = await addRoute(ui.serve, { title: 'Wiki', names: ['wiki.home.arpa'], upstream: ui.first.address });
    const port = (await proxyPort(ui.serve))!;
    assert.equal(await answeredBy(port, 'wiki.home.arpa'), 'first');
    const { page, close } = await openAdmin(ui.browser, ui.serve);
    try {
      await page.getByRole('link', { name: 'Edit Wiki', exact: true }).click();
      await heading(page, 'Edit route').waitFor();
      assert.equal(await page.getByLabel('Title', { exact: true }).inputValue(), 'Wiki');
      assert.equal(await page.getByLabel('Host names', { exact: true }).inputValue(), 'wiki.home.arpa');
      assert.ok((await page.getByLabel('Upstream', { exact: true }).inputValue()).includes(`127.0.0.1:${ui.first.port}`));

      await page.getByLabel('Upstream', { exact: true }).fill(ui.second.address);
      await page.getByRole('button', { name: 'Save route', exact: true }).click();
      await heading(page, 'Dashboard').waitFor();
      await waitForStatusMessage(page, 'Route saved');
      await waitForText(routeRow(page, 'Wiki'), ui.second.address);

      const saved = (await listRoutes(ui.serve)).find((r) => r.id === route.id);
      assert.deepEqual(saved?.upstreams.map((target) => target.url), [ui.second.url], 'the same route (same id) now points at the second server only');
      assert.equal(await answeredBy(port, 'wiki.home.arpa'), 'second');
    } finally {
      await close();
    }
  });

  test('delete asks first; after Delete the route is gone, and Undo brings it back', async () => {
    await addRoute(ui.serve, { title: 'Photos', names: ['photos.home.arpa'], upstream: ui.first.address });
    const port = (await proxyPort(ui.serve))!;
    const { page, close } = await openAdmin(ui.browser, ui.serve);
    try {
      const row = routeRow(page, 'Photos');
      await row.waitFor();
      await page.getByRole('button', { name: 'Delete Photos', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete Photos?', exact: true });
      await dialog.waitFor();
      assert.equal(await dialog.getAttribute('aria-modal'), 'true');
      assert.equal((await listRoutes(ui.serve)).filter((r) => r.title === 'Photos').length, 1, 'nothing is deleted before confirming');

      await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
      await dialog.waitFor({ state: 'hidden' });
      await row.waitFor({ state: 'detached' });
      await waitForStatusMessage(page, 'Route deleted');
      assert.equal((await listRoutes(ui.serve)).some((r) => r.names.includes('photos.home.arpa')), false);
      assert.notEqual(await answeredBy(port, 'photos.home.arpa'), 'first', 'the proxy no longer routes the name');

      await page.getByRole('status').filter({ hasText: 'Route deleted' }).getByRole('button', { name: 'Undo', exact: true }).click();
      await row.waitFor();
      const restored = (await listRoutes(ui.serve)).find((r) => r.names.includes('photos.home.arpa'));
      assert.deepEqual({ title: restored?.title, upstream: restored?.upstreams[0]?.url }, { title: 'Photos', upstream: ui.first.url });
      assert.equal(await answeredBy(port, 'photos.home.arpa'), 'first');
    } finally {
      await close();
    }
  });

  test('Stop proxy and Start proxy change the state shown and what the port answers', async () => {
    await addRoute(ui.serve, { title: 'Echo', names: ['echo.home.arpa'], upstream: ui.first.address });
    const { page, close } = await openAdmin(ui.browser, ui.serve);
    try {
      const state = page.getByTestId('proxy-state');
      await waitForText(state, 'Running');
      const start = page.getByRole('button', { name: 'Start proxy', exact: true });
      const stop = page.getByRole('button', { name: 'Stop proxy', exact: true });
      assert.ok((await start.count()) === 0 || (await start.isDisabled()), 'Start proxy is not offered while running');
      const runningPort = (await proxyPort(ui.serve))!;
      await waitForText(page.locator('body'), `:${runningPort}`);

      await stop.click();
      // Stopping asks first (issue 12); the dialog's own button stops it.
      await page.getByRole('dialog', { name: 'Stop the proxy?' }).getByRole('button', { name: 'Stop proxy', exact: true }).click();
      await waitForText(state, 'Stopped');
      assert.equal(await proxyPort(ui.serve), null);
      await assert.rejects(requestThrough(runningPort, 'echo.home.arpa'), /ECONNREFUSED/);
      assert.ok((await stop.count()) === 0 || (await stop.isDisabled()), 'Stop proxy is not offered while stopped');

      await start.click();
      await waitForText(state, 'Running');
      const port = await waitFor('the API to report the listener', () => proxyPort(ui.serve));
      assert.equal(await answeredBy(port, 'echo.home.arpa'), 'first');
    } finally {
      await close();
    }
  });
});
