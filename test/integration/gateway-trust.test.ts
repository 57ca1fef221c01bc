// "Trust on this machine" through the gateway, the way the Certificates page calls it: the plan it
// shows, then trustCa and untrustCa with the fingerprint of the CA the person saw. Every store is a
// temp folder (test/helpers/trust-stores.ts), the tools are the real update-ca-certificates and
// certutil, and openssl checks that a route's certificate then verifies through the built store.
import assert from 'node:assert/strict';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createGateway } from '../../src-main/core/gateway.js';
import { call } from '../helpers/gateway-calls.js';
import { openssl } from '../helpers/openssl.js';
import { makeDataDir } from '../helpers/serve.js';
import { sClient } from '../helpers/tls-clients.js';
import { needTools } from '../helpers/tools.js';
import { tempTrustEnvironment } from '../helpers/trust-stores.js';

const skip = process.platform !== 'linux' ? 'Linux trust stores' : needTools(['certutil', 'libnss3-tools'], 'openssl', ['update-ca-certificates', 'ca-certificates']);

test('trustCa installs the CA the person saw into every store, untrustCa takes it out again', { skip }, async (t) => {
  const dataDir = await makeDataDir();
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const { env, store } = await tempTrustEnvironment(t);
  const gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' }, trustEnvironment: env });
  t.after(() => gateway.close());
  await gateway.startup();

  const { ca } = await call(gateway, 'getCertificates');
  const shown = await call(gateway, 'getTrustPlan');
  assert.equal(shown.supported, true, JSON.stringify(shown.problem));
  assert.deepEqual(
    shown.installed.map((entry) => entry.trusted),
    shown.installed.map(() => false),
    'nothing trusts the new CA yet',
  );

  const installed = await call(gateway, 'trustCa', { consent: true, caFingerprintSha256: ca.fingerprintSha256 });
  for (const step of installed.steps) assert.equal(step.ok, true, `${step.command.join(' ')}: ${step.output}`);
  assert.deepEqual(
    installed.plan.installed.map((entry) => [entry.store, entry.trusted]),
    shown.installed.map((entry) => [entry.store, true]),
    'every store trusts it now',
  );
  assert.equal((await readdir(store.folders.local)).filter((name) => name.startsWith('gatehouse-')).length, 1, 'one anchor file in the system store');

  // A leaf the CA issues for a route verifies against the system store the real tool built.
  await call(gateway, 'addRoute', { names: ['app.home.arpa'], upstream: '127.0.0.1:9', tls: { mode: 'local', certificateId: null, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const } });
  assert.equal((await call(gateway, 'getCertificates')).routes[0]?.state, 'valid');
  const leafPath = join(dataDir, 'leaf-to-verify.pem');
  const served = await sClient((await call(gateway, 'getStatus')).https!.port, ['-servername', 'app.home.arpa', '-verify_return_error', '-CApath', store.folders.etc]);
  assert.match(served.output, /Verify return code: 0 \(ok\)/, served.output);
  assert.ok(served.certificate, 'the server sent its certificate');
  const pem = served.certificate.toString();
  await writeFile(leafPath, `${pem}\n`);
  assert.equal((await openssl('verify', '-CApath', store.folders.etc, leafPath)).code, 0, 'the leaf verifies through the built store');

  const removed = await call(gateway, 'untrustCa', { consent: true, caFingerprintSha256: ca.fingerprintSha256 });
  for (const step of removed.steps) assert.equal(step.ok, true, `${step.command.join(' ')}: ${step.output}`);
  assert.deepEqual(
    removed.plan.installed.map((entry) => entry.trusted),
    shown.installed.map(() => false),
    'no store trusts it any more',
  );
  assert.deepEqual((await readdir(store.folders.local)).filter((name) => name.startsWith('gatehouse-')), [], 'the anchor file is gone');
  assert.notEqual((await openssl('verify', '-CApath', store.folders.etc, leafPath)).code, 0, 'the leaf no longer verifies through the system store');
});
