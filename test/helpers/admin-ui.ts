// What the browser tests need around the admin UI: a `gatehouse serve` for them (proxy on 127.0.0.1
// only), the admin API as typed JSON, and reading the tables the UI contract names (ui-spec.md) by
// their column headers, so a test says "the Status of Jellyfin" rather than "the fourth cell".
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchBrowser, startTogether, waitFor } from './browser.js';
import type { ApiErrorBody } from '../../shared/api.js';
import type { Route, RouteInput } from '../../shared/model.js';
import type { CertificatesOverview } from '../../shared/status.js';
import { openssl } from './openssl.js';
import { startServe, type ServeProcess } from './serve.js';
import { startEchoUpstream, type Upstream } from './upstream.js';

/**
 * `gatehouse serve` with a fresh data directory, the proxy on 127.0.0.1 and a free port. Unless
 * `firstRun` is set, the first-run guide is marked done, so the app opens on the dashboard.
 */
export async function startUiServe(options: { firstRun?: boolean } = {}): Promise<ServeProcess> {
  const serve = await startServe({ args: ['--bind', '127.0.0.1'] });
  try {
    if (!options.firstRun) await apiJson(serve, '/api/settings', { method: 'PATCH', body: { app: { onboarded: true } } });
  } catch (error) {
    await serve.stop();
    throw error;
  }
  return serve;
}

/** What uiWithTwoEchoes() starts; every field is set once the suite's before() hook ran. */
export interface UiWithTwoEchoes {
  browser: Browser;
  serve: ServeProcess;
  /** Echo servers answering with their name, "first" and "second" (see startEchoUpstream). */
  first: Upstream;
  second: Upstream;
}

/**
 * The usual prelude of a browser test that routes to real upstreams: registers before() and after()
 * hooks in the calling describe() that start Chromium, a startUiServe() and two echo servers
 * together, then close whatever did start.
 */
export function uiWithTwoEchoes(): UiWithTwoEchoes {
  const started = {} as UiWithTwoEchoes;
  before(async () => {
    await startTogether([
      launchBrowser().then((b) => (started.browser = b)),
      startUiServe().then((s) => (started.serve = s)),
      startEchoUpstream('first').then((u) => (started.first = u)),
      startEchoUpstream('second').then((u) => (started.second = u)),
    ]);
  });
  after(async () => {
    await started.browser?.close();
    await started.serve?.stop();
    await started.first?.close();
    await started.second?.close();
  });
  return started;
}

