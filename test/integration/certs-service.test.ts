// The certificate service as the gateway uses it: leaves issued when routes are saved, checked by
// openssl against the CA, served per route, renewed by the clock, re-issued under a new CA, and all
// of it back after a restart. Real files, real openssl, no mocks.
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { ApiError } from '../../shared/api.js';
import { CertificateService } from '../../src-main/core/certs/certificate-service.js';
import type { ServedCertificate } from '../../src-main/core/proxy/tls-certificates.js';
import { LEAF_VALIDITY_DAYS } from '../../src-main/core/certs/leaf.js';
import { localCaFiles } from '../../src-main/core/certs/local-ca.js';
import { tempDataDir } from '../fixtures/settings/helpers.js';
import { openssl } from '../helpers/openssl.js';
import { tlsRoute } from '../helpers/test-certificates.js';
import { needTools } from '../helpers/tools.js';

const POSIX = process.platform !== 'win32';
const DAY_MS = 24 * 60 * 60 * 1000;

/** A service on a fresh data directory with a clock the test moves; closed after the test. */
async function openService(t: TestContext, dataDir?: string) {
  const dir = dataDir ?? (await tempDataDir(t));
  const clock = { now: new Date() };
  let changes = 0;
  const service = await CertificateService.open({ dataDir: dir, onChange: () => changes++, now: () => clock.now });
  t.after(() => service.close());
  return { service, dir, clock, changes: () => changes };
}

/** `openssl verify` of a PEM string against the CA file `caPath`. */
async function verify(dir: string, caPath: string, pem: string) {
  const path = join(dir, `verify-${Math.random().toString(36).slice(2)}.pem`);
  await writeFile(path, pem);
  return openssl('verify', '-CAfile', caPath, path);
}

test('open creates the CA with an owner-only key, and a neutral self-signed fallback', { skip: needTools('openssl') }, async (t) => {
  const { service, dir } = await openService(t);
  const { keyPath, certPath } = localCaFiles(dir);
  if (POSIX) assert.equal((await stat(keyPath)).mode & 0o777, 0o600);
  assert.equal(service.ca.info.certificatePem, await readFile(certPath, 'utf8'));
  assert.equal(service.ca.info.keyType, 'RSA 2048', 'for LocalCaSummary.keyType');

  const fallback = service.fallback();
  assert.equal(service.fallback(), fallback, 'the same object while nothing changes');
  const path = join(dir, 'fallback.pem');
  await writeFile(path, fallback.certificatePem);
  const text = (await openssl('x509', '-in', path, '-noout', '-subject', '-issuer', '-ext', 'subjectAltName')).output;
  assert.match(text, /subject=CN = Gatehouse\nissuer=CN = Gatehouse\n/);
  assert.match(text, /DNS:gatehouse\.invalid\n/);
  assert.notEqual((await verify(dir, certPath, fallback.certificatePem)).code, 0, 'not issued by the local CA');
  assert.deepEqual(await readdir(join(dir, 'certs')), ['ca-key.pem', 'ca.pem'], 'the fallback is not stored');
});

