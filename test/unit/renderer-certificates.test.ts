// The certificate side of the renderer against the fake Gatehouse: the QR code drawing, commands as
// one line, certificate states in words, the live overview, the CA domain change (checked, then
// confirmed), trust on this machine (only after consent), importing with the server's field issues,
// and the route form's HTTPS choices.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, createApiClient } from '../../shared/api.js';
import type { RouteCertificate } from '../../shared/status.js';
import { commandLine, certificateStateText, customCertificateLabel, dayLabel, routeCertificateStateText, routeHttpsText } from '../../src-renderer/certificates/format.js';
import { darkModules, qrPath, qrViewSize, QUIET_ZONE } from '../../src-renderer/certificates/qr.js';
import { fakeQr } from '../../src-renderer/dev/fake-certificates.js';
import { FakeGatehouse, sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';
import { caDownloadBytes } from '../../src-renderer/certificates/ca-download.js';
import { upstreamRow } from '../../src-renderer/route-form/upstream-values.js';

/** The form's server rows for one address. */
const serverRows = (address: string) => [upstreamRow({ url: address })];

const { CertificatesFeed } = await import('../../src-renderer/certificates/certificates-feed.svelte.js');
const { CaDomainsEditor } = await import('../../src-renderer/pages/certificates/ca-domains.svelte.js');
const { TrustOnThisMachine } = await import('../../src-renderer/pages/certificates/trust.svelte.js');
const { CertificateImport } = await import('../../src-renderer/pages/certificates/certificate-import.svelte.js');
const { RouteForm, emptyRouteValues, routeFieldOf, routeInputFrom, routeTlsOf } = await import('../../src-renderer/route-form/route-form.svelte.js');

const NOW = new Date('2026-11-21T12:00:00.000Z');
const CERT_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY_PEM = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

function setup(routes = [sampleRoute({ id: 'r1', title: 'Jellyfin', names: ['jellyfin.home.arpa'], upstream: 'http://10.0.0.4:8096', tls: { mode: 'local', certificateId: null, acme: null, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const } })]) {
  const fake = new FakeGatehouse({ routes, now: () => NOW });
  return { fake, api: createApiClient(fake) };
}

function routeCert(fields: Partial<RouteCertificate>): RouteCertificate {
  return { routeId: 'r1', mode: 'local', state: 'valid', names: [], issuer: null, notBefore: null, notAfter: null, fingerprintSha256: null, renewsAt: null, problem: null, acme: null, ...fields };
}

describe('QR code', () => {
  it('draws one 1×1 square per dark module, inside a 4-module quiet zone', () => {
    const qr = { size: 3, modules: '101010011' };
    assert.deepEqual(darkModules(qr), [
      { x: 0, y: 0 },
      { x: 2, y: 0 },
      { x: 1, y: 1 },
      { x: 1, y: 2 },
      { x: 2, y: 2 },
    ]);
    assert.equal(qrPath(qr).match(/M/g)?.length, 5);
    assert.ok(qrPath(qr).startsWith(`M${QUIET_ZONE} ${QUIET_ZONE}h1v1h-1z`), 'the first module sits after the quiet zone');
    assert.equal(qrViewSize(qr), 3 + 2 * QUIET_ZONE);
  });

  it('counts every dark module of a full code and nothing past size²', () => {
    const qr = fakeQr();
    const dark = [...qr.modules].filter((module) => module === '1').length;
    assert.equal(qrPath(qr).split('M').length - 1, dark);
    assert.equal(darkModules({ size: 2, modules: '1111111' }).length, 4, 'extra characters are ignored');
  });
});

describe('certificate words', () => {
  it('writes a command as one line, quoting arguments a shell would split or interpret', () => {
    assert.equal(commandLine(['certutil', '-d', 'sql:/home/me/.pki/nssdb', '-A', '-t', 'C,,', '-n', 'Gatehouse Local CA']), "certutil -d sql:/home/me/.pki/nssdb -A -t C,, -n 'Gatehouse Local CA'");
    assert.equal(commandLine(['sh', '-c', "echo it's && true"]), `sh -c 'echo it'\\''s && true'`);
    assert.equal(commandLine(['printf', '']), "printf ''");
  });

  it('says each state in words, with the days left', () => {
    const inFiveDays = new Date(NOW.getTime() + 4.2 * 86_400_000).toISOString();
    assert.equal(certificateStateText(routeCert({ state: 'valid' }), NOW), 'Valid');
    assert.equal(certificateStateText(routeCert({ state: 'expiring', notAfter: inFiveDays }), NOW), 'Expiring in 5 days');
    assert.equal(certificateStateText(routeCert({ state: 'expired' }), NOW), 'Expired');
    const failed = { at: NOW.toISOString(), ok: false, problem: null };
    const acme = (lastAttempt: typeof failed | null) => ({ lastAttempt }) as unknown as NonNullable<RouteCertificate['acme']>;
    const inNinetyDays = new Date(NOW.getTime() + 90 * 86_400_000).toISOString();
    assert.equal(routeCertificateStateText({ ...routeCert({ state: 'expiring', notAfter: inNinetyDays }), acme: acme(failed) }, NOW), 'Valid for 90 days more; the last renewal failed');
    assert.equal(routeCertificateStateText({ ...routeCert({ state: 'expiring', notAfter: inFiveDays }), acme: acme(failed) }, NOW), 'Expiring in 5 days; the last renewal failed');
    assert.equal(routeCertificateStateText({ ...routeCert({ state: 'expiring', notAfter: inFiveDays }), acme: acme(null) }, NOW), 'Expiring in 5 days');
    assert.equal(certificateStateText(routeCert({ state: 'pending' }), NOW), 'Being issued');
    assert.equal(certificateStateText(routeCert({ state: 'error', problem: { code: 'x', message: 'the CA refused the name' } }), NOW), 'Error: the CA refused the name');
  });

  it('gives the dashboard one line per route', () => {
    const notAfter = new Date(2027, 11, 20, 12).toISOString();
    assert.equal(dayLabel(notAfter), '20 Dec 2027');
    assert.equal(routeHttpsText(routeCert({ state: 'valid', notAfter }), 'local', NOW), 'HTTPS, valid until 20 Dec 2027');
    assert.equal(routeHttpsText(undefined, 'none', NOW), 'HTTP only');
    assert.equal(routeHttpsText(routeCert({ state: 'expiring', notAfter: new Date(NOW.getTime() + 5 * 86_400_000).toISOString() }), 'custom', NOW), 'Certificate expires in 5 days');
    assert.equal(routeHttpsText(routeCert({ state: 'error' }), 'local', NOW), 'Certificate error');
    assert.equal(customCertificateLabel({ label: 'Work', names: ['*.home.example'] }), 'Work (*.home.example)');
  });

  it('turns a download’s base64 into its bytes', () => {
    const bytes = caDownloadBytes({ fileName: 'ca.crt', mimeType: 'application/x-x509-ca-cert', base64: Buffer.from([0x30, 0x82, 0xff, 0x00]).toString('base64') });
    assert.deepEqual([...bytes], [0x30, 0x82, 0xff, 0x00]);
  });
});

describe('CertificatesFeed', () => {
  it('reads the overview, follows the certificates event, and stops listening', async () => {
    const { fake, api } = setup();
    const feed = new CertificatesFeed(api);
    const stop = feed.connect();
    await feed.reload();
    assert.equal(feed.overview?.ca.permittedDomains.join(','), 'home.arpa,local');
    assert.equal(feed.byRoute.get('r1')?.state, 'valid');
    fake.certificates.failing.set('r1', 'issuing failed');
    fake.certificates.changed();
    assert.equal(feed.byRoute.get('r1')?.state, 'error', 'the event replaced the overview');
    stop();
    assert.equal(fake.listenerCount, 0);
  });

  it('keeps an event that arrived while a read was on its way', async () => {
    const { fake, api } = setup();
    const feed = new CertificatesFeed(api);
    const stop = feed.connect();
    const reading = feed.reload();
    fake.certificates.failing.set('r1', 'newer');
    fake.certificates.changed();
    await reading;
    assert.equal(feed.byRoute.get('r1')?.state, 'error');
    stop();
  });
});

describe('CaDomainsEditor', () => {
  it('checks the domains with the contract, calls nothing, and names the line', async () => {
    const { fake, api } = setup();
    const editor = new CaDomainsEditor(api);
    editor.open(['home.arpa']);
    editor.text = 'home.arpa\n*.home.example';
    assert.equal(editor.review(), false);
    assert.equal(editor.confirming, false);
    assert.equal(editor.fieldError, 'line 2 (*.home.example): a CA domain covers every name below it already; leave out the "*."');
    editor.text = '';
    editor.review();
    assert.equal(editor.fieldError, 'the CA needs at least one domain, such as home.arpa');
    assert.equal(fake.callsOf('setCaDomains').length, 0);
  });

  it('asks first, then replaces the CA with replaceCa: true', async () => {
    const { fake, api } = setup();
    const before = fake.certificates.ca.fingerprintSha256;
    const editor = new CaDomainsEditor(api);
    editor.open(['home.arpa', 'local']);
    editor.text = 'home.arpa\nHome.Example\n';
    assert.equal(editor.review(), true);
    assert.equal(editor.confirming, true, 'the dialog is shown');
    assert.equal(fake.callsOf('setCaDomains').length, 0, 'nothing changes before the person agrees');
    const overview = await editor.confirm();
    assert.deepEqual(fake.callsOf('setCaDomains'), [{ domains: ['home.arpa', 'home.example'], replaceCa: true }]);
    assert.notEqual(overview?.ca.fingerprintSha256, before);
    assert.equal(editor.editing, false);
  });

  it('puts the server’s domains.N issue on the field', async () => {
    const { fake, api } = setup();
    fake.failNext('setCaDomains', new ApiError('invalid_input', 'domains.0: not allowed', { issues: [{ path: 'domains.0', message: 'a public suffix cannot be a CA domain' }] }));
    const editor = new CaDomainsEditor(api);
    editor.open([]);
    editor.text = 'com';
    editor.review();
    assert.equal(await editor.confirm(), null);
    assert.equal(editor.fieldError, 'line 1 (com): a public suffix cannot be a CA domain');
    assert.equal(editor.error, null);
  });
});

describe('TrustOnThisMachine', () => {
  it('shows the plan, runs nothing until asked, then sends consent and shows each step', async () => {
    const { fake, api } = setup();
    const trust = new TrustOnThisMachine(api);
    const caFingerprintSha256 = (await api.getCertificates()).ca.fingerprintSha256;
    await trust.load(caFingerprintSha256);
    assert.equal(trust.plan?.install.length, 2);
    assert.equal(trust.trusted, false);
    await trust.run();
    assert.equal(fake.callsOf('trustCa').length, 0, 'run without the dialog does nothing');
    trust.ask('install');
    assert.equal(trust.steps('install')[1]?.command[0], 'certutil');
    await trust.run();
    assert.deepEqual(fake.callsOf('trustCa'), [{ consent: true, caFingerprintSha256 }], 'consent names the CA whose commands were shown');
    assert.equal(trust.result?.steps.every((step) => step.ok), true);
    assert.equal(trust.trusted, true);
    assert.equal(trust.asking, null);
    trust.ask('uninstall');
    await trust.run();
    assert.deepEqual(fake.callsOf('untrustCa'), [{ consent: true, caFingerprintSha256 }]);
    assert.equal(trust.trusted, false);
  });
});

describe('CertificateImport', () => {
  it('asks for the certificate and key without calling the server', async () => {
    const { fake, api } = setup();
    const form = new CertificateImport(api);
    assert.equal(await form.submit(), null);
    assert.match(form.errors.certificatePem ?? '', /paste the certificate/);
    assert.match(form.errors.privateKeyPem ?? '', /paste the private key/);
    assert.equal(fake.callsOf('importCertificate').length, 0);
  });

  it('puts the server’s issue on the key field, then imports', async () => {
    const { fake, api } = setup();
    const form = new CertificateImport(api);
    form.values = { label: ' Work ', certificatePem: CERT_PEM, privateKeyPem: KEY_PEM.replace('MIIE', 'WRONG'), chainPem: '  ' };
    assert.equal(await form.submit(), null);
    assert.equal(form.errors.privateKeyPem, 'the private key does not match the certificate');
    assert.equal(form.errors.certificatePem, undefined);
    assert.equal(form.error, null, 'the field says it all');
    form.edited('privateKeyPem');
    form.values.privateKeyPem = KEY_PEM;
    const cert = await form.submit();
    assert.equal(cert?.label, 'Work');
    assert.deepEqual(fake.callsOf('importCertificate').at(-1), { label: 'Work', certificatePem: CERT_PEM, privateKeyPem: KEY_PEM });
    assert.equal(form.values.certificatePem, '', 'the form is emptied after an import');
  });
});

describe('route form HTTPS', () => {
  it('defaults to the local CA and sends redirect, HSTS and the certificate only where they apply', () => {
    assert.equal(emptyRouteValues().tls.mode, 'local');
    const chosen = { mode: 'none' as const, certificateId: 'c1', acme: null, redirectHttp: true, hsts: true, proxyProtocol: 'off' as const };
    assert.deepEqual(routeTlsOf(chosen), { mode: 'none', certificateId: null, acme: null, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const });
    assert.deepEqual(routeTlsOf({ ...chosen, mode: 'local' }), { mode: 'local', certificateId: null, acme: null, redirectHttp: true, hsts: true, proxyProtocol: 'off' as const });
    assert.deepEqual(routeTlsOf({ ...chosen, mode: 'custom' }), { mode: 'custom', certificateId: 'c1', acme: null, redirectHttp: true, hsts: true, proxyProtocol: 'off' as const });
    assert.equal(routeFieldOf('tls.certificateId'), 'tlsCertificate');
    assert.equal(routeFieldOf('tls.hsts'), 'tls');
    assert.equal(routeFieldOf('names.2'), 'names');
  });

  it('keeps what was chosen while another mode is picked', () => {
    const values = { ...emptyRouteValues(), names: 'a.home.arpa', upstreams: serverRows('10.0.0.1:80') };
    values.tls = { mode: 'custom', certificateId: 'c1', acme: null, redirectHttp: true, hsts: false, proxyProtocol: 'off' as const };
    values.tls.mode = 'none';
    assert.equal(routeInputFrom(values).tls?.certificateId, null);
    values.tls.mode = 'custom';
    assert.equal(routeInputFrom(values).tls?.certificateId, 'c1');
  });

  it('asks for an imported certificate before calling anything', async () => {
    const form = new RouteForm({ ...emptyRouteValues(), names: 'a.home.example', upstreams: serverRows('10.0.0.1:80'), tls: { mode: 'custom', certificateId: null, acme: null, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const } });
    let calls = 0;
    assert.equal(await form.submit(async () => (calls++, Promise.reject(new Error('no')))), null);
    assert.equal(calls, 0);
    assert.equal(form.message('tlsCertificate'), 'choose an imported certificate, or import one first');
  });

  it('puts a name outside the CA’s domains on Host names and shows the server’s fix', async () => {
    const { api } = setup([]);
    const form = new RouteForm({ ...emptyRouteValues(), names: 'a.home.arpa\nnas.example.com', upstreams: serverRows('10.0.0.1:80') });
    assert.equal(await form.submit((input) => api.addRoute(input)), null);
    assert.match(form.message('names') ?? '', /"nas\.example\.com" is outside the local CA's domains/);
    assert.ok(form.error, 'the alert carries the fix');
    assert.equal(form.error?.details.fix, 'Change the names, or choose another HTTPS option.');
    assert.deepEqual(form.errorIssues, []);
  });

  it('saves a route with an imported certificate that covers its names', async () => {
    const { fake, api } = setup([]);
    const cert = await api.importCertificate({ certificatePem: CERT_PEM, privateKeyPem: KEY_PEM });
    const form = new RouteForm({ ...emptyRouteValues(), names: 'nas.home.example', upstreams: serverRows('10.0.0.1:80'), tls: { mode: 'custom', certificateId: cert.id, acme: null, redirectHttp: true, hsts: false, proxyProtocol: 'off' as const } });
    const route = await form.submit((input) => api.addRoute(input));
    assert.equal(route?.tls.certificateId, cert.id);
    const overview = await api.getCertificates();
    assert.deepEqual(overview.custom[0]?.usedBy, [route?.id]);
    assert.equal(overview.routes[0]?.mode, 'custom');
    await assert.rejects(api.removeCertificate({ id: cert.id }), /used by/);
    assert.equal(fake.routes.length, 1);
  });
});
