// Debian's Chromium driven by playwright-core, for the browser tests and the UI benchmark. One
// browser per test file (launching costs about a second); each test opens its own context, so
// cookies (the admin session), downloads and colour scheme never leak between tests.
// Locally a missing Chromium skips with a note; under CI=true it fails (needTools).
import { execFile } from 'node:child_process';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { repoRoot, type ServeProcess } from './serve.js';
import { needTools } from './tools.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** The flags RECIPES.md ("Browser tests") gives for Chromium on these machines. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The smallest window the issue promises to be comfortable in. */
export const VIEWPORT = { width: 1024, height: 700 };

export const SCREENSHOT_DIR = join(repoRoot, 'test-artifacts', 'screenshots');

/**
 * A HOME (ROOT/NAME) whose NSS database, what Chromium on Linux trusts besides its built-in roots,
 * is new and empty, or holds the CA at `caPath`. Launch Chromium with `env: { HOME }` to use it.
 * Needs certutil (libnss3-tools).
 */
export async function homeWithNssDb(root: string, name: string, caPath: string | null): Promise<string> {
  const certutil = (...args: string[]) => promisify(execFile)('certutil', args);
  const home = join(root, name);
  const db = join(home, '.pki', 'nssdb');
  await mkdir(db, { recursive: true });
  await certutil('-N', '-d', `sql:${db}`, '--empty-password');
  if (caPath) await certutil('-A', '-d', `sql:${db}`, '-t', 'C,,', '-n', 'gatehouse', '-i', caPath);
  return home;
}

/** For `describe(name, { skip: browserMissing() }, …)`: false when Chromium is installed. */
export function browserMissing(): string | false {
  return needTools([CHROMIUM_PATH, 'chromium']);
}

/**
 * Launches headless Chromium. Playwright gives every launch a fresh temporary --user-data-dir
 * (playwright_chromiumdev_profile-*) and deletes it on close, so no profile state carries over
 * between runs; passing our own would need launchPersistentContext, which allows one context only.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

export interface AdminPage {
  context: BrowserContext;
  page: Page;
  /** Closes the context (and with it the page and any downloads). */
  close(): Promise<void>;
}

export interface OpenAdminOptions {
  colorScheme?: 'light' | 'dark';
  /** Where to go once signed in, e.g. "#/logs"; default: wherever the app lands. */
  hash?: string;
  /** Default: VIEWPORT. */
  viewport?: { width: number; height: number };
}

/** The admin password openAdmin gives a serve that has none yet. */
export const ADMIN_PASSWORD = 'test admin password, long enough';

/**
 * Gives `serve` the admin password ADMIN_PASSWORD unless it has one already, the way a script
 * would: POST /auth/password with the bearer token.
 */
export async function ensureAdminPassword(serve: ServeProcess): Promise<void> {
  const state = (await (await serve.api('/auth/state')).json()) as { passwordSet: boolean };
  if (state.passwordSet) return;
  const answer = await serve.api('/auth/password', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ newPassword: ADMIN_PASSWORD }),
  });
  if (!answer.ok) throw new Error(`POST /auth/password answered ${answer.status}: ${await answer.text()}`);
}

/**
 * Signs `context` in as the sign-in form does (POST /auth/sign-in with the password), through the
 * context's own request client so the session cookie lands in the browser's cookie jar.
 */
export async function signInContext(context: BrowserContext, serve: ServeProcess, password = ADMIN_PASSWORD): Promise<void> {
  const answer = await context.request.post(new URL('/auth/sign-in', serve.adminUrl).href, {
    data: { password },
    headers: { origin: new URL(serve.adminUrl).origin },
  });
  if (!answer.ok()) throw new Error(`POST /auth/sign-in answered ${answer.status()}: ${await answer.text()}`);
}

/**
 * Opens the admin UI signed in, as a person would after `gatehouse serve`: a password is set (once
 * per serve), the browser signs in with it, and the plain admin URL is opened, with no token in it.
 */
export async function openAdmin(browser: Browser, serve: ServeProcess, options: OpenAdminOptions = {}): Promise<AdminPage> {
  await ensureAdminPassword(serve);
  const context = await browser.newContext({ viewport: options.viewport ?? VIEWPORT, colorScheme: options.colorScheme ?? 'light', acceptDownloads: true });
  try {
    await signInContext(context, serve);
    const page = await context.newPage();
    await page.goto(serve.adminUrl);
    // The shell's navigation shows only once the session is confirmed (not on the sign-in screen).
    await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 10_000 });
    if (options.hash) await navigate(page, options.hash);
    return { context, page, close: () => context.close() };
  } catch (error) {
    await context.close();
    throw error;
  }
}

