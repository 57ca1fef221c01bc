// The admin over HTTPS when it listens on the LAN: the real `gatehouse serve --admin-bind ADDRESS`
// on a non-loopback address of this machine. Its certificate chains to the local CA and covers the
// address and hostname.local (openssl, curl, undici, Node's TLS without SNI), Chromium trusting the
// CA (NSS) opens https://ADDRESS:PORT/ with no warning while one that does not trust it refuses,
// plain http:// on the same port is redirected, the certificate is not listed as a route's, and the
// onboarding page links to the admin only in this case.
//
// A machine with no LAN address (a bare CI container) runs this file again inside its own network
// namespace (`unshare -rn`) with a veth pair whose both ends stay in it: the traffic never leaves
// the machine either way.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { Agent, fetch as undiciFetch } from 'undici';
import type { CertificatesOverview } from '../../shared/status.js';
import { lanAddresses } from '../../src-main/core/net/lan-addresses.js';
import { adminRequest, errorBody } from '../helpers/admin-requests.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH, homeWithNssDb, waitFor } from '../helpers/browser.js';
import { run } from '../helpers/netns.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { needTools } from '../helpers/tools.js';

const IN_NAMESPACE = process.env.GATEHOUSE_ADMIN_NETNS === '1';
/** The namespace's own "LAN" address (a veth pair: both ends are inside the namespace). */
const NAMESPACE_ADDRESS = '10.89.0.1';
const address = IN_NAMESPACE ? NAMESPACE_ADDRESS : process.env.GATEHOUSE_ADMIN_FORCE_NETNS ? undefined : lanAddresses().find((candidate) => !candidate.includes(':'));
const localName = `${hostname().split('.')[0]!.toLowerCase()}.local`;
const missing = needTools(['openssl', 'openssl'], ['curl', 'curl'], ['certutil', 'libnss3-tools'], [CHROMIUM_PATH, 'chromium']);

