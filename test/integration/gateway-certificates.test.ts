// HTTPS through the whole gateway, as a user drives it through the API: a route saved with the
// local CA answers over TLS with its own verified certificate at once; names outside the CA's
// domains are refused naming the field; the onboarding page is on the HTTP listener; a new set of
// domains makes a new CA that the served certificates then chain to; a restart keeps everything.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ApiEvent } from '../../shared/api.js';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { call, rejectsWith } from '../helpers/gateway-calls.js';
import { localTls } from '../helpers/proxy-harness.js';
import { makeDataDir } from '../helpers/serve.js';
import { httpsGet, sanNames } from '../helpers/tls-clients.js';
import { requestThrough, startEchoUpstream, type EchoBody, type Upstream } from '../helpers/upstream.js';

const local = localTls();

describe('certificates through the gateway', () => {
  let dataDir: string;
  let gateway: Gateway;
  let upstream: Upstream;
  let caPath: string;
  const ports = { http: 0, https: 0 };

  async function open(): Promise<void> {
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    await gateway.startup();
    const status = await call(gateway, 'getStatus');
    assert.equal(status.state, 'running', JSON.stringify(status.problem));
    ports.http = status.http!.port;
    ports.https = status.https!.port;
  }

  /** Writes the CA as downloaded through the API, PEM, for clients to verify against. */
  async function saveCa(): Promise<string> {
    const download = await call(gateway, 'downloadCa', { format: 'pem' });
    assert.equal(download.fileName, 'gatehouse-ca.pem');
    await writeFile(caPath, Buffer.from(download.base64, 'base64'));
    return Buffer.from(download.base64, 'base64').toString('utf8');
  }

  before(async () => {
    dataDir = await makeDataDir();
    caPath = join(dataDir, 'downloaded-ca.pem');
    upstream = await startEchoUpstream('app');
    await open();
  });
  after(async () => {
    await gateway?.close();
    await upstream?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('a route saved with the local CA answers over HTTPS at once, verified, with only its own names', async () => {
    const events: ApiEvent[] = [];
    const stop = gateway.subscribe((event) => events.push(event), ['certificates']);
    const route = await call(gateway, 'addRoute', { title: 'App', names: ['app.home.arpa', 'www.app.home.arpa'], upstream: upstream.url, tls: local });
    await saveCa();
    const answer = await httpsGet(ports.https, 'app.home.arpa', caPath, { path: '/hello' });
    assert.equal(answer.status, 200);
    assert.equal((JSON.parse(answer.body) as EchoBody).url, '/hello', 'the page comes from the upstream');
    assert.equal((JSON.parse(answer.body) as EchoBody).headers['x-forwarded-proto'], 'https');
    assert.deepEqual(sanNames(answer.certificate), ['app.home.arpa', 'www.app.home.arpa']);
    assert.equal(answer.certificate.checkHost('www.app.home.arpa'), 'www.app.home.arpa');

    const overview = await call(gateway, 'getCertificates');
    const certificate = overview.routes.find((entry) => entry.routeId === route.id);
    assert.equal(certificate?.state, 'valid');
    assert.equal(certificate?.fingerprintSha256, answer.certificate.fingerprint256, 'the certificate listed is the one served');
    assert.ok(certificate?.renewsAt && certificate.notAfter && Date.parse(certificate.renewsAt) < Date.parse(certificate.notAfter));
    assert.equal(overview.ca.keyType, 'RSA 2048');
    assert.equal(JSON.stringify(overview).includes('PRIVATE KEY'), false, 'no key in what the API shows');
    await new Promise((resolve) => setTimeout(resolve, 300));
    stop();
    assert.ok(events.some((event) => event.type === 'certificates' && event.data.routes.some((entry) => entry.routeId === route.id && entry.state === 'valid')), 'the certificates event told');
  });

  test('a name outside the CA’s domains is refused on its field, and nothing is saved', async () => {
    const before = await call(gateway, 'listRoutes');
    const error = await rejectsWith(call(gateway, 'addRoute', { names: ['nas.home.example'], upstream: upstream.url, tls: local }), 'invalid_input');
    assert.equal(error.details.issues?.[0]?.path, 'names.0');
    assert.match(error.message, /nas\.home\.example/);
    assert.match(error.message, /home\.arpa/, 'it says which domains the CA allows');
    assert.deepEqual(await call(gateway, 'listRoutes'), before);
  });

  test('renaming a route re-issues its certificate for the new names', async () => {
    const [route] = await call(gateway, 'listRoutes');
    await call(gateway, 'updateRoute', { ...route!, names: ['app.home.arpa', 'files.home.arpa'] });
    const answer = await httpsGet(ports.https, 'files.home.arpa', caPath);
    assert.deepEqual(sanNames(answer.certificate), ['app.home.arpa', 'files.home.arpa']);
    const stale = await httpsGet(ports.https, 'www.app.home.arpa', caPath).catch((error: Error) => error);
    assert.ok(stale instanceof Error || !sanNames(stale.certificate).includes('www.app.home.arpa'), 'the old name no longer gets a certificate naming it');
  });

  test('redirect to HTTPS: plain HTTP gets 308 to the HTTPS listener, with the path', async () => {
    const [route] = await call(gateway, 'listRoutes');
    await call(gateway, 'updateRoute', { ...route!, tls: { ...local, redirectHttp: true, hsts: true, proxyProtocol: 'off' as const } });
    const plain = await requestThrough(ports.http, 'app.home.arpa', '/a/b?c=1');
    assert.equal(plain.status, 308);
    assert.equal(plain.headers.location, `https://app.home.arpa:${ports.https}/a/b?c=1`);
    const secure = await httpsGet(ports.https, 'app.home.arpa', caPath);
    assert.equal(secure.headers['strict-transport-security'], 'max-age=31536000');
  });

  test('the onboarding page is served on the HTTP listener; on loopback the API offers no address or QR code, and says why', async () => {
    const overview = await call(gateway, 'getCertificates');
    assert.deepEqual(overview.onboarding.urls, [], 'a phone cannot reach 127.0.0.1');
    assert.equal(overview.onboarding.qr, null);
    assert.equal(overview.onboarding.problem?.code, 'proxy_loopback_only');
    const page = await requestThrough(ports.http, `127.0.0.1:${ports.http}`, '/ca');
    assert.equal(page.status, 200);
    assert.ok(page.body.replaceAll('<wbr>', '').includes(overview.ca.fingerprintSha256), 'the page shows the fingerprint to compare');
    const der = await requestThrough(ports.http, `127.0.0.1:${ports.http}`, '/ca/gatehouse-ca.crt');
    assert.equal(der.status, 200);
  });

  test('new CA domains make a new CA: served certificates chain to it, the old files are kept', async () => {
    const oldCa = await saveCa();
    const overview = await call(gateway, 'setCaDomains', { domains: ['home.arpa', 'home.example'], replaceCa: true });
    assert.deepEqual(overview.ca.permittedDomains, ['home.arpa', 'home.example']);
    assert.notEqual(overview.ca.fingerprintSha256, new X509Certificate(oldCa).fingerprint256);
    assert.notEqual(overview.ca.subject, new X509Certificate(oldCa).subject.replace(/\n/g, ', '), 'a store that looks CAs up by subject tells them apart');
    await assert.rejects(httpsGet(ports.https, 'app.home.arpa', caPath), /certificate|self.signed|issuer/i, 'the old CA no longer vouches for the route');
    await saveCa();
    const answer = await httpsGet(ports.https, 'app.home.arpa', caPath);
    assert.equal(answer.status, 200);
    const nas = await call(gateway, 'addRoute', { names: ['nas.home.example'], upstream: upstream.url, tls: local });
    assert.equal((await httpsGet(ports.https, 'nas.home.example', caPath)).status, 200, 'the new domain works');
    await call(gateway, 'removeRoute', { id: nas.id });
    assert.ok(existsSync(join(dataDir, 'certs')), 'the certificates folder is there');
  });

  test('trusting this machine runs nothing when the CA changed since the commands were shown', async () => {
    const stale = `${'AB:'.repeat(31)}AB`;
    const error = await rejectsWith(call(gateway, 'trustCa', { consent: true, caFingerprintSha256: stale }), 'conflict');
    assert.match(error.message, /replaced after these commands were shown/);
    await rejectsWith(call(gateway, 'untrustCa', { consent: true, caFingerprintSha256: stale }), 'conflict');
  });

  test('an import whose HTTPS cannot work here says so in the preview, and still applies', async () => {
    const exported = await call(gateway, 'exportSettings');
    const base = exported.settings.routes[0]!;
    const document = structuredClone(exported);
    document.settings.routes.push(
      { ...base, id: 'fromnas01', title: 'Photos', names: ['photos.home.arpa'], tls: { mode: 'custom', certificateId: 'elsewhere1', acme: null, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const } },
      { ...base, id: 'fromnas02', title: 'Wiki', names: ['wiki.example.org'], tls: local },
    );
    const preview = await call(gateway, 'previewImport', { document });
    assert.equal(preview.warnings.length, 2, preview.warnings.join('\n'));
    assert.match(preview.warnings[0]!, /^Photos: there is no imported certificate "elsewhere1"/);
    assert.match(preview.warnings[1]!, /^Wiki: .*wiki\.example\.org/);
    const imported = await call(gateway, 'importSettings', { document });
    assert.equal(imported.routes.length, 3, 'the routes are kept');
    const states = new Map((await call(gateway, 'getCertificates')).routes.map((entry) => [entry.routeId, entry.state]));
    assert.equal(states.get('fromnas01'), 'error');
    assert.equal(states.get('fromnas02'), 'error');
    assert.equal(states.get(base.id), 'valid');
    await call(gateway, 'removeRoute', { id: 'fromnas01' });
    await call(gateway, 'removeRoute', { id: 'fromnas02' });
  });

  test('after a restart the same CA and the same certificates are served, not new ones', async () => {
    const before = await call(gateway, 'getCertificates');
    await gateway.close();
    await open();
    const after = await call(gateway, 'getCertificates');
    assert.equal(after.ca.fingerprintSha256, before.ca.fingerprintSha256);
    assert.deepEqual(after.routes.map((entry) => entry.fingerprintSha256), before.routes.map((entry) => entry.fingerprintSha256));
    const answer = await httpsGet(ports.https, 'app.home.arpa', caPath);
    assert.equal(answer.certificate.fingerprint256, after.routes[0]?.fingerprintSha256);
  });
});