/** Goes to a hash route of the single-page app and waits for its one h1. */
export async function navigate(page: Page, hash: string, heading?: string): Promise<void> {
  await page.evaluate((target) => (location.hash = target), hash);
  await page.waitForFunction((target) => location.hash === target, hash);
  if (heading) await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor({ timeout: 10_000 });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it returns something other than false, null or undefined, and returns that.
 * Times out with `what` and the last value seen, so a failure says what the page showed instead.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | false | null | undefined> | T | false | null | undefined,
  options: { timeoutMs?: number; describe?: () => Promise<string> | string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== null && value !== undefined) return value;
      lastError = null;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const seen = options.describe ? await Promise.resolve(options.describe()).catch((error: unknown) => `(could not describe: ${String(error)})`) : '';
      throw new Error(
        `Timed out after ${options.timeoutMs ?? 10_000} ms waiting for ${what}` +
          (seen ? `; the page showed: ${seen}` : '') +
          (lastError ? `; last error: ${(lastError as Error).message ?? String(lastError)}` : ''),
      );
    }
    await sleep(50);
  }
}

/** Waits until the locator's text (whitespace collapsed) matches. Returns that text. */
export function waitForText(locator: Locator, expected: string | RegExp, timeoutMs = 10_000): Promise<string> {
  const text = async () =>
    (await locator.count()) === 0 ? '(nothing matches the locator)' : ((await locator.first().textContent({ timeout: 1000 })) ?? '').replace(/\s+/g, ' ').trim();
  return waitFor(
    `text ${expected instanceof RegExp ? expected.source : JSON.stringify(expected)} in ${String(locator)}`,
    async () => {
      const value = await text();
      return (typeof expected === 'string' ? value.includes(expected) : expected.test(value)) ? value : null;
    },
    { timeoutMs, describe: text },
  );
}

/** Presses Tab until `target` has focus (at most `maxTabs` times); fails naming what had focus. */
export async function tabTo(page: Page, target: Locator, maxTabs = 40): Promise<void> {
  for (let i = 0; i < maxTabs; i++) {
    await page.keyboard.press('Tab');
    if (await target.evaluate((element) => element === document.activeElement)) return;
  }
  const focused = await page.evaluate(() => {
    const element = document.activeElement;
    return element ? `${element.tagName.toLowerCase()} "${(element.textContent ?? '').trim().slice(0, 40)}"` : 'nothing';
  });
  throw new Error(`${maxTabs} presses of Tab never focused ${String(target)} (last focused: ${focused})`);
}

/** Whether the focused element shows a focus indicator (an outline or a box shadow). */
export function focusIsVisible(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return false;
    const style = getComputedStyle(element);
    const outline = style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) > 0;
    return outline || style.boxShadow !== 'none';
  });
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Saves a full-page screenshot as test-artifacts/screenshots/NAME.png and checks what was written:
 * a PNG at least the viewport's size and more than a few kilobytes (a blank page compresses to less).
 */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true, animations: 'disabled' });
  const info = await pngInfo(path);
  const viewport = page.viewportSize() ?? VIEWPORT;
  if (info.width < viewport.width || info.height < viewport.height || info.bytes < 8 * 1024) {
    throw new Error(`${path} looks empty: ${info.width}×${info.height}, ${info.bytes} bytes`);
  }
  return path;
}

/** The size of a PNG file (from its IHDR chunk); throws when the file is not a PNG. */
export async function pngInfo(path: string): Promise<{ width: number; height: number; bytes: number }> {
  const data = await readFile(path);
  if (data.length < 24 || !data.subarray(0, 8).equals(PNG_SIGNATURE) || data.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error(`${path} is not a PNG file`);
  }
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20), bytes: (await stat(path)).size };
}

/**
 * Awaits every start (each one stores what it started, e.g. `launchBrowser().then((b) => (browser = b))`)
 * before failing with the first error, so after() finds and closes whatever did start instead of
 * leaving a browser or a server that keeps the test process alive.
 */
export async function startTogether(starts: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(starts);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}
