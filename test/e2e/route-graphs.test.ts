// The route page's graphs and the dashboard's sparklines in Chromium (issue 17, graphs): the built
// pages (dist/renderer) with the dev fake as their Gatehouse (src-renderer/dev/fake-bridge.ts, as the
// screenshot script injects it). The route page draws its charts (canvases of real size, each with a
// spoken summary), switches ranges (and reads the new range), sets the performance mark the bench
// reads, shows gaps and the up/down band, fits a 390 px phone in light and dark, redraws in the dark
// palette when the scheme changes; the dashboard's sparklines link to the route page.
// Note: this drives the fake, not a real `gatehouse serve`, because the history store is built on
// another branch at the same time (getHistory is a placeholder here); after the merge the same page
// runs against the real store.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { browserMissing, launchBrowser, saveScreenshot, startTogether, waitFor } from '../helpers/browser.js';
import { DESKTOP, overflowReport, PHONE } from '../helpers/layout.js';
import { repoRoot } from '../helpers/serve.js';

const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

async function serveRenderer(): Promise<{ server: Server; base: string }> {
  const dir = join(repoRoot, 'dist', 'renderer');
  const server = createServer((request, response) => {
    const path = normalize(new URL(request.url ?? '/', 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    readFile(join(dir, path)).then(
      (body) => response.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body),
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, base: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/` };
}

async function bridgeScript(): Promise<string> {
  const bundle = await build({ entryPoints: [join(repoRoot, 'src-renderer/dev/fake-bridge.ts')], bundle: true, format: 'iife', write: false, target: 'es2022' });
  return bundle.outputFiles[0]!.text;
}

/** Every chart's canvas size and spoken summary. */
function charts(page: Page): Promise<{ id: string; label: string; width: number; height: number }[]> {
  return page.locator('[data-chart]').evaluateAll((plots) =>
    plots.map((plot) => {
      const canvas = plot.querySelector('canvas');
      const box = canvas?.getBoundingClientRect();
      return { id: plot.getAttribute('data-chart') ?? '', label: plot.getAttribute('aria-label') ?? '', width: box?.width ?? 0, height: box?.height ?? 0 };
    }),
  );
}

/** A few pixels of a chart's canvas: the colours drawn there (to tell the palettes apart). */
function drawnColours(page: Page, id: string): Promise<string[]> {
  return page.locator(`[data-chart="${id}"] canvas`).evaluate((canvas) => {
    const c = canvas as HTMLCanvasElement;
    const context = c.getContext('2d');
    if (!context) return [];
    const { data } = context.getImageData(0, 0, c.width, c.height);
    const seen = new Map<string, number>();
    for (let i = 0; i < data.length; i += 4 * 7) {
      if (data[i + 3]! < 250) continue;
      const key = `${data[i]},${data[i + 1]},${data[i + 2]}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    return [...seen.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([key]) => key);
  });
}

describe('route graphs and dashboard sparklines against the dev fake', { skip: browserMissing() }, () => {
  let browser: Browser;
  let server: Server;
  let base: string;
  let bridge: string;

  before(async () => {
    await startTogether([
      launchBrowser().then((b) => (browser = b)),
      serveRenderer().then((s) => ({ server, base } = s)),
      bridgeScript().then((script) => (bridge = script)),
    ]);
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  async function open(hash: string, viewport: { width: number; height: number }, colorScheme: 'light' | 'dark' = 'light') {
    const context = await browser.newContext({ viewport, colorScheme });
    await context.addInitScript(bridge);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    await page.goto(`${base}${hash}`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    return { page, errors, close: () => context.close() };
  }

  test('the route page draws its charts with spoken summaries, switches ranges, and marks when it has drawn', async () => {
    const { page, errors, close } = await open('#/routes/route-d/insight', DESKTOP);
    try {
      await page.locator('section.graphs[data-rendered]').waitFor({ timeout: 15_000 });
      const mark = await page.evaluate(() => performance.getEntriesByName('route-insight-rendered', 'mark').map((m) => m.startTime));
      assert.equal(mark.length, 1, 'one performance mark once the charts drew');
      assert.ok(mark[0]! > 0);
      const own = await page.evaluate(() => performance.measure('graphs', 'route-insight-start', 'route-insight-rendered').duration);
      assert.ok(own >= 0, 'the page marks where the graphs start, for the bench to measure its own part');

      let drawn = await charts(page);
      assert.deepEqual(drawn.map((c) => c.id), ['traffic', 'errors', 'latency', 'bytes', 'upstream-up', 'upstream-share'], 'four charts and two per upstream (Home Assistant has several)');
      for (const chart of drawn) assert.ok(chart.width > 200 && chart.height > 100, `${chart.id} has a real canvas (${chart.width}×${chart.height})`);
      const traffic = drawn.find((c) => c.id === 'traffic')!.label;
      assert.match(traffic, /^Requests in the last hour: [\d,]+, peak [\d,]+ per 10 s/);
      assert.match(traffic, /Gatehouse was off for \d+ min/, 'the gap is said, not hidden');
      assert.match(drawn.find((c) => c.id === 'errors')!.label, /^Errors in the last hour: [\d,]+ 4xx, [\d,]+ 5xx, [\d,]+ proxy errors/);
      assert.match(drawn.find((c) => c.id === 'latency')!.label, /p50 .* ms, worst p99 .* m?s$/);
      assert.match((await page.locator('[data-fraction]').textContent()) ?? '', /^\d+(\.\d)? % up$/);
      assert.ok(await page.locator('.band [data-state="off"]').count() >= 1, 'the band shows the time Gatehouse was off');
      assert.ok(await page.locator('.band [data-state="down"]').count() >= 1, 'and the down spell');

      // The numbers for screen readers: a table under each chart, the gap as "off".
      await page.locator('[data-chart="traffic"]').locator('xpath=..').getByText('Numbers').click();
      const table = page.getByRole('table', { name: /Traffic: totals per stretch of time/ });
      await table.waitFor();
      assert.ok((await table.locator('tbody tr').count()) >= 10);

      // A refresh (every 10 s at 1 h) swaps the data in place: the same canvases, not new charts.
      await page.locator('[data-chart] canvas').evaluateAll((canvases) => canvases.forEach((c, i) => c.setAttribute('data-test-tag', String(i))));
      await page.waitForTimeout(11_000);
      const tags = await page.locator('[data-chart] canvas').evaluateAll((canvases) => canvases.map((c) => c.getAttribute('data-test-tag')));
      assert.deepEqual(tags, ['0', '1', '2', '3', '4', '5'], 'the charts survive a refresh');

      const pressed = () => page.getByRole('group', { name: 'Range' }).locator('button[aria-pressed="true"]').textContent();
      assert.equal(await pressed(), '1 h');
      await page.getByRole('button', { name: 'Show the last 24 hours' }).click();
      await page.locator('section.graphs[data-range="24h"]').waitFor();
      await waitFor('the 24 h charts', async () => ((await charts(page))[0]?.label ?? '').startsWith('Requests in the last 24 hours'));
      assert.equal(await pressed(), '24 h');
      await page.getByRole('button', { name: 'Show the last 30 days' }).click();
      await waitFor('the 30 d charts', async () => ((await charts(page))[0]?.label ?? '').startsWith('Requests in the last 30 days'));
      drawn = await charts(page);
      assert.match(drawn[0]!.label, /per 5 min/);
      for (const chart of drawn) assert.ok(chart.width > 200 && chart.height > 100, `${chart.id} at 30 d has a real canvas`);
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  test('on a 390 px phone, light and dark: nothing wider than the screen, charts as wide as the card, dark colours in dark', async () => {
    const colours: Record<string, string[]> = {};
    for (const scheme of ['light', 'dark'] as const) {
      const { page, errors, close } = await open('#/routes/route-d/insight', PHONE, scheme);
      try {
        await page.locator('section.graphs[data-rendered]').waitFor({ timeout: 15_000 });
        const report = await overflowReport(page);
        assert.ok(report.scrollWidth <= PHONE.width, `the page is ${report.scrollWidth} px wide on a 390 px phone (${scheme})`);
        assert.deepEqual(report.offenders, [], `nothing sticks out (${scheme})`);
        const card = await page.locator('section.graphs').boundingBox();
        for (const chart of await charts(page)) {
          assert.ok(chart.width > 250 && chart.width <= card!.width, `${chart.id} fills the card on a phone (${chart.width} of ${card!.width} px)`);
        }
        colours[scheme] = await drawnColours(page, 'traffic');
        await saveScreenshot(page, `route-graphs-phone-${scheme}`);
        assert.deepEqual(errors, []);
      } finally {
        await close();
      }
    }
    assert.notDeepEqual(colours.light, colours.dark, 'the charts are drawn in each scheme’s colours');

    // Switching the scheme while the page is open redraws in the new colours.
    const { page, close } = await open('#/routes/route-a/insight', PHONE, 'light');
    try {
      await page.locator('section.graphs[data-rendered]').waitFor({ timeout: 15_000 });
      const before = await drawnColours(page, 'traffic');
      await page.emulateMedia({ colorScheme: 'dark' });
      await waitFor('the charts to redraw in dark colours', async () => JSON.stringify(await drawnColours(page, 'traffic')) !== JSON.stringify(before));
    } finally {
      await close();
    }
  });

  test('a route with no traffic says so; the dashboard has a sparkline per route that links to its page', async () => {
    const { page, errors, close } = await open('#/routes/route-c/insight', DESKTOP);
    try {
      await page.getByText('No traffic recorded yet').waitFor();
      assert.equal(await page.locator('[data-chart]').count(), 0);
      assert.equal(await page.locator('section.graphs[data-rendered]').count(), 1, 'the empty page counts as rendered too');

      await page.goto(`${base}#/`);
      await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
      const sparklines = page.locator('svg.sparkline');
      await waitFor('a sparkline per route', async () => (await sparklines.count()) === 7);
      const label = await sparklines.first().getAttribute('aria-label');
      assert.match(label ?? '', /^Jellyfin: Last hour: [\d,]+ requests, [\d,]+ errors?, \d+(\.\d)? % up$/);
      assert.ok((await sparklines.first().locator('path.requests').count()) >= 2, 'the line breaks where Gatehouse was off');
      await page.getByRole('link', { name: 'Jellyfin', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Jellyfin' }).waitFor();
      assert.match(page.url(), /#\/routes\/route-a\/insight$/);
      await page.locator('section.graphs[data-rendered]').waitFor({ timeout: 15_000 });

      await page.setViewportSize(PHONE);
      await page.goto(`${base}#/`);
      await page.getByRole('list', { name: 'Routes', exact: true }).waitFor();
      await waitFor('sparklines on the cards', async () => (await page.locator('.route-card svg.sparkline').count()) === 7);
      const report = await overflowReport(page);
      assert.ok(report.scrollWidth <= PHONE.width, `the dashboard is ${report.scrollWidth} px wide on a phone`);
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });
});