/** Calls the admin API with a JSON body; throws with the answer when it is not a 2xx. */
export async function apiJson<T = unknown>(serve: ServeProcess, path: string, options: { method?: string; body?: unknown } = {}): Promise<T> {
  const init: RequestInit = { method: options.method ?? 'GET' };
  if (options.body !== undefined) {
    init.body = JSON.stringify(options.body);
    init.headers = { 'content-type': 'application/json' };
  }
  const response = await serve.api(path, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method} ${path} answered ${response.status}: ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** The same call, returning the status and the parsed body whatever the status (for expected errors). */
export async function apiAnswer(serve: ServeProcess, path: string, options: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: Partial<ApiErrorBody> | null }> {
  const response = await serve.api(path, {
    method: options.method ?? 'GET',
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

export function addRoute(serve: ServeProcess, input: RouteInput): Promise<Route> {
  return apiJson<Route>(serve, '/api/routes', { method: 'POST', body: input });
}

export function listRoutes(serve: ServeProcess): Promise<Route[]> {
  return apiJson<Route[]>(serve, '/api/routes');
}

/** The proxy's HTTP port now (it moves when the proxy is restarted on port 0); null when stopped. */
export async function proxyPort(serve: ServeProcess): Promise<number | null> {
  const status = await apiJson<{ http: { port: number } | null }>(serve, '/api/proxy');
  return status.http?.port ?? null;
}

/** settings.json as it is on disk, or null when it has not been written. */
export async function settingsFile(serve: ServeProcess): Promise<string | null> {
  try {
    return await readFile(join(serve.dataDir, 'settings.json'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// The page

export function heading(page: Page, name: string): Locator {
  return page.getByRole('heading', { level: 1, name, exact: true });
}

export function routesTable(page: Page): Locator {
  return page.getByRole('table', { name: 'Routes', exact: true });
}

/** A route's row on the dashboard: the row holding its "Delete <title>" button. */
export function routeRow(page: Page, title: string): Locator {
  return routesTable(page)
    .getByRole('row')
    .filter({ has: page.getByRole('button', { name: `Delete ${title}`, exact: true }) });
}

export interface CellContent {
  /** Text content, whitespace collapsed. */
  text: string;
  /** Every title and aria-label in the cell (a reason may be given as a tooltip). */
  hints: string;
}

/** The cell of `row` under the column headed `column` (matched case-insensitively, from the start). */
export function cell(row: Locator, column: string): Promise<CellContent> {
  return row.first().evaluate((element, name) => {
    const tr = element as HTMLTableRowElement;
    const table = tr.closest('table');
    if (!table) throw new Error('the row is not in a table');
    const header = table.tHead?.rows[0] ?? table.rows[0];
    const titles = Array.from(header?.cells ?? []).map((th) => (th.textContent ?? '').replace(/\s+/g, ' ').trim());
    const index = titles.findIndex((title) => title.toLowerCase().startsWith(name.toLowerCase()));
    if (index < 0) throw new Error(`the table has no column "${name}" (columns: ${titles.join(', ')})`);
    const td = tr.cells[index];
    if (!td) throw new Error(`the row has no cell under "${name}"`);
    const hints = [td, ...Array.from(td.querySelectorAll('*'))]
      .flatMap((node) => [node.getAttribute('title'), node.getAttribute('aria-label')])
      .filter((value): value is string => Boolean(value));
    return { text: (td.textContent ?? '').replace(/\s+/g, ' ').trim(), hints: hints.join(' | ') };
  }, column);
}

/** The first whole number in a cell ("12", "12 req/min"); 0 for an empty or "—" cell. */
export function numberIn(content: CellContent): number {
  const match = /\d[\d,]*/.exec(content.text);
  return match ? Number(match[0].replace(/,/g, '')) : 0;
}

/** The body rows of a table (its header row left out), for counting and reading what it lists. */
export function bodyRows(table: Locator): Locator {
  return table.locator('tbody tr');
}

/** Waits for a transient message ("Route saved") in one of the page's role="status" live regions. */
export function waitForStatusMessage(page: Page, message: string): Promise<true> {
  const texts = async () => (await page.getByRole('status').allTextContents()).map((text) => text.replace(/\s+/g, ' ').trim()).join(' | ');
  return waitFor(`"${message}" in a role="status" region`, async () => (await texts()).includes(message) || null, {
    describe: async () => (await texts()) || '(no status region has text)',
  });
}

/** A table's column headers, in order, whitespace collapsed. */
export async function columnHeaders(table: Locator): Promise<string[]> {
  return (await table.getByRole('columnheader').allTextContents()).map((text) => text.replace(/\s+/g, ' ').trim());
}

// ---------------------------------------------------------------------------------------------
// Certificates (issue 4)

/** The Certificates page's overview, as the API gives it. */
export function certificatesOverview(serve: ServeProcess): Promise<CertificatesOverview> {
  return apiJson<CertificatesOverview>(serve, '/api/certificates');
}

/**
 * A self-signed certificate and its key made by the real openssl, for importing: `names` in its
 * SAN, the first also as its CN, valid for `days`.
 */
export async function makeCertificate(names: string[], days = 30): Promise<{ certificatePem: string; privateKeyPem: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-cert-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const made = await openssl(
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', String(days),
      '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${names.map((name) => `DNS:${name}`).join(',')}`,
      // A server certificate: without this, req -x509 marks it as a CA, which Gatehouse refuses.
      '-addext', 'basicConstraints=critical,CA:FALSE',
    );
    if (made.code !== 0) throw new Error(`openssl req failed: ${made.output}`);
    return { certificatePem: await readFile(cert, 'utf8'), privateKeyPem: await readFile(key, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
