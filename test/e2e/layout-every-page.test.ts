// Issue 12: no admin page is wider than the screen. Every page the navigation links to (read from
// the page, so pages other branches add are covered too), plus Add route, Edit route, the first-run
// guide and an unknown address, with routes and log entries present, on a 390×844 phone and a
// 1280×800 desktop, light and dark: no sideways scroll, no element's right edge past the screen.
// Issue 14: a route with several servers, on the dashboard and in its form.
// Issue 13: the Access page always, with a list (long addresses and notes), a provider with a long
// URL, and a route open to the internet that uses the list (its form shows "Who can reach this").
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { AccessList } from '../../shared/access.js';
import { addRoute, apiJson, bodyRows, heading, proxyPort, startUiServe } from '../helpers/admin-ui.js';
import { browserMissing, launchBrowser, navigate, openAdmin, startTogether, waitFor } from '../helpers/browser.js';
import { DESKTOP, overflowReport, PHONE } from '../helpers/layout.js';
import { freePort } from '../helpers/ports.js';
import type { ServeProcess } from '../helpers/serve.js';
import { requestThrough, startEchoUpstream, type Upstream } from '../helpers/upstream.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The hash of every link in the main navigation (present in the page even while folded). */
async function navHashes(page: Page): Promise<string[]> {
  const hrefs = await page.getByRole('navigation', { name: 'Main' }).locator('a[href^="#/"]').evaluateAll((links) => links.map((link) => link.getAttribute('href') ?? ''));
  return hrefs.filter((href) => href !== '');
}

/** Shows `hash` and checks it twice, a moment apart, so content that arrives late is measured too. */
async function problemsOn(page: Page, hash: string): Promise<string[]> {
  await navigate(page, hash);
  await page.getByRole('heading', { level: 1 }).first().waitFor();
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  const problems = new Set<string>();
  for (const wait of [400, 400]) {
    await sleep(wait);
    const report = await overflowReport(page);
    if (report.scrollWidth > report.innerWidth) problems.add(`the page is ${report.scrollWidth} px wide on a ${report.innerWidth} px screen`);
    for (const offender of report.offenders) problems.add(offender);
  }
  return [...problems];
}

describe('every admin page fits the screen, phone and desktop, light and dark', { skip: browserMissing() }, () => {
  let browser: Browser;
  let serve: ServeProcess;
  let upstream: Upstream;

  before(async () => {
    await startTogether([
      launchBrowser().then((b) => (browser = b)),
      startUiServe().then((s) => (serve = s)),
      startEchoUpstream('layout').then((u) => (upstream = u)),
    ]);
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
    await upstream?.close();
  });

  test('no page scrolls sideways or has an element past the right edge', async () => {
    const jellyfin = await addRoute(serve, {
      title: 'Jellyfin media server in the living room',
      names: ['jellyfin.home.arpa', 'media-server-with-a-rather-long-name.home.arpa'],
      upstream: upstream.address,
    });
    await addRoute(serve, { title: 'Old NAS', names: ['nas.home.arpa'], upstream: `127.0.0.1:${await freePort()}` });
    // Issue 14: a route with several servers (one that refuses, one drained, a backup) lists each
    // with its state, last check and buttons on the dashboard, and as rows in its form.
    const cluster = await addRoute(serve, {
      title: 'Home Assistant cluster on the second floor',
      names: ['ha.home.arpa'],
      upstreams: [
        { url: upstream.address },
        { url: `127.0.0.2:${await freePort()}` },
        { url: `http://home-assistant-spare-with-a-long-name.home.arpa:8123`, drained: true },
        { url: `127.0.0.3:${upstream.port}`, backup: true, weight: 3 },
      ],
      balancing: { policy: 'round_robin', tries: 2 },
      healthCheck: { active: { path: '/manifest.json', bodyContains: 'Home Assistant' } },
    });
    const port = (await proxyPort(serve))!;
    await requestThrough(port, 'jellyfin.home.arpa', `/Items/1234567890abcdef/Images/Primary?fillHeight=300&quality=96&tag=${'a'.repeat(60)}`);
    await requestThrough(port, 'nas.home.arpa', '/share/photos');
    await requestThrough(port, 'unknown.home.arpa', '/');

    const family = await apiJson<AccessList>(serve, '/api/access/lists', {
      method: 'POST',
      body: {
        name: 'Family and friends across the whole country',
        entries: [
          { action: 'allow', range: '2001:db8:1234:5678:9abc:def0:1234:5678', note: 'Grandma’s house in the countryside, new router' },
          { action: 'deny', range: '203.0.113.0/24', note: 'old VPS' },
        ],
      },
    });
    await apiJson(serve, '/api/access/providers', {
      method: 'POST',
      body: { name: 'Authelia', kind: 'authelia', url: 'http://authelia-on-the-nas.home.arpa:9091/api/authz/forward-auth', copyHeaders: ['Remote-User', 'Remote-Email'] },
    });
    const { id: _id, ...jellyfinFields } = jellyfin;
    await apiJson(serve, `/api/routes/${encodeURIComponent(jellyfin.id)}`, {
      method: 'PUT',
      body: { ...jellyfinFields, access: { ...jellyfin.access, exposure: 'anyone', lists: [family.id], countries: { mode: 'deny', countries: ['KP', 'GB'] } } },
    });

    const { page, close } = await openAdmin(browser, serve);
    try {
      await heading(page, 'Dashboard').waitFor();
      const hashes = await navHashes(page);
      assert.ok(hashes.length >= 5, `the navigation lists the pages (found ${hashes.join(', ')})`);
      const pages = [...new Set([...hashes, '#/access', '#/routes/new', `#/routes/${encodeURIComponent(jellyfin.id)}`, `#/routes/${encodeURIComponent(cluster.id)}`, '#/welcome', '#/no-such-page'])];

      await navigate(page, '#/logs', 'Logs');
      await waitFor('the log to list the requests', async () => (await bodyRows(page.getByRole('table', { name: 'Access log' })).count()) >= 3);

      const failures: string[] = [];
      for (const [screen, viewport] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
        await page.setViewportSize(viewport);
        for (const theme of ['light', 'dark'] as const) {
          await page.emulateMedia({ colorScheme: theme });
          for (const hash of pages) {
            const problems = await problemsOn(page, hash);
            if (problems.length > 0) failures.push(`${hash} on the ${screen} (${theme}):\n    ${problems.join('\n    ')}`);
          }
        }
        assert.equal(await page.evaluate(() => window.innerWidth), viewport.width, `the ${screen} screen is ${viewport.width} px wide`);
      }
      assert.deepEqual(failures, [], `pages wider than the screen:\n${failures.join('\n')}`);
    } finally {
      await close();
    }
  });
});
