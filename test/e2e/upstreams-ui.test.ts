// Several servers per route, through the admin UI of a real `gatehouse serve`: a person adds a
// route with two upstreams in the form, sees both on the dashboard, drains one with its button (the
// question says how many requests are under way), and the API, the proxy's traffic and the page all
// agree; Put back undoes it. Both upstreams are real echo servers on 127.0.0.1.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { heading, listRoutes, proxyPort, routeRow, uiWithTwoEchoes, waitForStatusMessage } from '../helpers/admin-ui.js';
import { browserMissing, openAdmin, waitFor, waitForText } from '../helpers/browser.js';
import { answeredBy } from '../helpers/upstream.js';

describe('several upstreams in the browser', { skip: browserMissing() }, () => {
  const ui = uiWithTwoEchoes();

  test('add a route with two servers, see both, drain one with the button, put it back', async () => {
    const { page, close } = await openAdmin(ui.browser, ui.serve, { hash: '#/routes/new' });
    try {
      await heading(page, 'Add route').waitFor();
      await page.getByLabel('Title', { exact: true }).fill('Cluster');
      await page.getByLabel('Host names', { exact: true }).fill('cluster.home.arpa');
      assert.equal(await page.getByLabel('Balancing', { exact: true }).count(), 0, 'one server: no policy to choose');
      await page.getByLabel('Upstream', { exact: true }).fill(ui.first.address);
      await page.getByRole('button', { name: 'Add a server', exact: true }).click();
      // The one field became the list's first row, keeping what was typed.
      assert.equal(await page.getByLabel('Upstream 1', { exact: true }).inputValue(), ui.first.address);
      await page.getByLabel('Upstream 2', { exact: true }).fill(ui.second.address);
      await page.getByLabel('Balancing', { exact: true }).selectOption('round_robin');
      await page.getByRole('button', { name: 'Save route', exact: true }).click();
      await heading(page, 'Dashboard').waitFor();
      await waitForStatusMessage(page, 'Route saved');

      const route = (await listRoutes(ui.serve)).find((candidate) => candidate.title === 'Cluster');
      assert.ok(route, 'the API lists the new route');
      assert.deepEqual(route.upstreams, [
        { url: ui.first.url, weight: 1, backup: false, drained: false },
        { url: ui.second.url, weight: 1, backup: false, drained: false },
      ]);
      assert.equal(route.balancing.policy, 'round_robin');

      await waitForText(routeRow(page, 'Cluster'), '2 servers');
      const servers = page.getByRole('list', { name: 'Servers of Cluster', exact: true });
      await waitForText(servers, ui.first.address);
      await waitForText(servers, ui.second.address);

      await page.getByRole('button', { name: `Drain ${ui.second.address}`, exact: true }).click();
      const dialog = page.getByRole('dialog', { name: `Drain ${ui.second.address}?`, exact: true });
      await waitForText(dialog, /under way to it now/);
      await dialog.getByRole('button', { name: 'Drain', exact: true }).click();
      await waitForStatusMessage(page, `${ui.second.address} drained`);
      await page.getByRole('button', { name: `Put back ${ui.second.address}`, exact: true }).waitFor();
      await waitForText(servers.getByRole('listitem').filter({ hasText: ui.second.address }), 'Drained');

      const drained = (await listRoutes(ui.serve)).find((candidate) => candidate.id === route.id);
      assert.deepEqual(drained?.upstreams.map((target) => target.drained), [false, true], 'the API has the second server drained');
      const port = (await proxyPort(ui.serve))!;
      const answers = [];
      for (let i = 0; i < 4; i += 1) answers.push(await answeredBy(port, 'cluster.home.arpa'));
      assert.deepEqual(answers, ['first', 'first', 'first', 'first'], 'a drained server gets no new requests');

      await page.getByRole('button', { name: `Put back ${ui.second.address}`, exact: true }).click();
      await waitForStatusMessage(page, `${ui.second.address} put back`);
      await waitFor('the API to have it back', async () => (await listRoutes(ui.serve)).find((candidate) => candidate.id === route.id)?.upstreams[1]?.drained === false || null);
    } finally {
      await close();
    }
  });

  test('editing a route with several servers keeps them all', async () => {
    const { page, close } = await openAdmin(ui.browser, ui.serve);
    try {
      const route = (await listRoutes(ui.serve)).find((candidate) => candidate.title === 'Cluster');
      assert.ok(route);
      await page.getByRole('link', { name: 'Edit Cluster', exact: true }).click();
      await heading(page, 'Edit route').waitFor();
      assert.equal(await page.getByLabel('Upstream 2', { exact: true }).inputValue(), ui.second.url);
      await page.getByLabel('Title', { exact: true }).fill('Cluster of two');
      await page.getByRole('button', { name: 'Save route', exact: true }).click();
      await heading(page, 'Dashboard').waitFor();
      const saved = (await listRoutes(ui.serve)).find((candidate) => candidate.id === route.id);
      assert.equal(saved?.title, 'Cluster of two');
      assert.deepEqual(saved?.upstreams, route.upstreams);
      assert.deepEqual(saved?.balancing, route.balancing);
      assert.deepEqual(saved?.healthCheck, route.healthCheck);
    } finally {
      await close();
    }
  });
});
