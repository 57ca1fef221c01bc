// First run on a fresh data directory: the guide opens by itself, checks the chosen ports (and says
// exactly what to do about one that is taken), saves them, adds the first service, and hands over
// to the dashboard; it does not come back after that.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { GeneralSettings } from '../../shared/model.js';
import type { PortCheck } from '../../shared/status.js';
import { apiJson, heading, listRoutes, proxyPort, routeRow, startUiServe } from '../helpers/admin-ui.js';
import { browserMissing, startTogether, launchBrowser, openAdmin, waitFor, waitForText } from '../helpers/browser.js';
import { freePort } from '../helpers/ports.js';
import type { ServeProcess } from '../helpers/serve.js';
import { requestThrough, startEchoUpstream, type Upstream } from '../helpers/upstream.js';

describe('first run in the browser', { skip: browserMissing() }, () => {
  let browser: Browser;
  let serve: ServeProcess;
  let upstream: Upstream;
  let blocker: Server;

  before(async () => {
    await startTogether([
      launchBrowser().then((b) => (browser = b)),
      startUiServe({ firstRun: true }).then((s) => (serve = s)),
      startEchoUpstream('first-service').then((u) => (upstream = u)),
    ]);
    blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
    await upstream?.close();
    await new Promise((resolve) => blocker?.close(resolve));
  });

  test('a fresh data directory lands on the welcome page; ports are checked, saved, and the first service is added', async () => {
    const takenPort = (blocker.address() as { port: number }).port;
    const [httpPort, httpsPort] = [await freePort(), await freePort()];
    const [taken] = await apiJson<PortCheck[]>(serve, '/api/proxy/check-ports', { method: 'POST', body: { httpPort: takenPort } });
    assert.ok(taken && !taken.available && taken.problem, `port ${takenPort} is reported taken by the API`);

    const { page, close } = await openAdmin(browser, serve);
    try {
      await heading(page, 'Welcome to Gatehouse').waitFor();
      assert.equal(await page.evaluate(() => location.hash), '#/welcome');
      const http = page.getByLabel('HTTP port', { exact: true });
      const https = page.getByLabel('HTTPS port', { exact: true });
      // serve runs with --http-port 0 --https-port 0: the step starts from the ports in use this run.
      const running = await apiJson<{ http: { port: number }; https: { port: number } }>(serve, '/api/proxy');
      await waitFor('the ports in use to be prefilled', async () => (await http.inputValue()) === String(running.http.port) && (await https.inputValue()) === String(running.https.port));

      // A taken port: the problem and its fix, as the API says them.
      await http.fill(String(takenPort));
      await https.fill(String(httpsPort));
      await page.getByRole('button', { name: 'Check ports', exact: true }).click();
      const body = page.locator('body');
      await waitForText(body, taken.problem.message);
      if (taken.problem.fix) {
        await waitForText(body, taken.problem.fix);
        const blocks = await page.locator('code, pre').allTextContents();
        assert.ok(blocks.some((block) => block.trim() !== '' && taken.problem!.fix!.replace(/\s+/g, ' ').includes(block.replace(/\s+/g, ' ').trim())), `the fix is in a code block (blocks: ${JSON.stringify(blocks)})`);
      }
      await waitForText(body, `Port ${httpsPort} is free`);

      // Free ports pass, and Continue saves them.
      await http.fill(String(httpPort));
      await page.getByRole('button', { name: 'Check ports', exact: true }).click();
      await waitForText(body, `Port ${httpPort} is free`);
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      await page.getByRole('heading', { name: 'Add your first service', exact: true }).waitFor();
      const saved = await apiJson<GeneralSettings>(serve, '/api/settings');
      assert.deepEqual([saved.proxy.httpPort, saved.proxy.httpsPort], [httpPort, httpsPort], 'Continue saved both ports');

      await page.getByLabel('Title', { exact: true }).fill('Home Assistant');
      await page.getByLabel('Host names', { exact: true }).fill('ha.home.arpa');
      await page.getByLabel('Upstream', { exact: true }).fill(upstream.address);
      await page.getByRole('button', { name: 'Add service', exact: true }).click();

      await heading(page, 'Dashboard').waitFor();
      await routeRow(page, 'Home Assistant').waitFor();
      const routes = await listRoutes(serve);
      assert.deepEqual(
        routes.map((route) => ({ title: route.title, names: route.names, upstream: route.upstreams[0]?.url })),
        [{ title: 'Home Assistant', names: ['ha.home.arpa'], upstream: upstream.url }],
      );
      assert.equal((await apiJson<GeneralSettings>(serve, '/api/settings')).app.onboarded, true);
      const port = await waitFor('the proxy to be running', () => proxyPort(serve));
      assert.equal((await requestThrough(port, 'ha.home.arpa')).status, 200, 'the first service answers through the proxy');

    } finally {
      await close();
    }
    // Done once: opening the app again goes straight to the dashboard.
    const again = await openAdmin(browser, serve);
    try {
      await heading(again.page, 'Dashboard').waitFor();
      assert.equal(await again.page.evaluate(() => location.hash), '#/');
    } finally {
      await again.close();
    }
  });

  test('"Skip for now" also finishes the guide', async () => {
    await apiJson(serve, '/api/settings', { method: 'PATCH', body: { app: { onboarded: false } } });
    const { page, close } = await openAdmin(browser, serve);
    try {
      await heading(page, 'Welcome to Gatehouse').waitFor();
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      await page.getByRole('button', { name: 'Skip for now', exact: true }).click();
      await heading(page, 'Dashboard').waitFor();
      assert.equal((await apiJson<GeneralSettings>(serve, '/api/settings')).app.onboarded, true);
    } finally {
      await close();
    }
  });
});