test('setRoutes issues a leaf per local route that openssl verifies, with every name', { skip: needTools('openssl') }, async (t) => {
  const { service, dir, changes } = await openService(t);
  const routes = [
    tlsRoute('plainroute', ['plain.home.arpa'], { mode: 'none' }),
    tlsRoute('mattermost', ['mattermost.home.arpa', '*.chat.home.arpa', 'mm.local']),
    tlsRoute('jellyfin01', ['jellyfin.home.arpa']),
  ];
  const saving = service.setRoutes(routes);
  assert.deepEqual(service.routeCertificates().map((cert) => cert.state), ['none', 'pending', 'pending'], 'pending while being issued');
  await saving;
  assert.ok(changes() >= 2, 'onChange for pending, then for issued');

  const certs = service.routeCertificates();
  assert.deepEqual(certs.map((cert) => [cert.routeId, cert.mode, cert.state]), [
    ['plainroute', 'none', 'none'],
    ['mattermost', 'local', 'valid'],
    ['jellyfin01', 'local', 'valid'],
  ]);
  const mattermost = certs[1]!;
  assert.deepEqual(mattermost.names, ['mattermost.home.arpa', '*.chat.home.arpa', 'mm.local']);
  assert.equal(mattermost.issuer, service.ca.info.subject);
  assert.equal(mattermost.problem, null);
  const lifetime = Date.parse(mattermost.notAfter!) - Date.parse(mattermost.notBefore!);
  assert.ok(Math.abs(lifetime / DAY_MS - LEAF_VALIDITY_DAYS) < 0.1, `${LEAF_VALIDITY_DAYS} days (plus the backdating hour)`);
  const renewsIn = Date.parse(mattermost.renewsAt!) - Date.parse(mattermost.notBefore!);
  assert.ok(Math.abs(renewsIn / lifetime - 2 / 3) < 0.001, 'renewed after two thirds of its life');

  assert.equal(service.certificateFor('plainroute'), null);
  assert.equal(service.certificateFor('unknownroute'), null);
  const served = service.certificateFor('mattermost');
  assert.ok(served);
  assert.equal(service.certificateFor('mattermost'), served, 'identity is kept while nothing changes');
  const routeDir = join(dir, 'certs', 'routes', 'mattermost');
  assert.equal(await readFile(join(routeDir, 'cert.pem'), 'utf8'), served.certificatePem);
  assert.equal(await readFile(join(routeDir, 'key.pem'), 'utf8'), served.privateKeyPem);
  if (POSIX) {
    assert.equal((await stat(routeDir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(routeDir, 'key.pem'))).mode & 0o777, 0o600);
    assert.equal((await stat(join(routeDir, 'cert.pem'))).mode & 0o777, 0o644);
  }
  const verified = await verify(dir, localCaFiles(dir).certPath, served.certificatePem);
  assert.equal(verified.code, 0, verified.output);
  const text = (await openssl('x509', '-in', join(routeDir, 'cert.pem'), '-noout', '-ext', 'subjectAltName')).output;
  assert.match(text, /DNS:mattermost\.home\.arpa, DNS:\*\.chat\.home\.arpa, DNS:mm\.local\n/);
  assert.doesNotMatch(JSON.stringify(service.routeCertificates()), /PRIVATE KEY/);

  // Same routes again: nothing to do. Names changed: a new leaf. A route removed: its files go.
  const before = changes();
  await service.setRoutes(routes);
  assert.equal(changes(), before, 'no change, no onChange');
  assert.equal(service.certificateFor('mattermost'), served);
  await service.setRoutes([tlsRoute('mattermost', ['mattermost.home.arpa'])]);
  const renamed = service.certificateFor('mattermost');
  assert.notEqual(renamed, served);
  assert.deepEqual(service.routeCertificates()[0]!.names, ['mattermost.home.arpa']);
  assert.equal(service.certificateFor('jellyfin01'), null);
  assert.deepEqual(await readdir(join(dir, 'certs', 'routes')), ['mattermost']);
});

test('checkRoute refuses a name outside the CA\'s domains, naming the field and the domains', async (t) => {
  const { service } = await openService(t);
  service.checkRoute(tlsRoute('okroute001', ['a.home.arpa', '*.lab.local']));
  service.checkRoute(tlsRoute('plainroute', ['bank.example'], { mode: 'none' }));
  assert.throws(
    () => service.checkRoute(tlsRoute('badroute01', ['a.home.arpa', 'bank.example', 'home.arpa.evil'])),
    (error: unknown) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.code, 'invalid_input');
      assert.deepEqual(error.details.issues?.map((issue) => issue.path), ['names.1', 'names.2']);
      assert.match(error.details.issues![0]!.message, /"bank\.example" is outside the local CA's domains \(home\.arpa, local\): add its domain on the Certificates page, or choose a custom certificate/);
      return true;
    },
  );
});

