// The dashboard on a phone and a desktop (issue 12): routes as cards at 390 px and a table at
// 1280 px, every card action a 44 px target that a tap at its centre reaches; the proxy panel shows
// the HTTP and the HTTPS address and warns that a loopback-bound proxy is out of the LAN's reach;
// "Stop proxy" asks first, naming how many services go offline, in a dialog that fits the screen.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { ProxyStatus } from '../../shared/status.js';
import { addRoute, apiJson, heading, routesTable, startUiServe } from '../helpers/admin-ui.js';
import { browserMissing, launchBrowser, openAdmin, startTogether, waitFor, waitForText } from '../helpers/browser.js';
import { DESKTOP, PHONE, tapCheck } from '../helpers/layout.js';
import type { ServeProcess } from '../helpers/serve.js';
import { startEchoUpstream, type Upstream } from '../helpers/upstream.js';

describe('dashboard on a phone and a desktop', { skip: browserMissing() }, () => {
  let browser: Browser;
  let serve: ServeProcess;
  let upstream: Upstream;

  before(async () => {
    await startTogether([
      launchBrowser().then((b) => (browser = b)),
      startUiServe().then((s) => (serve = s)),
      startEchoUpstream('cards').then((u) => (upstream = u)),
    ]);
    await addRoute(serve, { title: 'Jellyfin', names: ['jellyfin.home.arpa'], upstream: upstream.address });
    await addRoute(serve, { title: 'Immich', names: ['photos.home.arpa'], upstream: upstream.address });
    await addRoute(serve, { title: 'Grafana', names: ['grafana.home.arpa'], upstream: upstream.address });
    await addRoute(serve, { title: 'Paused wiki', names: ['wiki.home.arpa'], upstream: upstream.address, enabled: false });
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
    await upstream?.close();
  });

  test('routes are cards on a phone, with 44 px actions a tap reaches, and a table on a desktop', async () => {
    const { page, close } = await openAdmin(browser, serve);
    try {
      await page.setViewportSize(PHONE);
      await heading(page, 'Dashboard').waitFor();
      const cards = page.getByRole('list', { name: 'Routes', exact: true }).getByRole('listitem');
      await waitFor('four route cards', async () => (await cards.count()) === 4);
      assert.equal(await routesTable(page).count(), 0, 'no table on a phone');

      const jellyfin = cards.filter({ has: page.getByRole('heading', { name: 'Jellyfin', exact: true }) });
      const text = ((await jellyfin.textContent()) ?? '').replace(/\s+/g, ' ');
      for (const part of ['jellyfin.home.arpa', upstream.address.replace(/^http:\/\//, ''), 'Req/min', 'Errors since start', 'p99']) {
        assert.ok(text.includes(part), `the card shows ${part}: ${text}`);
      }
      await waitFor('the health check to mark Jellyfin up', async () => /\bUp\b/.test((await jellyfin.textContent()) ?? ''), { timeoutMs: 15_000 });

      const boxes = [];
      for (const name of ['Edit Jellyfin', 'Delete Jellyfin', 'Edit Immich', 'Delete Immich']) {
        const control = page.getByRole(name.startsWith('Edit') ? 'link' : 'button', { name, exact: true });
        const tap = await tapCheck(control);
        assert.ok(tap.width >= 44 && tap.height >= 44, `${name} is at least 44×44 px (${tap.width}×${tap.height})`);
        assert.ok(tap.hitsItself, `a tap at the centre of ${name} reaches it, not ${tap.reached}`);
        boxes.push({ name, box: (await control.boundingBox())! });
      }
      for (const [i, a] of boxes.entries()) {
        for (const b of boxes.slice(i + 1)) {
          const apart = a.box.x + a.box.width <= b.box.x || b.box.x + b.box.width <= a.box.x || a.box.y + a.box.height <= b.box.y || b.box.y + b.box.height <= a.box.y;
          assert.ok(apart, `${a.name} and ${b.name} do not overlap`);
        }
      }

      await page.getByRole('link', { name: 'Edit Immich', exact: true }).click();
      await heading(page, 'Edit route').waitFor();
      await page.goBack();
      await heading(page, 'Dashboard').waitFor();

      await page.setViewportSize(DESKTOP);
      await routesTable(page).waitFor();
      assert.equal(await page.getByRole('list', { name: 'Routes', exact: true }).count(), 0, 'no cards on a desktop');
      assert.equal(await routesTable(page).locator('tbody tr').count(), 4);
    } finally {
      await close();
    }
  });

  test('the proxy panel shows the HTTP and the HTTPS address and says the LAN cannot reach 127.0.0.1', async () => {
    const status = await apiJson<ProxyStatus>(serve, '/api/proxy');
    assert.ok(status.http && status.https, `both listeners run: ${JSON.stringify(status)}`);
    const { page, close } = await openAdmin(browser, serve);
    try {
      await page.setViewportSize(PHONE);
      const listeners = page.getByTestId('proxy-listeners');
      const shown = await waitForText(listeners, `HTTPS 127.0.0.1:${status.https.port}`);
      assert.ok(shown.includes(`HTTP 127.0.0.1:${status.http.port}`), `the HTTP address is shown too: ${shown}`);
      const warning = page.getByTestId('loopback-warning');
      const said = await waitForText(warning, 'Other devices on your network cannot reach the proxy');
      assert.match(said, /127\.0\.0\.1/);
      assert.match(said, /Settings, set Bind address to 0\.0\.0\.0/);
      await warning.getByRole('link', { name: 'Settings', exact: true }).click();
      await heading(page, 'Settings').waitFor();
    } finally {
      await close();
    }
  });

  test('Stop proxy asks first, naming how many services go offline; the dialog fits and scrolls on a small screen', async () => {
    const { page, close } = await openAdmin(browser, serve);
    try {
      await page.setViewportSize({ width: PHONE.width, height: 320 });
      const state = page.getByTestId('proxy-state');
      await waitForText(state, 'Running');
      await page.getByRole('button', { name: 'Stop proxy', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Stop the proxy?', exact: true });
      const consequence = await waitForText(dialog, 'services go offline');
      assert.match(consequence, /3 services go offline/, 'three enabled routes; the disabled one is not counted');
      for (const name of ['Jellyfin', 'Immich', 'Grafana']) assert.ok(consequence.includes(name), `the dialog names ${name}`);
      assert.ok(!consequence.includes('Paused wiki'), 'the disabled route is not named');

      const fit = await dialog.evaluate((element) => {
        const r = element.getBoundingClientRect();
        return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, scrolls: element.scrollHeight > element.clientHeight, overflowY: getComputedStyle(element).overflowY };
      });
      assert.ok(fit.left >= 0 && fit.right <= PHONE.width && fit.top >= 0 && fit.bottom <= 320, `the dialog lies within the 390×320 screen: ${JSON.stringify(fit)}`);
      assert.ok(fit.scrolls && fit.overflowY === 'auto', `taller than the screen, it scrolls inside: ${JSON.stringify(fit)}`);

      await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
      await dialog.waitFor({ state: 'detached' });
      assert.equal((await apiJson<ProxyStatus>(serve, '/api/proxy')).state, 'running', 'Cancel leaves the proxy running');

      await page.getByRole('button', { name: 'Stop proxy', exact: true }).click();
      const confirm = dialog.getByRole('button', { name: 'Stop proxy', exact: true });
      const tap = await tapCheck(confirm);
      assert.ok(tap.hitsItself && tap.height >= 44, `the dialog's Stop proxy is a 44 px target a tap reaches (${JSON.stringify(tap)})`);
      await confirm.click();
      await waitForText(state, 'Stopped');
      assert.equal((await apiJson<ProxyStatus>(serve, '/api/proxy')).state, 'stopped');
      await page.getByRole('button', { name: 'Start proxy', exact: true }).click();
      await waitForText(state, 'Running');
    } finally {
      await close();
    }
  });
});
