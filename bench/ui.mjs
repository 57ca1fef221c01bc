// The desktop experience's targets, measured: the renderer bundle's size (raw and gzip -9), how
// soon the dashboard is interactive after a navigation in headless Chromium against `gatehouse
// serve` with 10 routes, and how soon a route whose upstream closes is shown "Down". Called by
// bench/run.mjs as one section; also runs alone: node bench/ui.mjs [--quick].
//
// "Interactive" is read inside the page: a script installed before the app's own code watches the
// DOM and notes performance.now() (milliseconds since the navigation started) the first time the
// Routes table has its 10 rows and the Start/Stop proxy button is enabled. Each sample the target
// is judged on is a fresh browser context (empty cache, new session), as when the page is first
// opened; the same page opened again in one tab (assets cached) is reported beside it.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { get as httpGet } from 'node:http';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Processes, cpuPressure } from './processes.mjs';
import { fmt, median } from './report.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'gatehouse.js');
const RENDERER = join(ROOT, 'dist', 'renderer');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const VIEWPORT = { width: 1024, height: 700 };
const DASHBOARD_ROUTES = 10;

export const UI_TARGETS = [
  { id: 'ui-bundle', text: 'renderer bundle ≤ 250 KB gzipped', metric: 'bundle', limit: 250_000, unit: 'bytes' },
  { id: 'ui-interactive', text: `dashboard interactive ≤ 500 ms after navigation (${DASHBOARD_ROUTES} routes)`, metric: 'interactive', limit: 500, unit: 'ms' },
  { id: 'ui-down', text: 'a route whose upstream closes shown Down within 5 s', metric: 'down', limit: 5000, unit: 'ms' },
  { id: 'ui-route-page', text: "a route's page (1 h of history: traffic, errors, latency, bytes, up/down) renders ≤ 300 ms after navigation", metric: 'routePage', limit: 300, unit: 'ms' },
];

/** The bundle a browser downloads: every .js and .css under dist/renderer/assets, each gzipped at level 9. */
export function bundleSize(rendererDir = RENDERER) {
  const assets = join(rendererDir, 'assets');
  if (!existsSync(assets)) throw new Error(`${assets} does not exist: build the renderer first (npm run build)`);
  const files = readdirSync(assets).filter((name) => name.endsWith('.js') || name.endsWith('.css'));
  if (files.length === 0) throw new Error(`no .js or .css file in ${assets}`);
  let rawBytes = 0;
  let gzipBytes = 0;
  for (const name of files) {
    const data = readFileSync(join(assets, name));
    rawBytes += data.length;
    gzipBytes += gzipSync(data, { level: 9 }).length;
  }
  return { files: files.length, rawBytes, gzipBytes };
}

/** Newer sources than the built renderer: its numbers would describe old code. */
function staleBuildWarning() {
  const built = join(RENDERER, 'index.html');
  if (!existsSync(built)) return null;
  const newest = (dir) =>
    readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile())
      .reduce((latest, entry) => Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs), 0);
  const sources = Math.max(newest(join(ROOT, 'src-renderer')), newest(join(ROOT, 'shared')));
  return sources > statSync(built).mtimeMs ? 'dist/renderer is older than src-renderer/ or shared/: run npm run build for current numbers' : null;
}

// ---------------------------------------------------------------------------------------------
// gatehouse serve and its upstreams

/** A tiny HTTP upstream on 127.0.0.1; close() drops it and its connections, as a crashed service would. */
async function startUpstream() {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  };
}

async function startServe(processes, dir) {
  if (!existsSync(CLI)) throw new Error('bin/gatehouse.js does not exist, so the UI cannot be measured');
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const logPath = join(dir, 'serve.log');
  const args = [CLI, 'serve', '--data-dir', dataDir, '--bind', '127.0.0.1', '--http-port', '0', '--admin-port', '0'];
  const child = processes.start('gatehouse-ui', process.execPath, args, { logPath, cwd: ROOT });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`gatehouse serve exited:\n${Processes.logTail(logPath)}`);
    try {
      const info = JSON.parse(readFileSync(join(dataDir, 'serve.json'), 'utf8'));
      if (info.pid === child.pid) {
        const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
        return { child, adminUrl: info.adminUrl, token, api: (path, method = 'GET', body) => callApi(info.adminUrl, token, path, method, body) };
      }
    } catch {
      // not written yet
    }
    if (Date.now() > deadline) throw new Error(`gatehouse serve wrote no serve.json within 30 s:\n${Processes.logTail(logPath)}`);
    await sleep(50);
  }
}