test('the clock renews a leaf after two thirds of its life: a new object and new files', { skip: needTools('openssl') }, async (t) => {
  const { service, dir, clock, changes } = await openService(t);
  const routes = [tlsRoute('grafana001', ['grafana.home.arpa'])];
  await service.setRoutes(routes);
  const first = service.certificateFor('grafana001')!;
  const firstFacts = service.routeCertificates()[0]!;

  clock.now = new Date(Date.parse(firstFacts.renewsAt!) - DAY_MS);
  await service.setRoutes(routes);
  assert.equal(service.certificateFor('grafana001'), first, 'a day before renewal: the same certificate');

  clock.now = new Date(Date.parse(firstFacts.renewsAt!) + 1000);
  const before = changes();
  await service.setRoutes(routes);
  const renewed = service.certificateFor('grafana001')!;
  assert.notEqual(renewed, first);
  assert.notEqual(renewed.certificatePem, first.certificatePem);
  assert.notEqual(renewed.privateKeyPem, first.privateKeyPem, 'a new key too');
  assert.ok(changes() > before);
  const now = service.routeCertificates()[0]!;
  assert.notEqual(now.fingerprintSha256, firstFacts.fingerprintSha256);
  assert.ok(Math.abs(Date.parse(now.notAfter!) - (clock.now.getTime() + LEAF_VALIDITY_DAYS * DAY_MS)) < 1000, 'valid from the new now');
  assert.equal(await readFile(join(dir, 'certs', 'routes', 'grafana001', 'cert.pem'), 'utf8'), renewed.certificatePem);

  const renewedByHand = await service.renew('grafana001', routes);
  assert.notEqual(renewedByHand.fingerprintSha256, now.fingerprintSha256);
  await assert.rejects(service.renew('nosuchroute', routes), { code: 'not_found' });
  await assert.rejects(service.renew('plainroute', [tlsRoute('plainroute', ['p.home.arpa'], { mode: 'none' })]), { code: 'conflict' });
});

test('a renewal that fails keeps serving the old leaf, says so on the route, rejects a manual renew, and is retried', { skip: needTools('openssl') }, async (t) => {
  const dir = await tempDataDir(t);
  const clock = { now: new Date() };
  let changed: () => void = () => undefined;
  const service = await CertificateService.open({ dataDir: dir, onChange: () => changed(), now: () => clock.now, retryAfterFailureMs: 200 });
  t.after(() => service.close());
  const routes = [tlsRoute('renewfail1', ['renew.home.arpa'])];
  await service.setRoutes(routes);
  const first = service.certificateFor('renewfail1')!;
  const firstFacts = service.routeCertificates()[0]!;

  // Saving fails for real: a file stands where the route's folder has to be.
  const routeDir = join(dir, 'certs', 'routes', 'renewfail1');
  await rm(routeDir, { recursive: true });
  await writeFile(routeDir, 'in the way');
  clock.now = new Date(Date.parse(firstFacts.renewsAt!) + 1000);
  await service.setRoutes(routes);
  assert.equal(service.certificateFor('renewfail1'), first, 'the old leaf is still served');
  const failed = service.routeCertificates()[0]!;
  assert.equal(failed.state, 'expiring', 'not renewed, though its dates alone would say valid');
  assert.equal(failed.fingerprintSha256, firstFacts.fingerprintSha256);
  assert.equal(failed.problem?.code, 'certificate_not_renewed');
  assert.match(failed.problem!.message, /^Gatehouse could not renew the certificate: .*renewfail1.*\. The current one is served until it expires on \d{4}-\d\d-\d\d \d\d:\d\d UTC\. Gatehouse tries again at /);
  assert.match(failed.problem!.fix ?? '', /data directory is writable/);

  await assert.rejects(service.renew('renewfail1', routes), (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.code, 'internal');
    assert.match(error.message, /^Gatehouse could not renew the certificate: /);
    assert.match(error.details.fix ?? '', /Renew it on the Certificates page once the cause is fixed/);
    return true;
  });

  // The cause goes away; the retry comes on its own, with no save and no renew by hand.
  await rm(routeDir);
  await new Promise<void>((resolve, reject) => {
    // The service's timer is unref'd: this one keeps the test alive, and bounds the wait.
    const guard = setTimeout(() => reject(new Error('no retry within 15 s')), 15_000);
    changed = () => {
      const now = service.routeCertificates()[0]!;
      if (now.problem !== null || now.fingerprintSha256 === firstFacts.fingerprintSha256) return;
      clearTimeout(guard);
      resolve();
    };
  });
  const retried = service.routeCertificates()[0]!;
  assert.equal(retried.state, 'valid');
  assert.equal(await readFile(join(routeDir, 'cert.pem'), 'utf8'), service.certificateFor('renewfail1')!.certificatePem);
});