if (address === undefined) {
  test('no LAN address here: the same checks run inside a network namespace with one', { skip: missing || needTools(['unshare', 'util-linux'], ['ip', 'iproute2']) }, async () => {
    const setup = `ip link set lo up && ip link add gh0 type veth peer name gh1 && ip addr add ${NAMESPACE_ADDRESS}/24 dev gh0 && ip link set gh0 up && ip link set gh1 up`;
    const self = fileURLToPath(import.meta.url);
    // Without NODE_TEST_CONTEXT (set by this runner) the inner runner prints its report instead of streaming it here.
    const result = await run(['unshare', '-rn', 'sh', '-c', `${setup} && exec "$@"`, 'sh', 'env', '-u', 'NODE_TEST_CONTEXT', process.execPath, '--import', 'tsx', '--test', '--test-reporter=spec', self], {
      env: { GATEHOUSE_ADMIN_NETNS: '1', GATEHOUSE_ADMIN_FORCE_NETNS: '' },
      timeoutMs: 240_000,
    });
    assert.equal(result.code, 0, `inside the namespace:\n${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /ℹ pass [1-9]/, result.stdout);
    assert.match(result.stdout, /ℹ fail 0/, result.stdout);
  });
} else {
  describe(`the admin over HTTPS on ${address}`, { skip: missing }, () => {
    let serve: ServeProcess;
    let port: number;
    let caPem: string;
    let caPath: string;
    let root: string;
    const browsers: Browser[] = [];

    before(async () => {
      serve = await startServe({ args: ['--admin-bind', address] });
      port = serve.info.admin.port;
      caPath = join(serve.dataDir, 'certs', 'ca.pem');
      caPem = await readFile(caPath, 'utf8');
      root = await mkdtemp(join(tmpdir(), 'gatehouse-admin-https-'));
    });
    after(async () => {
      for (const browser of browsers) await browser.close();
      await serve?.stop();
      if (root) await rm(root, { recursive: true, force: true });
    });

    test('serve prints the https:// address', async () => {
      assert.equal(serve.info.adminUrl, `https://${address}:${port}/`);
      // serve.json is written just before the lines are printed.
      const printed = await waitFor('the Admin UI line', () => /^Admin UI: .*$/m.exec(serve.stdout())?.[0]);
      assert.match(printed, new RegExp(`^Admin UI: +https://${address.replace(/\./g, '\\.')}:${port}/`));
    });

    test('without SNI the certificate chains to the local CA and covers the address and hostname.local', async () => {
      const peer = await new Promise<{ authorized: boolean; error: Error | null; certificate: X509Certificate }>((resolve, reject) => {
        // An IP address carries no SNI: exactly what a browser sends for https://ADDRESS:PORT/.
        const socket = connect({ host: address, port, ca: caPem, rejectUnauthorized: false });
        socket.once('secureConnect', () => {
          resolve({ authorized: socket.authorized, error: socket.authorizationError, certificate: socket.getPeerX509Certificate()! });
          socket.destroy();
        });
        socket.once('error', reject);
      });
      assert.equal(peer.authorized, true, `verified against the local CA: ${String(peer.error)}`);
      const san = peer.certificate.subjectAltName ?? '';
      assert.ok(san.includes(`IP Address:${address}`), san);
      assert.ok(san.includes(`DNS:${localName}`), san);
      assert.equal(peer.certificate.checkIP(address), address);
      assert.ok(peer.certificate.checkIssued(new X509Certificate(caPem)));
    });

    test('openssl s_client verifies the chain, the address and the name', async () => {
      for (const check of [['-verify_ip', address], ['-verify_hostname', localName]]) {
        const result = await run(['openssl', 's_client', '-connect', `${address}:${port}`, '-noservername', '-CAfile', caPath, '-verify_return_error', ...check], { timeoutMs: 20_000 });
        const output = result.stdout + result.stderr;
        assert.match(output, /Verify return code: 0 \(ok\)/, `${check.join(' ')}:\n${output}`);
      }
      // The check can fail: a name the certificate does not carry.
      const wrong = await run(['openssl', 's_client', '-connect', `${address}:${port}`, '-CAfile', caPath, '-verify_return_error', '-verify_hostname', 'other.local'], { timeoutMs: 20_000 });
      assert.doesNotMatch(wrong.stdout + wrong.stderr, /Verify return code: 0 \(ok\)/);
    });

    test('curl --cacert and undici reach the UI and the API by address and by hostname.local', async () => {
      const byAddress = await run(['curl', '-sS', '--cacert', caPath, '-o', '/dev/null', '-w', '%{http_code}', `https://${address}:${port}/`], { timeoutMs: 20_000 });
      assert.equal(byAddress.stdout, '200', byAddress.stderr);
      const byName = await run(
        ['curl', '-sS', '--cacert', caPath, '--resolve', `${localName}:${port}:${address}`, '-H', `authorization: Bearer ${serve.token}`, '-o', '/dev/null', '-w', '%{http_code}', `https://${localName}:${port}/api/proxy`],
        { timeoutMs: 20_000 },
      );
      assert.equal(byName.stdout, '200', byName.stderr);
      const agent = new Agent({ connect: { ca: caPem } });
      try {
        const answer = await undiciFetch(`https://${address}:${port}/api/certificates`, { dispatcher: agent, headers: { authorization: `Bearer ${serve.token}` } });
        assert.equal(answer.status, 200);
        const overview = (await answer.json()) as CertificatesOverview;
        // The admin's certificate is not a route's: the overview lists no certificate for it.
        assert.deepEqual(overview.routes, []);
        assert.deepEqual(overview.custom, []);
      } finally {
        await agent.close();
      }
    });

    test('plain http:// on the admin port is sent to https://, and a foreign Host is refused there too', async () => {
      const plain = await adminRequest({ address, port, path: '/api/proxy?x=1', headers: { host: `${address}:${port}` } });
      assert.equal(plain.status, 308);
      assert.equal(plain.headers.location, `https://${address}:${port}/api/proxy?x=1`);
      const portless = await adminRequest({ address, port, path: '/', headers: { host: address } });
      assert.equal(portless.headers.location, `https://${address}:${port}/`, 'to the admin port, not 443');
      const foreign = await adminRequest({ address, port, headers: { host: 'evil.example' } });
      assert.equal(foreign.status, 421);
      assert.equal(errorBody(foreign).code, 'forbidden');
      const foreignTls = await adminRequest({ address, port, headers: { host: 'evil.example' }, ca: caPem });
      assert.equal(foreignTls.status, 421);
    });

    test('the Origin rule holds over HTTPS: the https origin passes, the http one is another origin', async () => {
      const post = (origin: string) =>
        adminRequest({
          address,
          port,
          ca: caPem,
          method: 'PATCH',
          path: '/api/settings',
          body: JSON.stringify({ log: {} }),
          headers: { host: `${address}:${port}`, origin, authorization: `Bearer ${serve.token}`, 'content-type': 'application/json' },
        });
      assert.equal((await post(`https://${address}:${port}`)).status, 200);
      assert.equal((await post(`http://${address}:${port}`)).status, 403);
    });

    test('Chromium trusting the local CA opens the admin with no warning; one that does not is refused', async () => {
      const launch = async (name: string, ca: string | null) => {
        const home = await homeWithNssDb(root, name, ca);
        const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, env: { ...process.env, HOME: home } });
        browsers.push(browser);
        return browser;
      };
      const trusting = await launch('trusting', caPath);
      const page = await trusting.newPage();
      const response = await page.goto(`https://${address}:${port}/`);
      assert.equal(response?.status(), 200);
      const security = await response!.securityDetails();
      assert.equal(security?.subjectName, localName);
      await page.locator('h1').first().waitFor({ timeout: 10_000 });

      const untrusting = await launch('untrusting', null);
      await assert.rejects(untrusting.newPage().then((other) => other.goto(`https://${address}:${port}/`)), /ERR_CERT_AUTHORITY_INVALID/);
    });

    test('the onboarding page links to the admin over https, saying to trust the CA first', async () => {
      assert.ok(serve.proxyPort);
      const page = await adminRequest({ address: '127.0.0.1', port: serve.proxyPort, path: '/ca', headers: { host: address } });
      assert.equal(page.status, 200);
      assert.ok(page.body.includes(`href="https://${address}:${port}/"`), 'the link to the admin');
      assert.match(page.body, /Trust the certificate first/);
      assert.doesNotMatch(page.body, new RegExp(serve.token), 'never the token');
    });

    test('stops cleanly (exit 0) with an event stream open over HTTPS', async () => {
      const stream = await new Promise<IncomingMessage>((resolve, reject) => {
        const request = httpsRequest({ host: address, port, path: '/api/events', ca: caPem, servername: '', headers: { host: `${address}:${port}`, authorization: `Bearer ${serve.token}` } }, resolve);
        request.on('error', reject).end();
      });
      assert.equal(stream.statusCode, 200);
      stream.on('error', () => {});
      await once(stream, 'data');
      const exit = await serve.stop({ keepDataDir: true });
      assert.deepEqual(exit, { code: 0, signal: null }, serve.stderr());
      assert.equal(serve.stderr(), '');
      await rm(serve.dataDir, { recursive: true, force: true });
    });
  });
}

describe('the admin on loopback only', { skip: IN_NAMESPACE }, () => {
  let serve: ServeProcess;
  before(async () => {
    serve = await startServe();
  });
  after(() => serve?.stop());

  test('stays plain HTTP, and the onboarding page shows no admin link', async () => {
    assert.match(serve.adminUrl, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.ok(serve.proxyPort);
    const page = await adminRequest({ address: '127.0.0.1', port: serve.proxyPort, path: '/ca', headers: { host: '127.0.0.1' } });
    assert.equal(page.status, 200);
    assert.match(page.body, /Trust this home network/);
    assert.doesNotMatch(page.body, /Manage Gatehouse|id="admin"|:\d+\/"/);
    assert.ok(!page.body.includes(String(serve.info.admin.port)), 'nothing about the admin port');
  });
});