async function callApi(adminUrl, token, path, method, body) {
  const response = await fetch(new URL(path, adminUrl), {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

/** The admin password the bench sets once per serve; each browser context signs in with it as a person would. */
const PASSWORD = 'bench password, long enough';

/** Signs `context` in (the session cookie lands in it), so the dashboard opens without a sign-in screen. */
async function signIn(context, serve) {
  const response = await context.request.post(new URL('/auth/sign-in', serve.adminUrl).href, { data: { password: PASSWORD } });
  if (!response.ok()) throw new Error(`sign-in answered ${response.status()}: ${(await response.text()).slice(0, 300)}`);
}

async function stopServe(serve) {
  if (serve.child.exitCode !== null || serve.child.signalCode !== null) return;
  const exited = new Promise((resolve) => serve.child.once('exit', resolve));
  serve.child.kill('SIGTERM');
  const timer = setTimeout(() => serve.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------
// In the page

/** Installed before the app's code: notes when the dashboard is interactive (see the header). */
function interactiveProbe(minRows) {
  const named = (table) => {
    const labelledBy = table.getAttribute('aria-labelledby');
    const name = table.getAttribute('aria-label') ?? (labelledBy ? document.getElementById(labelledBy)?.textContent : table.caption?.textContent);
    return (name ?? '').trim() === 'Routes';
  };
  const ready = () => {
    const table = Array.from(document.querySelectorAll('table')).find(named);
    if (!table || Array.from(table.tBodies).reduce((rows, body) => rows + body.rows.length, 0) < minRows) return false;
    return Array.from(document.querySelectorAll('button')).some((button) => /^(Start|Stop) proxy$/.test(button.textContent.trim()) && !button.disabled);
  };
  const observer = new MutationObserver(() => {
    if (window.__gatehouseInteractiveAt === undefined && ready()) {
      window.__gatehouseInteractiveAt = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
}

/** Installed before the app's code: window.__gatehouseStatus(title) reads a route's Status cell. */
function statusReader() {
  window.__gatehouseStatus = (title) => {
    const button = Array.from(document.querySelectorAll('button')).find(
      (b) => (b.getAttribute('aria-label') ?? b.textContent).trim() === `Delete ${title}`,
    );
    const row = button?.closest('tr');
    const table = row?.closest('table');
    if (!row || !table) return '';
    const header = table.tHead?.rows[0] ?? table.rows[0];
    const index = Array.from(header.cells).findIndex((th) => th.textContent.trim().toLowerCase().startsWith('status'));
    return index < 0 ? '' : (row.cells[index]?.textContent ?? '').trim();
  };
}

async function openDashboard(browser, serve) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  // The admin page's CSP allows no eval, so page-side helpers come in as init scripts.
  await context.addInitScript(statusReader);
  await signIn(context, serve);
  const page = await context.newPage();
  await page.goto(serve.adminUrl);
  return { context, page };
}

/** Navigates and returns when the dashboard became interactive, and when the page itself had loaded. */
async function timeDashboard(page, serve) {
  await page.goto(serve.adminUrl, { waitUntil: 'commit' });
  const handle = await page.waitForFunction(() => window.__gatehouseInteractiveAt, undefined, { timeout: 15_000 });
  const interactive = await handle.jsonValue();
  // Where the time went: the page's own load (HTML, script, style) against the data that follows.
  const loaded = await page.evaluate(() => performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd ?? null);
  return { interactive, loaded };
}

async function probedContext(browser, serve) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  await context.addInitScript(interactiveProbe, DASHBOARD_ROUTES);
  // Signed in before the clock starts: the timing is the dashboard's, not argon2's.
  await signIn(context, serve);
  return context;
}

/** The page as first opened: a fresh context, so an empty cache and a new session. */
async function coldSample(browser, serve) {
  const context = await probedContext(browser, serve);
  try {
    return await timeDashboard(await context.newPage(), serve);
  } finally {
    await context.close();
  }
}

/** Opened again in the same tab: the hashed assets come from the cache. */
async function warmSamples(browser, serve, count) {
  const context = await probedContext(browser, serve);
  try {
    const page = await context.newPage();
    await timeDashboard(page, serve);
    const samples = [];
    for (let i = 0; i < count; i++) {
      await page.goto('about:blank');
      samples.push(await timeDashboard(page, serve));
    }
    return samples;
  } finally {
    await context.close();
  }
}

/** Sends `count` requests for `host` through the proxy, so the route's history has traffic to draw. */
async function traffic(serve, host, count) {
  const port = (await serve.api('/api/proxy')).http?.port;
  if (typeof port !== 'number') throw new Error('the proxy is not listening, so the route page would have no traffic to draw');
  // node:http, not fetch: fetch does not let a caller set Host.
  for (let i = 0; i < count; i++) {
    await new Promise((resolve, reject) => {
      httpGet({ host: '127.0.0.1', port, path: `/item/${i}`, headers: { host }, agent: false }, (res) => res.resume().on('end', resolve)).on('error', reject);
    });
  }
}

/**
 * One in-app navigation from the dashboard to a route's page, as a click on the route's name does:
 * milliseconds from the hash change to the page's 'route-insight-rendered' mark (every chart drawn).
 */
async function routePageSample(page, serve, routeId) {
  await page.goto(serve.adminUrl);
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor({ timeout: 15_000 });
  const started = await page.evaluate((id) => {
    performance.clearMarks('route-insight-rendered');
    const at = performance.now();
    location.hash = `#/routes/${encodeURIComponent(id)}/insight`;
    return at;
  }, routeId);
  const handle = await page.waitForFunction(() => performance.getEntriesByName('route-insight-rendered').at(-1)?.startTime, undefined, { timeout: 15_000, polling: 'raf' });
  return (await handle.jsonValue()) - started;
}

async function downSample(page, serve, index) {
  const upstream = await startUpstream();
  const title = `Down test ${index}`;
  const route = await serve.api('/api/routes', 'POST', { title, names: [`down-${index}.bench.test`], upstream: upstream.address });
  const shows = (state) =>
    page.waitForFunction(({ t, word }) => new RegExp(`\\b${word}\\b`).test(window.__gatehouseStatus(t)), { t: title, word: state }, { timeout: 15_000, polling: 50 });
  try {
    await shows('Up');
    await upstream.close();
    const closedAt = performance.now();
    await shows('Down');
    return performance.now() - closedAt;
  } finally {
    await upstream.close();
    await serve.api(`/api/routes/${encodeURIComponent(route.id)}`, 'DELETE');
  }
}

// ---------------------------------------------------------------------------------------------
// The section

/**
 * Measures every UI target. `ctx.processes` tracks the serve it starts (stopped here, and by the
 * bench's cleanup on any way out); `ctx.tmp` holds its data. Never throws: what could not be
 * measured is in `errors`, and `failed` is set.
 */
export async function measureUi(ctx, options = {}) {
  const navigations = options.quick ? 5 : 10;
  const downs = options.quick ? 3 : 5;
  const result = { bundle: null, interactive: null, routePage: null, down: null, errors: {}, warning: staleBuildWarning(), chromium: null, cpuPressure: cpuPressure() };
  try {
    result.bundle = bundleSize();
  } catch (error) {
    result.errors.bundle = error.message;
  }
  if (!existsSync(CHROMIUM)) {
    result.errors.interactive = result.errors.down = `Chromium is not installed (apt-get install chromium)`;
    result.failed = true;
    return result;
  }

  let browser = null;
  let serve = null;
  const upstreams = [];
  try {
    const { chromium } = await import('playwright-core');
    const dir = mkdtempSync(join(ctx.tmp, 'ui-'));
    [browser, serve] = await Promise.all([chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }), startServe(ctx.processes, dir)]);
    result.chromium = browser.version();
    await serve.api('/api/settings', 'PATCH', { app: { onboarded: true } });
    await serve.api('/auth/password', 'POST', { newPassword: PASSWORD });
    const backend = await startUpstream();
    upstreams.push(backend);
    const routeIds = [];
    for (let i = 1; i <= DASHBOARD_ROUTES; i++) {
      const route = await serve.api('/api/routes', 'POST', { title: `Service ${i}`, names: [`service-${i}.bench.test`], upstream: backend.address });
      routeIds.push(route.id);
    }
    // Traffic for the route page's charts; the history's 10-second sampler writes it while the dashboard is timed.
    await traffic(serve, 'service-1.bench.test', 300);

    try {
      await coldSample(browser, serve); // warm-up: Chromium's first context pays for its own start
      const samples = [];
      for (let i = 0; i < navigations; i++) samples.push(await coldSample(browser, serve));
      const warm = await warmSamples(browser, serve, navigations);
      result.interactive = {
        medianMs: median(samples.map((s) => s.interactive)),
        samplesMs: samples.map((s) => Math.round(s.interactive)),
        domContentLoadedMedianMs: median(samples.map((s) => s.loaded)),
        warmMedianMs: median(warm.map((s) => s.interactive)),
      };
    } catch (error) {
      result.errors.interactive = error.message.split('\n')[0];
    }

    try {
      const { context, page } = await openDashboard(browser, serve);
      try {
        await routePageSample(page, serve, routeIds[0]); // warm-up: the chart code's first load
        const samples = [];
        for (let i = 0; i < navigations; i++) samples.push(await routePageSample(page, serve, routeIds[0]));
        const history = await serve.api(`/api/history/routes/${routeIds[0]}?range=1h`);
        const requests = history.series.requests.reduce((sum, n) => sum + (n ?? 0), 0);
        result.routePage = { medianMs: median(samples), samplesMs: samples.map((ms) => Math.round(ms)), requestsDrawn: requests };
      } finally {
        await context.close();
      }
    } catch (error) {
      result.errors.routePage = error.message.split('\n')[0];
    }

    try {
      const { context, page } = await openDashboard(browser, serve);
      try {
        const samples = [];
        for (let i = 1; i <= downs; i++) samples.push(await downSample(page, serve, i));
        result.down = { medianMs: median(samples), samplesMs: samples.map((ms) => Math.round(ms)) };
      } finally {
        await context.close();
      }
    } catch (error) {
      result.errors.down = error.message.split('\n')[0];
    }
  } catch (error) {
    result.errors.interactive ??= error.message.split('\n')[0];
    result.errors.down ??= result.errors.interactive;
  } finally {
    await browser?.close();
    if (serve) await stopServe(serve);
    for (const upstream of upstreams) await upstream.close();
  }
  result.failed = Object.keys(result.errors).length > 0;
  return result;
}

/** PASS / MISS per UI target, in the shape evaluateTargets (report.mjs) gives. */
export function uiTargets(ui) {
  return UI_TARGETS.map((target) => {
    const line = (status, detail) => ({ id: target.id, text: target.text, status, detail });
    const value = target.metric === 'bundle' ? ui.bundle?.gzipBytes : ui[target.metric]?.medianMs;
    if (typeof value !== 'number') return line('MISS', `not measured: ${ui.errors[target.metric] ?? 'no result'}`);
    const shown = target.unit === 'bytes' ? `${fmt(value / 1000, 1)} KB` : `${fmt(value)} ms`;
    const limit = target.unit === 'bytes' ? `${fmt(target.limit / 1000)} KB` : `${fmt(target.limit)} ms`;
    return line(value <= target.limit ? 'PASS' : 'MISS', `${shown} (limit ${limit})`);
  });
}

/** The lines the bench prints about the UI. */
export function describeUi(ui) {
  const lines = [`UI (headless Chromium ${ui.chromium ?? '?'} against gatehouse serve):`];
  if (ui.warning) lines.push(`  WARNING: ${ui.warning}`);
  if (ui.cpuPressure && ui.cpuPressure.avg60 > 5) {
    lines.push(`  WARNING: the machine was busy (tasks waited for a CPU ${ui.cpuPressure.avg60}% of the last minute): the times are high and noisy.`);
  }
  const b = ui.bundle;
  lines.push(b ? `  renderer bundle: ${b.files} files, ${fmt(b.rawBytes)} bytes raw, ${fmt(b.gzipBytes)} bytes gzipped (level 9)` : `  renderer bundle: not measured (${ui.errors.bundle})`);
  const series = (label, m, what) =>
    m
      ? `  ${label}: median ${fmt(m.medianMs)} ms of ${m.samplesMs.length} ${what} (${m.samplesMs.join(', ')} ms)`
      : `  ${label}: not measured (${ui.errors[label.startsWith('dashboard') ? 'interactive' : label.startsWith('route page') ? 'routePage' : 'down']})`;
  lines.push(series('dashboard interactive', ui.interactive, `fresh navigations with ${DASHBOARD_ROUTES} routes`));
  if (ui.interactive) {
    lines.push(`    of which the page's own load (DOMContentLoaded): median ${fmt(ui.interactive.domContentLoadedMedianMs)} ms`);
    lines.push(`    opened again in the same tab (assets cached): median ${fmt(ui.interactive.warmMedianMs)} ms (not the target's measure)`);
  }
  lines.push(series('route page drawn', ui.routePage, `navigations from the dashboard (1 h of history, ${fmt(ui.routePage?.requestsDrawn ?? 0)} requests in it)`));
  lines.push(series('route shown Down', ui.down, 'upstreams closed'));
  return lines.join('\n');
}

// Alone: node bench/ui.mjs [--quick]
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // Standalone run on the host network: mDNS off for the serve it starts (see bench/run.mjs).
  process.env.GATEHOUSE_MDNS = 'off';
  const quick = process.argv.includes('--quick');
  const processes = new Processes(null);
  const tmp = mkdtempSync(join(tmpdir(), 'gatehouse-bench-ui-'));
  process.once('exit', () => {
    processes.killAllNow();
    rmSync(tmp, { recursive: true, force: true });
  });
  const ui = await measureUi({ processes, tmp }, { quick });
  await processes.stopAll();
  console.log(describeUi(ui));
  console.log('\nTargets (UI):');
  const targets = uiTargets(ui);
  const width = Math.max(...targets.map((t) => t.text.length));
  for (const t of targets) console.log(`  ${t.status.padEnd(4)}  ${t.text.padEnd(width)}  ${t.detail}`);
  process.exitCode = ui.failed ? 1 : 0;
}
