// The route doctor's port and certificate steps through a real gateway: with the proxy stopped the
// port fails with how to start it and the certificate is skipped saying why; running, a real TLS
// handshake with the name as SNI judges the certificate served: a local-CA one is valid and says
// whether this machine trusts the CA (before and after "Trust on this machine", run for real
// into temp trust stores), a custom one that ends within 14 days warns, and one that has expired
// (imported a few seconds before its end, then waited for) fails with what Gatehouse serves instead.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, describe, test } from 'node:test';
import type { DoctorReport } from '../../shared/insight.js';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { call } from '../helpers/gateway-calls.js';
import { localTls } from '../helpers/proxy-harness.js';
import { makeDataDir } from '../helpers/serve.js';
import { makeTestCertificate } from '../helpers/test-certificates.js';
import { needTools } from '../helpers/tools.js';
import { tempTrustEnvironment } from '../helpers/trust-stores.js';
import { startEchoUpstream, type Upstream } from '../helpers/upstream.js';

const skip = process.platform !== 'linux' ? 'Linux trust stores' : needTools(['certutil', 'libnss3-tools'], 'openssl', ['update-ca-certificates', 'ca-certificates']);
const DAY_MS = 24 * 60 * 60 * 1000;
const local = localTls();

function checkOf(report: DoctorReport, id: string) {
  const found = report.checks.find((check) => check.id === id);
  assert.ok(found, `no check ${id} in ${report.checks.map((check) => check.id).join(', ')}`);
  return found;
}

describe('the doctor checks the port and the certificate', { skip }, () => {
  let gateway: Gateway | undefined;
  let upstream: Upstream | undefined;
  let dataDir: string | undefined;
  after(async () => {
    await gateway?.close();
    await upstream?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('stopped proxy, then the local CA’s certificate before and after this machine trusts the CA', async (t) => {
    const trust = await tempTrustEnvironment(t);
    dataDir = await makeDataDir();
    upstream = await startEchoUpstream('app');
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' }, mdnsEnvironment: 'off', trustEnvironment: trust.env });
    const route = await call(gateway, 'addRoute', { names: ['app.home.arpa'], upstream: upstream.url, tls: local });

    // The proxy is stopped (startOnLaunch is off in a fresh data directory until startup runs).
    const stopped = await call(gateway, 'runDoctor', { routeId: route.id });
    const proxy = checkOf(stopped, 'port:proxy');
    assert.equal(proxy.state, 'fail');
    assert.match(proxy.says, /The proxy is stopped/);
    assert.match(proxy.fix ?? '', /Start the proxy/);
    const skipped = checkOf(stopped, 'certificate:skipped');
    assert.equal(skipped.state, 'skipped');
    assert.match(skipped.says, /proxy is not running/);
    assert.equal(stopped.verdict, 'broken');

    await call(gateway, 'startProxy');
    const running = await call(gateway, 'runDoctor', { routeId: route.id });
    assert.equal(checkOf(running, 'port:https').state, 'warn', 'answers, but on 127.0.0.1 only');
    assert.match(checkOf(running, 'port:https').says, /listens on 127\.0\.0\.1 only/);
    const names = checkOf(running, 'certificate:names');
    assert.equal(names.state, 'pass', names.says);
    assert.match(names.says, /app\.home\.arpa/);
    assert.equal(checkOf(running, 'certificate:dates').state, 'pass');
    const untrusted = checkOf(running, 'certificate:trust');
    assert.equal(untrusted.state, 'warn');
    assert.match(untrusted.says, /local CA, which is not installed in this machine's trust store/);
    assert.match(untrusted.fix ?? '', /Trust on this machine/);

    const overview = await call(gateway, 'getCertificates');
    await call(gateway, 'trustCa', { caFingerprintSha256: overview.ca.fingerprintSha256, consent: true });
    const trusted = checkOf(await call(gateway, 'runDoctor', { routeId: route.id }), 'certificate:trust');
    assert.equal(trusted.state, 'pass', trusted.says);
    assert.match(trusted.says, /which this machine trusts \(installed in: .*System certificates/);
  });

  test('a custom certificate that ends within 14 days warns; one that has expired fails and says what is served instead', async () => {
    assert.ok(gateway && upstream);
    const soon = await makeTestCertificate({ commonName: 'soon.home.arpa', names: ['soon.home.arpa'], notAfter: new Date(Date.now() + 5 * DAY_MS) });
    const imported = await call(gateway, 'importCertificate', { certificatePem: soon.pem, privateKeyPem: soon.keyPem, label: 'Soon' });
    const soonRoute = await call(gateway, 'addRoute', { names: ['soon.home.arpa'], upstream: upstream.url, tls: { ...local, mode: 'custom', certificateId: imported.id } });
    const soonReport = await call(gateway, 'runDoctor', { routeId: soonRoute.id });
    const dates = checkOf(soonReport, 'certificate:dates');
    assert.equal(dates.state, 'warn', dates.says);
    assert.match(dates.says, /expires on .* in (4|5) days/);
    assert.match(dates.fix ?? '', /Import the renewed certificate/);
    assert.equal(checkOf(soonReport, 'certificate:names').state, 'pass');
    assert.equal(checkOf(soonReport, 'certificate:trust').state, 'warn', 'a self-signed certificate is not trusted here');
    assert.match(checkOf(soonReport, 'certificate:trust').says, /self-signed/);

    // Import refuses an expired certificate: take one that ends in a few seconds, and wait for it.
    const endsAt = Date.now() + 4000;
    const brief = await makeTestCertificate({ commonName: 'old.home.arpa', names: ['old.home.arpa'], notAfter: new Date(endsAt) });
    const briefId = (await call(gateway, 'importCertificate', { certificatePem: brief.pem, privateKeyPem: brief.keyPem, label: 'Old' })).id;
    const oldRoute = await call(gateway, 'addRoute', { names: ['old.home.arpa'], upstream: upstream.url, tls: { ...local, mode: 'custom', certificateId: briefId } });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, endsAt - Date.now()) + 1200));
    const expired = await call(gateway, 'runDoctor', { routeId: oldRoute.id });
    const served = checkOf(expired, 'certificate:names');
    assert.equal(served.state, 'fail');
    assert.match(served.says, /no usable certificate for old\.home\.arpa: .*expired/i);
    assert.match(served.says, /fallback certificate/);
    const oldDates = checkOf(expired, 'certificate:dates');
    assert.equal(oldDates.state, 'fail');
    assert.match(oldDates.says, /The route's certificate \(not served\) expired on/);
    assert.equal(expired.verdict, 'broken');
  });
});
