// Importing a certificate: every way an import goes wrong gets its own message on its own field,
// and a good certificate with an intermediate is stored, served for the routes that choose it,
// refused for names it does not cover, and back after a restart. Inputs made with forge and
// node:crypto, checked against openssl.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test, type TestContext } from 'node:test';
import { ApiError } from '../../shared/api.js';
import { CertificateService } from '../../src-main/core/certs/certificate-service.js';
import { RENEWAL_WARNING_DAYS } from '../../shared/status.js';
import { tempDataDir } from '../fixtures/settings/helpers.js';
import { openssl } from '../helpers/openssl.js';
import { makeTestCertificate, tlsRoute, type TestCertificate } from '../helpers/test-certificates.js';
import { needTools } from '../helpers/tools.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const NAMES = ['app.home.example', '*.svc.home.example'];

async function openService(t: TestContext, dataDir?: string) {
  const dir = dataDir ?? (await tempDataDir(t));
  const clock = { now: new Date() };
  let changes = 0;
  const service = await CertificateService.open({ dataDir: dir, onChange: () => changes++, now: () => clock.now, spareKeys: 0 });
  t.after(() => service.close());
  return { service, dir, clock, changes: () => changes };
}

/** The issues of the ApiError that `work` throws, as [path, message] pairs. */
async function issuesOf(work: () => Promise<unknown>): Promise<[string, string][]> {
  try {
    await work();
  } catch (error) {
    assert.ok(error instanceof ApiError, String(error));
    assert.equal(error.code, 'invalid_input');
    return (error.details.issues ?? []).map((issue) => [issue.path, issue.message]);
  }
  assert.fail('the import was accepted');
}