test('a first issuance that fails shows an error with its cause, and renew rejects naming it', async (t) => {
  const { service, dir } = await openService(t);
  await mkdir(join(dir, 'certs', 'routes'), { recursive: true });
  await writeFile(join(dir, 'certs', 'routes', 'newroute01'), 'in the way');
  const routes = [tlsRoute('newroute01', ['new.home.arpa'])];
  await service.setRoutes(routes);
  const listed = service.routeCertificates()[0]!;
  assert.equal(listed.state, 'error');
  assert.equal(listed.problem?.code, 'certificate_not_issued');
  assert.match(listed.problem!.message, /^Gatehouse could not issue the certificate: .*newroute01.*Gatehouse tries again at /);
  assert.equal(service.certificateFor('newroute01'), null);
  await assert.rejects(service.renew('newroute01', routes), { name: 'ApiError', code: 'internal', message: /could not issue the certificate/ });

  // A name outside the CA's domains (a settings file edited by hand): a conflict that names it.
  await assert.rejects(service.renew('outside001', [tlsRoute('outside001', ['bank.example'])]), {
    name: 'ApiError',
    code: 'conflict',
    message: '"bank.example" is outside the local CA\'s domains (home.arpa, local).',
  });
});

test('setCaDomains keeps the old CA files and re-issues leaves that verify against the new CA only', { skip: needTools('openssl') }, async (t) => {
  const { service, dir, changes } = await openService(t);
  const routes = [tlsRoute('nasroute01', ['nas.home.arpa']), tlsRoute('lab0000001', ['*.lab.home.example'])];
  assert.throws(() => service.checkRoute(routes[1]!), /outside the local CA's domains/);
  await service.setRoutes([routes[0]!]);
  const oldCaPem = service.ca.info.certificatePem;
  const oldKeyPem = await readFile(localCaFiles(dir).keyPath, 'utf8');
  const oldLeaf = service.certificateFor('nasroute01')!;

  await assert.rejects(service.setCaDomains(['home.arpa', 'bad_name.example'], routes), (error: ApiError) => {
    assert.equal(error.code, 'invalid_input');
    assert.equal(error.details.issues?.[0]?.path, 'domains.1');
    return true;
  });
  assert.equal(service.ca.info.certificatePem, oldCaPem, 'a refused change leaves the CA as it was');
  assert.deepEqual((await readdir(join(dir, 'certs'))).filter((name) => name.startsWith('replaced-')), []);

  const before = changes();
  await service.setCaDomains(['home.arpa', 'Home.Example.'], routes);
  assert.ok(changes() > before);
  assert.deepEqual(service.ca.info.permittedDomains, ['home.arpa', 'home.example']);
  assert.notEqual(service.ca.info.certificatePem, oldCaPem);
  assert.notEqual(await readFile(localCaFiles(dir).keyPath, 'utf8'), oldKeyPem, 'a new key');
  const replaced = (await readdir(join(dir, 'certs'))).filter((name) => name.startsWith('replaced-'));
  assert.equal(replaced.length, 1);
  assert.match(replaced[0]!, /^replaced-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z$/);
  assert.equal(await readFile(join(dir, 'certs', replaced[0]!, 'ca.pem'), 'utf8'), oldCaPem);
  assert.equal(await readFile(join(dir, 'certs', replaced[0]!, 'ca-key.pem'), 'utf8'), oldKeyPem);

  const oldCaPath = join(dir, 'certs', replaced[0]!, 'ca.pem');
  for (const id of ['nasroute01', 'lab0000001']) {
    const leaf = service.certificateFor(id);
    assert.ok(leaf, id);
    assert.notEqual(leaf, oldLeaf);
    const ok = await verify(dir, localCaFiles(dir).certPath, leaf.certificatePem);
    assert.equal(ok.code, 0, ok.output);
    assert.notEqual((await verify(dir, oldCaPath, leaf.certificatePem)).code, 0, 'the old CA does not vouch for it');
  }
});

test('setCaDomains refuses domains that would leave out a local-CA route, naming the routes and names', async (t) => {
  const { service, dir } = await openService(t);
  const routes = [
    { ...tlsRoute('nasroute01', ['nas.home.arpa', 'files.home.example']), title: 'NAS' },
    tlsRoute('labroute01', ['*.lab.local']),
    tlsRoute('keptroute1', ['wiki.home.example']),
    tlsRoute('plainroute', ['printer.home.arpa'], { mode: 'none' }),
  ];
  await service.setRoutes(routes);
  const caPem = service.ca.info.certificatePem;
  const leaf = service.certificateFor('nasroute01');

  await assert.rejects(service.setCaDomains(['home.example'], routes), (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.code, 'conflict');
    assert.equal(error.message, 'The local CA limited to home.example could not issue for these routes: "NAS" (nas.home.arpa); "*.lab.local" (*.lab.local).');
    assert.match(error.details.fix ?? '', /^Change those names or remove those routes first .*or keep a domain that covers them/);
    return true;
  });
  assert.equal(service.ca.info.certificatePem, caPem, 'the CA stays');
  assert.equal(service.certificateFor('nasroute01'), leaf, 'and so do the leaves');
  assert.deepEqual((await readdir(join(dir, 'certs'))).filter((name) => name.startsWith('replaced-')), []);

  // Once the routes that do not fit are gone (the route without HTTPS never counted), it goes through.
  await service.setCaDomains(['home.example'], [routes[2]!, routes[3]!]);
  assert.deepEqual(service.ca.info.permittedDomains, ['home.example']);
});

