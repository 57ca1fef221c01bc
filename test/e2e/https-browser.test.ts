// Issue 4, item 8: a real browser trusts a route's certificate once the local CA is in its trust
// store, and only then. A real `gatehouse serve` proxies https://app.home.arpa to a real upstream
// with a certificate from its local CA; the CA (downloaded through the API) goes into a fresh NSS
// database under a temporary HOME, the one Debian's Chromium reads ($HOME/.pki/nssdb), and
// Chromium resolves app.home.arpa to 127.0.0.1 by --host-resolver-rules (no system file touched).
// The same navigation with an empty NSS database must fail with a certificate error, which shows
// that the first check proves the CA, not a browser that accepts anything.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import type { CaDownload, ProxyStatus } from '../../shared/status.js';
import { addRoute, apiJson } from '../helpers/admin-ui.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH, homeWithNssDb, waitFor } from '../helpers/browser.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { needTools } from '../helpers/tools.js';
import { startFixedUpstream, type Upstream } from '../helpers/upstream.js';

const APP_HOST = 'app.home.arpa';
const PAGE_TEXT = 'Hello from the app behind Gatehouse';

/** The DNS names of the certificate served for `servername` (chain not verified: the caller compares names). */
function servedNames(port: number, servername: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, timeout: 2000 });
    socket.once('secureConnect', () => {
      const san = socket.getPeerX509Certificate()?.subjectAltName ?? '';
      socket.destroy();
      resolve(san.split(', ').filter((entry) => entry.startsWith('DNS:')).map((entry) => entry.slice(4)));
    });
    socket.once('timeout', () => socket.destroy(new Error('no TLS handshake within 2 s')));
    socket.once('error', reject);
  });
}

/** Debian's Chromium with HOME (so its NSS database) at `home`, resolving APP_HOST to 127.0.0.1. */
function launchWithHome(home: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ${APP_HOST} 127.0.0.1`],
    env: { ...process.env, HOME: home },
  });
}

describe('HTTPS in Chromium with the local CA in its NSS database', { skip: needTools(['certutil', 'libnss3-tools'], [CHROMIUM_PATH, 'chromium']) }, () => {
  let serve: ServeProcess;
  let upstream: Upstream;
  let root: string;
  let caPath: string;
  let caCommonName: string;
  let url: string;
  const browsers: Browser[] = [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'gatehouse-https-browser-'));
    upstream = await startFixedUpstream(`<!doctype html><title>App</title><p>${PAGE_TEXT}</p>`, { headers: { 'content-type': 'text/html' } });
    serve = await startServe({ args: ['--bind', '127.0.0.1'] });
    await addRoute(serve, { names: [APP_HOST], upstream: upstream.address, tls: { mode: 'local' } });
    const status = await apiJson<ProxyStatus>(serve, '/api/proxy');
    assert.ok(status.https, `the HTTPS listener runs (GET /api/proxy: ${JSON.stringify(status)})`);
    const httpsPort = status.https.port;
    await waitFor(`a certificate for ${APP_HOST} on 127.0.0.1:${httpsPort}`, async () => (await servedNames(httpsPort, APP_HOST)).includes(APP_HOST));
    url = `https://${APP_HOST}:${httpsPort}/`;

    const download = await apiJson<CaDownload>(serve, '/api/certificates/ca/download?format=pem');
    const pem = Buffer.from(download.base64, 'base64').toString('utf8');
    assert.match(pem, /^-----BEGIN CERTIFICATE-----/, `${download.fileName} is a PEM certificate`);
    caPath = join(root, 'ca.pem');
    await writeFile(caPath, pem);
    caCommonName = /^CN=(.*)$/m.exec(new X509Certificate(pem).subject)?.[1] ?? '';
    assert.ok(caCommonName, 'the CA has a common name');
  });

  after(async () => {
    for (const browser of browsers) await browser.close();
    await serve?.stop();
    await upstream?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  test('with the CA trusted, the page loads from the upstream with no certificate error', async () => {
    const browser = await launchWithHome(await homeWithNssDb(root, 'trusted', caPath));
    browsers.push(browser);
    const page = await (await browser.newContext()).newPage();
    const response = await page.goto(url);
    assert.ok(response, 'the navigation has a response');
    assert.equal(response.status(), 200);
    const security = await response.securityDetails();
    assert.equal(security?.issuer, caCommonName, 'the certificate comes from the downloaded CA');
    assert.equal(security?.subjectName, APP_HOST);
    assert.equal(security?.protocol, 'TLS 1.3');
    assert.equal((await page.locator('p').textContent())?.trim(), PAGE_TEXT);
    const host = upstream.requests.at(-1)?.headers.host ?? '(no request)';
    assert.match(host, /^app\.home\.arpa(:\d+)?$/, 'the upstream received the request for the route');
  });

  test('without the CA, the same navigation fails with a certificate error', async () => {
    const browser = await launchWithHome(await homeWithNssDb(root, 'untrusted', null));
    browsers.push(browser);
    const page = await (await browser.newContext()).newPage();
    // The route's active health check (every 2 s) also reaches the upstream: only the browser's count.
    const proxied = () => upstream.requests.filter((request) => request.headers['user-agent'] !== 'Gatehouse health check').length;
    const before = proxied();
    await assert.rejects(page.goto(url), /net::ERR_CERT_AUTHORITY_INVALID/);
    assert.equal(proxied(), before, 'no request reached the upstream');
  });
});