describe('custom certificate import', () => {
  let root: TestCertificate;
  let intermediate: TestCertificate;
  let leaf: TestCertificate;

  before(async () => {
    root = await makeTestCertificate({ commonName: 'Test Root CA', ca: true });
    intermediate = await makeTestCertificate({ commonName: 'Test Intermediate CA', ca: true, issuer: root });
    leaf = await makeTestCertificate({ commonName: 'app.home.example', names: NAMES, issuer: intermediate });
  });

  test('text that is not PEM, or a key and a certificate swapped, is named on its field', async (t) => {
    const { service } = await openService(t);
    assert.deepEqual(await issuesOf(() => service.importCertificate({ certificatePem: 'hello', privateKeyPem: 'there' })), [
      ['certificatePem', 'this is not PEM: paste the certificate as text starting with -----BEGIN CERTIFICATE----- (a binary .der or .cer file converts with: openssl x509 -inform der -in cert.der -out cert.pem)'],
      ['privateKeyPem', 'this is not PEM: paste the private key as text starting with -----BEGIN PRIVATE KEY----- (or BEGIN RSA PRIVATE KEY, BEGIN EC PRIVATE KEY)'],
    ]);
    const swapped = await issuesOf(() => service.importCertificate({ certificatePem: leaf.keyPem, privateKeyPem: leaf.pem }));
    assert.deepEqual(swapped.map(([path]) => path), ['certificatePem', 'privateKeyPem']);
    assert.match(swapped[0]![1], /^this is a private key, not a certificate: paste it in the private key field/);
    assert.match(swapped[1]![1], /^this is a certificate, not a private key: paste it in the certificate field/);
    const withKey = await issuesOf(() => service.importCertificate({ certificatePem: leaf.pem + leaf.keyPem, privateKeyPem: leaf.keyPem }));
    assert.match(withKey[0]![1], /besides certificates this holds a private key/);
    const chainNotPem = await issuesOf(() => service.importCertificate({ certificatePem: leaf.pem, privateKeyPem: leaf.keyPem, chainPem: 'intermediate' }));
    assert.deepEqual(chainNotPem.map(([path]) => path), ['chainPem']);
    assert.match(chainNotPem[0]![1], /^this is not PEM: paste the chain/);
  });

  test('an encrypted key says how to decrypt it with openssl pkey', async (t) => {
    const { service } = await openService(t);
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const issues = await issuesOf(() => service.importCertificate({ certificatePem: leaf.pem, privateKeyPem: privateKey, chainPem: intermediate.pem }));
    assert.equal(issues.length, 1);
    assert.equal(issues[0]![0], 'privateKeyPem');
    assert.match(issues[0]![1], /encrypted with a passphrase.*openssl pkey -in key\.pem -out key-decrypted\.pem/);
  });

  test('a key of another certificate does not match', async (t) => {
    const { service } = await openService(t);
    const issues = await issuesOf(() => service.importCertificate({ certificatePem: leaf.pem, privateKeyPem: intermediate.keyPem, chainPem: intermediate.pem + root.pem }));
    assert.deepEqual(issues, [['privateKeyPem', 'this key does not belong to the certificate for "app.home.example": paste the key that was made together with this certificate']]);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    assert.equal((await issuesOf(() => service.importCertificate({ certificatePem: leaf.pem, privateKeyPem: ec.privateKey, chainPem: intermediate.pem })))[0]![0], 'privateKeyPem');
  });

  test('a chain that does not build names the missing issuer, or the signature that fails', async (t) => {
    const { service } = await openService(t);
    const missing = await issuesOf(() => service.importCertificate({ certificatePem: leaf.pem, privateKeyPem: leaf.keyPem }));
    assert.deepEqual(missing, [
      ['certificatePem', 'the issuer of the certificate ("CN=app.home.example") is missing: paste "CN=Test Intermediate CA" in the chain field (the intermediate certificates, and for a private CA its root as well)'],
    ]);
    const rootOnly = await issuesOf(() => service.importCertificate({ certificatePem: leaf.pem, privateKeyPem: leaf.keyPem, chainPem: root.pem }));
    assert.equal(rootOnly[0]![0], 'chainPem');
    assert.match(rootOnly[0]![1], /the certificate \("CN=app\.home\.example"\) was issued by "CN=Test Intermediate CA", but the next certificate is "CN=Test Root CA"/);
    // Same name, another key: the names chain up, the signature does not.
    const impostor = await makeTestCertificate({ commonName: 'Test Intermediate CA', ca: true, issuer: root });
    const forged = await issuesOf(() => service.importCertificate({ certificatePem: leaf.pem, privateKeyPem: leaf.keyPem, chainPem: impostor.pem }));
    assert.equal(forged[0]![0], 'chainPem');
    assert.match(forged[0]![1], /^the signature on the certificate \("CN=app\.home\.example"\) does not verify with the key of "CN=Test Intermediate CA"/);
    const halfway = await issuesOf(() => service.importCertificate({ certificatePem: leaf.pem + intermediate.pem, privateKeyPem: leaf.keyPem }));
    assert.match(halfway[0]![1], /the issuer of chain certificate 1 \("CN=Test Intermediate CA"\) is missing: paste "CN=Test Root CA"/);
  });

  test('dates: not yet valid, expired', async (t) => {
    const { service } = await openService(t);
    const future = await makeTestCertificate({ commonName: 'f', names: NAMES, notBefore: new Date(Date.UTC(2099, 0, 1)), notAfter: new Date(Date.UTC(2100, 0, 1)) });
    assert.deepEqual(await issuesOf(() => service.importCertificate({ certificatePem: future.pem, privateKeyPem: future.keyPem })), [
      ['certificatePem', 'the certificate is not valid until 2099-01-01 00:00 UTC: check this machine\'s clock, or import it once that time has come'],
    ]);
    const expired = await makeTestCertificate({ commonName: 'e', names: NAMES, notBefore: new Date(Date.UTC(2020, 0, 1)), notAfter: new Date(Date.UTC(2021, 0, 1)) });
    assert.deepEqual(await issuesOf(() => service.importCertificate({ certificatePem: expired.pem, privateKeyPem: expired.keyPem })), [
      ['certificatePem', 'the certificate expired on 2021-01-01 00:00 UTC: import the renewed one'],
    ]);
  });

  test('no DNS names, or a CA certificate instead of a server certificate', async (t) => {
    const { service } = await openService(t);
    const noSan = await makeTestCertificate({ commonName: 'app.home.example', issuer: intermediate });
    const issues = await issuesOf(() => service.importCertificate({ certificatePem: noSan.pem, privateKeyPem: noSan.keyPem, chainPem: intermediate.pem + root.pem }));
    assert.equal(issues.length, 1);
    assert.match(issues[0]![1], /^the certificate \("CN=app\.home\.example"\) has no DNS names in its subjectAltName: browsers ignore the common name/);
    assert.deepEqual(await issuesOf(() => service.importCertificate({ certificatePem: intermediate.pem, privateKeyPem: intermediate.keyPem, chainPem: root.pem })), [
      ['certificatePem', 'the first certificate ("CN=Test Intermediate CA") is a CA certificate, not a server certificate: paste the server\'s own certificate first, then its chain'],
    ]);
  });

  test('a self-signed certificate as openssl req -x509 makes it by default (a CA) gets the command that fixes it', { skip: needTools('openssl') }, async (t) => {
    const { service, dir } = await openService(t);
    const [key, cert] = [join(dir, 'req-key.pem'), join(dir, 'req-cert.pem')];
    const made = await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', '/CN=files.home.example', '-addext', 'subjectAltName=DNS:files.home.example');
    assert.equal(made.code, 0, made.output);
    const issues = await issuesOf(async () => service.importCertificate({ certificatePem: await readFile(cert, 'utf8'), privateKeyPem: await readFile(key, 'utf8') }));
    assert.equal(issues.length, 1);
    assert.equal(issues[0]![0], 'certificatePem');
    assert.match(issues[0]![1], /"files\.home\.example" is marked as a CA .* make it again with -addext basicConstraints=critical,CA:FALSE/);
  });

  test('a certificate whose key usages do not allow serving HTTPS gets one message per reason, each with its fix', { skip: needTools('openssl') }, async (t) => {
    const { service, dir, clock } = await openService(t);
    clock.now = new Date(Date.now() + 60_000); // openssl's notBefore is "now", to the second
    /** A self-signed server certificate (CA:FALSE) for `name` from openssl req -x509, with more -addext. */
    const made = async (name: string, newkey: string[], extensions: string[]) => {
      const [key, cert] = [join(dir, `${name}-key.pem`), join(dir, `${name}.pem`)];
      const args = ['req', '-x509', ...newkey, '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', `/CN=${name}`];
      for (const extension of [`subjectAltName=DNS:${name}`, 'basicConstraints=critical,CA:FALSE', ...extensions]) args.push('-addext', extension);
      const result = await openssl(...args);
      assert.equal(result.code, 0, result.output);
      return { certificatePem: await readFile(cert, 'utf8'), privateKeyPem: await readFile(key, 'utf8') };
    };
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    const rsa = ['-newkey', 'rsa:2048'];

    const clientOnly = await made('mail.home.example', ec, ['keyUsage=critical,keyEncipherment', 'extendedKeyUsage=clientAuth,emailProtection']);
    assert.deepEqual(await issuesOf(() => service.importCertificate(clientOnly)), [
      [
        'certificatePem',
        'the certificate for "mail.home.example" may be used only for clientAuth, emailProtection (its extendedKeyUsage), not for serving HTTPS (serverAuth), so browsers refuse it: get it issued again with serverAuth in its extendedKeyUsage (openssl: -addext extendedKeyUsage=serverAuth)',
      ],
      [
        'certificatePem',
        'the certificate for "mail.home.example" has a keyUsage of keyEncipherment, without digitalSignature, which serving HTTPS needs, so browsers refuse it: get it issued again with keyUsage digitalSignature (openssl: -addext keyUsage=critical,digitalSignature)',
      ],
    ]);

    const rsaSigningOnly = await made('sign.home.example', rsa, ['keyUsage=critical,nonRepudiation', 'extendedKeyUsage=serverAuth']);
    assert.deepEqual(await issuesOf(() => service.importCertificate(rsaSigningOnly)), [
      [
        'certificatePem',
        'the certificate for "sign.home.example" has a keyUsage of nonRepudiation, without digitalSignature (or keyEncipherment, for an RSA key), which serving HTTPS needs, so browsers refuse it: get it issued again with keyUsage digitalSignature, keyEncipherment (openssl: -addext keyUsage=critical,digitalSignature,keyEncipherment)',
      ],
    ]);

    // What serving needs, and no more: each is taken.
    for (const [name, newkey, extensions] of [
      ['rsa-kex.home.example', rsa, ['keyUsage=critical,keyEncipherment', 'extendedKeyUsage=serverAuth']],
      ['ec-both.home.example', ec, ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth,clientAuth']],
      ['ec-plain.home.example', ec, []],
    ] as const) {
      const imported = await service.importCertificate(await made(name, [...newkey], [...extensions]));
      assert.deepEqual(imported.names, [name]);
    }
  });

  test('a good certificate with an intermediate is served for the routes that choose it, and back after a restart', { skip: needTools('openssl') }, async (t) => {
    const { service, dir } = await openService(t);
    const imported = await service.importCertificate({ label: 'Home wildcard', certificatePem: leaf.pem, privateKeyPem: leaf.keyPem, chainPem: intermediate.pem + root.pem });
    assert.match(imported.id, /^[a-z0-9]{10}$/);
    assert.deepEqual({ ...imported, id: '', fingerprintSha256: '' }, {
      id: '', label: 'Home wildcard', names: NAMES, issuer: 'CN=Test Intermediate CA', notBefore: imported.notBefore, notAfter: imported.notAfter,
      fingerprintSha256: '', chainLength: 1, usedBy: [], state: 'valid', problem: null,
    });
    const stored = join(dir, 'certs', 'custom', imported.id);
    assert.deepEqual((await readdir(stored)).sort(), ['cert.pem', 'key.pem', 'meta.json']);
    if (process.platform !== 'win32') assert.equal((await stat(join(stored, 'key.pem'))).mode & 0o777, 0o600);

    const route = tlsRoute('customrt01', ['app.home.example', 'grafana.svc.home.example'], { mode: 'custom', certificateId: imported.id });
    service.checkRoute(route);
    const check = (names: string[], certificateId = imported.id) => () => service.checkRoute(tlsRoute('x', names, { mode: 'custom', certificateId }));
    assert.throws(check(['a.b.svc.home.example']), (error: ApiError) => {
      assert.deepEqual(error.details.issues, [{ path: 'tls.certificateId', message: 'the certificate "Home wildcard" does not cover "a.b.svc.home.example" (it is for app.home.example, *.svc.home.example): choose or import one that does' }]);
      return true;
    });
    assert.throws(check(['svc.home.example']), /does not cover "svc\.home\.example"/);
    assert.throws(check(['app.home.example'], 'nosuchcert'), /tls\.certificateId: there is no imported certificate "nosuchcert"/);

    await service.setRoutes([route]);
    const served = service.certificateFor('customrt01');
    assert.ok(served);
    assert.deepEqual(service.routeCertificates()[0]!.state, 'valid');
    const chainPath = join(dir, 'served.pem');
    const rootPath = join(dir, 'root.pem');
    await writeFile(chainPath, served.certificatePem);
    await writeFile(rootPath, root.pem);
    const verified = await openssl('verify', '-CAfile', rootPath, '-untrusted', chainPath, chainPath);
    assert.equal(verified.code, 0, verified.output);
    assert.equal(served.certificatePem.split('BEGIN CERTIFICATE').length - 1, 2, 'leaf and intermediate: the root is checked, not sent');
    assert.doesNotMatch(JSON.stringify([imported, service.customCertificates([route]), service.routeCertificates()]), /PRIVATE KEY/);
    assert.deepEqual(service.customCertificates([route])[0]!.usedBy, ['customrt01']);

    await assert.rejects(service.removeCertificate(imported.id, [route]), (error: ApiError) => error.code === 'conflict' && /used by "app\.home\.example"/.test(error.message));
    await assert.rejects(service.removeCertificate('nosuchcert', [route]), { code: 'not_found' });

    service.close();
    const again = (await openService(t, dir)).service;
    await again.setRoutes([route]);
    assert.deepEqual(again.customCertificates([route]), service.customCertificates([route]));
    assert.equal(again.certificateFor('customrt01')!.certificatePem, served.certificatePem);
    const removed = await again.removeCertificate(imported.id, []);
    assert.equal(removed.id, imported.id);
    assert.deepEqual(await readdir(join(dir, 'certs', 'custom')), []);
    assert.equal(again.certificateFor('customrt01'), null, 'a route left with a removed certificate serves none');
    assert.equal(again.routeCertificates()[0]!.state, 'error');
  });

  test('an imported certificate turns expiring, then expired, as the clock passes; onChange each time', async (t) => {
    const { service, clock, changes } = await openService(t);
    const shortLived = await makeTestCertificate({ commonName: 's', names: ['s.home.example'], notAfter: new Date(Date.now() + 30 * DAY_MS) });
    const imported = await service.importCertificate({ certificatePem: shortLived.pem, privateKeyPem: shortLived.keyPem });
    assert.equal(imported.label, 's.home.example', 'labelled by its first name');
    const route = tlsRoute('shortlived', ['s.home.example'], { mode: 'custom', certificateId: imported.id });
    await service.setRoutes([route]);
    const start = changes();

    clock.now = new Date(Date.now() + 10 * DAY_MS);
    await service.setRoutes([route]);
    assert.equal(changes(), start + 1);
    assert.equal(service.routeCertificates()[0]!.state, 'expiring');
    assert.equal(service.customCertificates([route])[0]!.problem?.code, 'certificate_expiring');
    assert.ok(service.certificateFor('shortlived'), 'still served while expiring');

    clock.now = new Date(Date.now() + 31 * DAY_MS);
    await service.setRoutes([route]);
    assert.equal(changes(), start + 2);
    assert.equal(service.routeCertificates()[0]!.state, 'expired');
    assert.equal(service.certificateFor('shortlived'), null);
    assert.throws(() => service.checkRoute(route), /expired on/);
  });

  test('the timer notices a threshold crossing on its own, without a save', async (t) => {
    const dir = await tempDataDir(t);
    let changed: () => void = () => undefined;
    const service = await CertificateService.open({ dataDir: dir, onChange: () => changed(), spareKeys: 0 });
    t.after(() => service.close());
    // The threshold comes 6 s after the certificate is made: time enough on a busy machine to import it first.
    const soon = await makeTestCertificate({ commonName: 'soon', names: ['soon.home.example'], notAfter: new Date(Date.now() + RENEWAL_WARNING_DAYS * DAY_MS + 6000) });
    const imported = await service.importCertificate({ certificatePem: soon.pem, privateKeyPem: soon.keyPem });
    const route = tlsRoute('soonroute1', ['soon.home.example'], { mode: 'custom', certificateId: imported.id });
    await service.setRoutes([route]);
    assert.equal(service.routeCertificates()[0]!.state, 'valid');
    // The service's timers are unref'd; this one keeps the test alive, and bounds the wait.
    await new Promise<void>((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error('no onChange within 15 s')), 15_000);
      changed = () => (clearTimeout(guard), resolve());
    });
    assert.equal(service.routeCertificates()[0]!.state, 'expiring');
  });
});
