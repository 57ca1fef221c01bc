// The onboarding page at /ca on a real node:http server, as the engine's HTTP listener offers it:
// status codes and headers a phone's browser relies on, HEAD, wrong methods, paths it leaves to the
// engine, and the page itself rendered by Chromium at a phone's size with the fingerprint in view.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { LocalCa, type LocalCaInfo } from '../../src-main/core/certs/local-ca.js';
import { ONBOARDING_CSP, onboardingPages } from '../../src-main/core/certs/onboarding.js';
import { SCREENSHOT_DIR, browserMissing, launchBrowser, pngInfo } from '../helpers/browser.js';

/** What the test server answers when the pages leave a request to "the engine". */
const ENGINE_STATUS = 418;
const PHONE = { width: 390, height: 844 };

let dir: string;
let server: Server | undefined;
let base: string;
let info: LocalCaInfo;
let caProblem: Error | null = null;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-onboarding-'));
  info = (await LocalCa.open(dir)).info;
  const pages = onboardingPages(() => {
    if (caProblem) throw caProblem;
    return info;
  });
  const listener = createServer((req, res) => {
    if (!pages.handle(req, res, () => true)) res.writeHead(ENGINE_STATUS).end('engine');
  });
  server = listener;
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await rm(dir, { recursive: true, force: true });
});