test('a TLS server asking per handshake gets the renewed leaf without a restart, and the fallback for other names', async (t) => {
  const { service, clock } = await openService(t);
  const routes = [tlsRoute('tlsroute01', ['app.home.arpa'])];
  await service.setRoutes(routes);
  // What the engine does: a context per ServedCertificate object, made again only when it changes.
  const contexts = new WeakMap<ServedCertificate, tls.SecureContext>();
  const contextOf = (served: ServedCertificate) => {
    if (!contexts.has(served)) contexts.set(served, tls.createSecureContext({ cert: served.certificatePem, key: served.privateKeyPem }));
    return contexts.get(served)!;
  };
  const fallback = service.fallback();
  const server = tls.createServer({
    cert: fallback.certificatePem,
    key: fallback.privateKeyPem,
    SNICallback: (name, done) => done(null, contextOf((name === 'app.home.arpa' && service.certificateFor('tlsroute01')) || service.fallback())),
  }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const handshake = (servername: string) =>
    new Promise<{ fingerprint: string; subject: string; error: string | null }>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername, ca: [service.ca.info.certificatePem], rejectUnauthorized: false }, () => {
        const peer = socket.getPeerX509Certificate()!;
        resolve({ fingerprint: peer.fingerprint256, subject: peer.subject, error: socket.authorizationError ? String(socket.authorizationError) : null });
        socket.destroy();
      });
      socket.on('error', reject);
    });

  const first = service.routeCertificates()[0]!.fingerprintSha256;
  assert.deepEqual(await handshake('app.home.arpa'), { fingerprint: first, subject: 'CN=app.home.arpa', error: null });
  clock.now = new Date(Date.parse(service.routeCertificates()[0]!.renewsAt!) + 1000);
  await service.setRoutes(routes);
  const renewed = service.routeCertificates()[0]!.fingerprintSha256;
  assert.notEqual(renewed, first);
  // Issued at the test's future "now", so the client (on the real clock) finds it not yet valid.
  assert.deepEqual(await handshake('app.home.arpa'), { fingerprint: renewed, subject: 'CN=app.home.arpa', error: 'CERT_NOT_YET_VALID' }, 'the next handshake gets the new leaf');
  const other = await handshake('other.home.arpa');
  assert.equal(other.subject, 'CN=Gatehouse');
  assert.equal(other.fingerprint, new X509Certificate(service.fallback().certificatePem).fingerprint256);
  assert.notEqual(other.error, null, 'the fallback is trusted for nothing');
});

