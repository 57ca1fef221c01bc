// The local CA on disk: created once with an owner-only key, the same CA after a reload, and the
// certificate openssl reads as a name-constrained CA.
import assert from 'node:assert/strict';
import { readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalCa, localCaFiles } from '../../src-main/core/certs/local-ca.js';
import { tempDataDir } from '../fixtures/settings/helpers.js';
import { openssl } from '../helpers/openssl.js';
import { needTools } from '../helpers/tools.js';

const POSIX = process.platform !== 'win32';

test('first use creates the CA: key owner-only, openssl sees a constrained CA', { skip: needTools('openssl') }, async (t) => {
  const dataDir = await tempDataDir(t);
  const started = performance.now();
  const ca = await LocalCa.open(dataDir);
  t.diagnostic(`CA creation (RSA 2048 key + certificate + two durable writes): ${(performance.now() - started).toFixed(0)} ms`);
  const files = localCaFiles(dataDir);
  assert.equal(ca.created, true);
  assert.equal(files.certPath, join(dataDir, 'certs', 'ca.pem'));
  if (POSIX) assert.equal((await stat(files.keyPath)).mode & 0o777, 0o600);
  assert.equal(await readFile(files.certPath, 'utf8'), ca.info.certificatePem);

  const text = (await openssl('x509', '-in', files.certPath, '-noout', '-text')).output;
  assert.match(text, /X509v3 Name Constraints: critical\s+Permitted:\s+DNS:home\.arpa\s+DNS:local\n/);
  assert.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
  assert.match(text, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
  assert.match(text, /X509v3 Subject Key Identifier/);
  assert.match(text, /Subject: CN = Gatehouse local CA \(.+\), O = Gatehouse/);
  assert.deepEqual(ca.info.permittedDomains, ['home.arpa', 'local']);
  const years = (ca.info.notAfter.getTime() - ca.info.notBefore.getTime()) / (365.25 * 24 * 3600 * 1000);
  assert.ok(years > 9.9 && years < 10.1, `about 10 years of validity, got ${years}`);
});

test('the fingerprint is openssl\'s SHA-256 fingerprint, and a reload gives the same CA', { skip: needTools('openssl') }, async (t) => {
  const dataDir = await tempDataDir(t);
  const first = await LocalCa.open(dataDir);
  const printed = (await openssl('x509', '-in', localCaFiles(dataDir).certPath, '-noout', '-fingerprint', '-sha256')).output;
  assert.equal(printed.trim().split('=')[1], first.info.fingerprintSha256);
  assert.match(first.info.fingerprintSha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

  const again = await LocalCa.open(dataDir, { domains: ['other.example'] });
  assert.equal(again.created, false);
  assert.equal(again.info.fingerprintSha256, first.info.fingerprintSha256);
  assert.deepEqual(again.info.permittedDomains, ['home.arpa', 'local'], 'the stored CA wins over creation options');
  assert.deepEqual(again.info.certificateDer, first.info.certificateDer);
});

test('the CA\'s public data never holds its key', async (t) => {
  const ca = await LocalCa.open(await tempDataDir(t));
  const shown = JSON.stringify({ ...ca.info, certificateDer: ca.info.certificateDer.toString('base64') });
  assert.doesNotMatch(shown, /PRIVATE KEY/);
  assert.doesNotMatch(JSON.stringify(ca), /PRIVATE KEY/);
});

test('custom domains are canonicalised; a bad domain is refused naming it', async (t) => {
  const ca = await LocalCa.open(await tempDataDir(t), { domains: ['Lab.Example.', 'home.arpa', 'lab.example'] });
  assert.deepEqual(ca.info.permittedDomains, ['lab.example', 'home.arpa']);
  await assert.rejects(LocalCa.open(await tempDataDir(t), { domains: ['bad_name.example'] }), /"bad_name\.example" cannot be a domain of the local CA: .*the label "bad_name" may only use letters, digits and inner hyphens/);
  await assert.rejects(LocalCa.open(await tempDataDir(t), { domains: [] }), /at least one domain/);
});

test('a key left without its certificate gets a new certificate for the same key', async (t) => {
  const dataDir = await tempDataDir(t);
  const files = localCaFiles(dataDir);
  await LocalCa.open(dataDir);
  const key = await readFile(files.keyPath, 'utf8');
  await rm(files.certPath);
  const recovered = await LocalCa.open(dataDir);
  assert.equal(recovered.created, true);
  assert.equal(await readFile(files.keyPath, 'utf8'), key, 'the key is kept, not replaced');
});

test('a certificate without its key, or with another key, is refused and left in place', async (t) => {
  const dataDir = await tempDataDir(t);
  const files = localCaFiles(dataDir);
  const ca = await LocalCa.open(dataDir);
  const other = await LocalCa.open(await tempDataDir(t));
  const otherKey = await readFile(other.files.keyPath, 'utf8');

  await writeFile(files.keyPath, otherKey);
  await assert.rejects(LocalCa.open(dataDir), /ca-key\.pem is not the key of .*ca\.pem/);
  await rm(files.keyPath);
  await assert.rejects(LocalCa.open(dataDir), /key .*ca-key\.pem is missing.*Restore the key from a backup/);
  assert.equal(await readFile(files.certPath, 'utf8'), ca.info.certificatePem, 'the certificate is untouched');
});

test('a CA replacement that fails puts the old CA files back as they were', async (t) => {
  const dataDir = await tempDataDir(t);
  const before = await LocalCa.open(dataDir);
  const files = localCaFiles(dataDir);
  const keyPem = await readFile(files.keyPath, 'utf8');
  // The domain is refused only after both files were moved aside, inside the new CA's open().
  await assert.rejects(LocalCa.replace(dataDir, { domains: ['bad_name.example'], now: new Date() }), /cannot be a domain of the local CA/);
  assert.equal(await readFile(files.keyPath, 'utf8'), keyPem);
  assert.equal(await readFile(files.certPath, 'utf8'), before.info.certificatePem);
  assert.deepEqual((await readdir(join(dataDir, 'certs'))).sort(), ['ca-key.pem', 'ca.pem']);
  const after = await LocalCa.open(dataDir);
  assert.equal(after.info.fingerprintSha256, before.info.fingerprintSha256);
});