test('GET /ca and /ca/ answer the page with a strict CSP, no caching, the fingerprint', async () => {
  for (const path of ['/ca', '/ca/', '/ca?from=qr']) {
    const response = await fetch(base + path);
    assert.equal(response.status, 200, path);
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(response.headers.get('content-security-policy'), "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    const body = await response.text();
    assert.equal(Number(response.headers.get('content-length')), Buffer.byteLength(body));
    assert.ok(body.replace(/<wbr>/g, '').includes(info.fingerprintSha256), 'the page shows the SHA-256 fingerprint (wrapping only between bytes)');
    assert.match(body, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.doesNotMatch(body, /<script|<link|src="http|url\(/i, 'nothing outside the document');
    for (const step of ['VPN &amp; Device Management', 'Certificate Trust Settings', 'Encryption &amp; credentials', 'update-ca-certificates', 'update-ca-trust', 'security.enterprise_roots.enabled', 'certutil -user -addstore Root']) {
      assert.ok(body.includes(step), `the page has the step "${step}"`);
    }
  }
  assert.equal(ONBOARDING_CSP, "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
});

test('each download: attachment, MIME type, length, no caching, the CA\'s bytes', async () => {
  const expected: [string, string, Buffer | null][] = [
    ['gatehouse-ca.crt', 'application/x-x509-ca-cert', Buffer.from(info.certificateDer)],
    ['gatehouse-ca.pem', 'application/x-pem-file', Buffer.from(info.certificatePem)],
    ['gatehouse-ca.mobileconfig', 'application/x-apple-aspen-config', null],
  ];
  for (const [name, type, bytes] of expected) {
    const response = await fetch(`${base}/ca/${name}`);
    assert.equal(response.status, 200, name);
    assert.equal(response.headers.get('content-type'), type);
    assert.equal(response.headers.get('content-disposition'), `attachment; filename="${name}"`);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const body = Buffer.from(await response.arrayBuffer());
    assert.equal(Number(response.headers.get('content-length')), body.length);
    if (bytes) assert.deepEqual(body, bytes);
    else assert.match(body.toString('utf8'), /<string>com\.apple\.security\.root<\/string>/);
  }
});

test('HEAD answers the same headers without a body', async () => {
  for (const path of ['/ca', '/ca/gatehouse-ca.crt']) {
    const get = await fetch(base + path);
    const head = await fetch(base + path, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), get.headers.get('content-length'));
    assert.equal(head.headers.get('content-type'), get.headers.get('content-type'));
    assert.equal((await head.arrayBuffer()).byteLength, 0);
  }
});

test('other methods get 405 with Allow; unknown paths under /ca get 404; the rest goes to the engine', async () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
    const response = await fetch(`${base}/ca/gatehouse-ca.pem`, { method });
    assert.equal(response.status, 405, method);
    assert.equal(response.headers.get('allow'), 'GET, HEAD');
  }
  for (const path of ['/ca/other.crt', '/ca/gatehouse-ca.der', '/ca/sub/page']) {
    assert.equal((await fetch(base + path)).status, 404, path);
    assert.equal((await fetch(base + path, { method: 'POST' })).status, 404, `${path} (POST)`);
  }
  for (const path of ['/', '/cab', '/ca.pem', '/api/ca', '/CA']) {
    const response = await fetch(base + path);
    assert.equal(response.status, ENGINE_STATUS, `${path} is left to the engine`);
    assert.equal(await response.text(), 'engine');
  }
});

test('a CA that cannot be read gives 503 saying so, not a crash', async () => {
  caProblem = new Error('ca.pem is unreadable');
  try {
    const response = await fetch(`${base}/ca`);
    assert.equal(response.status, 503);
    assert.match(await response.text(), /The local CA is not available: ca\.pem is unreadable/);
  } finally {
    caProblem = null;
  }
  assert.equal((await fetch(`${base}/ca`)).status, 200);
});

test('interpolated values are escaped', async (t) => {
  const saved = info;
  info = { ...info, permittedDomains: ['<img src=x onerror=alert(1)>', 'a"b'] };
  t.after(() => (info = saved));
  const body = await (await fetch(`${base}/ca`)).text();
  assert.ok(!body.includes('<img src=x'), 'no markup from the certificate reaches the page');
  assert.ok(body.includes('&lt;img src=x onerror=alert(1)&gt;'));
  assert.ok(body.includes('a&quot;b'));
});

describe('the page in Chromium at a phone\'s size', { skip: browserMissing() }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(() => browser?.close());

  for (const colorScheme of ['light', 'dark'] as const) {
    test(`${colorScheme}: the fingerprint is visible, nothing overflows, the CSP blocks nothing it needs`, async () => {
      const context = await browser.newContext({ viewport: PHONE, colorScheme, isMobile: true, hasTouch: true });
      try {
        const page = await context.newPage();
        const blocked: string[] = [];
        page.on('console', (message) => {
          if (/Content Security Policy/i.test(message.text())) blocked.push(message.text());
        });
        const response = await page.goto(`${base}/ca`);
        assert.equal(response?.status(), 200);
        const fingerprint = page.locator('#fingerprint');
        assert.equal(await fingerprint.isVisible(), true);
        assert.equal((await fingerprint.textContent())?.trim(), info.fingerprintSha256);
        const box = await fingerprint.boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width && box.y + box.height <= PHONE.height, `fingerprint within the first screen: ${JSON.stringify(box)}`);
        const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(scrollWidth <= PHONE.width, `no sideways scrolling (page is ${scrollWidth}px wide)`);
        const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        assert.equal(background, colorScheme === 'dark' ? 'rgb(13, 17, 23)' : 'rgb(255, 255, 255)');
        const iosSteps = page.locator('#ios');
        await iosSteps.locator('summary').click();
        assert.equal(await iosSteps.getByText('Certificate Trust Settings', { exact: false }).isVisible(), true);
        assert.deepEqual(blocked, []);
        if (colorScheme === 'light') {
          await mkdir(SCREENSHOT_DIR, { recursive: true });
          const path = join(SCREENSHOT_DIR, 'onboarding-phone.png');
          await page.screenshot({ path, fullPage: true, animations: 'disabled' });
          const png = await pngInfo(path);
          assert.ok(png.width === PHONE.width && png.height >= PHONE.height && png.bytes > 8 * 1024, `screenshot ${JSON.stringify(png)}`);
        }
      } finally {
        await context.close();
      }
    });
  }
});