test('a restart loads the CA, the leaves and their state back', async (t) => {
  const { service, dir } = await openService(t);
  const routes = [tlsRoute('restart001', ['restart.home.arpa'])];
  await service.setRoutes(routes);
  const served = service.certificateFor('restart001')!;
  const listed = service.routeCertificates();
  service.close();

  const again = (await openService(t, dir)).service;
  assert.equal(again.ca.info.fingerprintSha256, service.ca.info.fingerprintSha256);
  await again.setRoutes(routes);
  assert.deepEqual(again.routeCertificates(), listed, 'loaded, not re-issued');
  assert.equal(again.certificateFor('restart001')!.certificatePem, served.certificatePem);
});

test('route ids that are not plain, or are Windows device names, get hashed folders that load back', async (t) => {
  const { service, dir } = await openService(t);
  const routes = [tlsRoute('con', ['con.home.arpa']), tlsRoute('MyRoute', ['my.home.arpa']), tlsRoute('plain00001', ['plain.home.arpa'])];
  await service.setRoutes(routes);
  const folders = await readdir(join(dir, 'certs', 'routes'));
  assert.equal(folders.length, 3);
  assert.ok(folders.includes('plain00001'), 'a plain id is its own folder');
  assert.ok(!folders.includes('con') && !folders.includes('MyRoute'));
  assert.equal(folders.filter((name) => /^id-[0-9a-f]{32}$/.test(name)).length, 2);
  const listed = service.routeCertificates();
  assert.deepEqual(listed.map((cert) => cert.state), ['valid', 'valid', 'valid']);
  service.close();

  const again = (await openService(t, dir)).service;
  await again.setRoutes(routes);
  assert.deepEqual(again.routeCertificates(), listed, 'loaded from the hashed folders, not issued again');
});

test('issuing a leaf for a new route (diagnostic; the issue\'s target is a median of at most 250 ms)', async (t) => {
  const { service } = await openService(t);
  const routes = [];
  const times: number[] = [];
  for (let i = 0; i < 9; i++) {
    // A person saves one route at a time; between two saves the spare keys are made again.
    await service.spareKeysReady();
    routes.push(tlsRoute(`timed${String(i).padStart(5, '0')}`, [`timed-${i}.home.arpa`]));
    const started = performance.now();
    await service.setRoutes([...routes]);
    times.push(performance.now() - started);
  }
  assert.ok(routes.every((route) => service.certificateFor(route.id)));
  times.sort((a, b) => a - b);
  t.diagnostic(`leaf issuance via setRoutes, 9 new routes: median ${times[4]!.toFixed(1)} ms, min ${times[0]!.toFixed(1)}, max ${times[8]!.toFixed(1)}`);
});
