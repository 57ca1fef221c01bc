// Leaf certificates from the local CA: openssl verifies them against the CA, a real TLS client
// trusts them for their names only, and the CA's name constraints hold even against a leaf signed
// with the CA key outside Gatehouse.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import tls from 'node:tls';
import { LEAF_VALIDITY_DAYS, NameOutsideCaDomainsError, issueLeaf } from '../../src-main/core/certs/leaf.js';
import { LocalCa, localCaFiles } from '../../src-main/core/certs/local-ca.js';
import { tempDataDir } from '../fixtures/settings/helpers.js';
import { openssl } from '../helpers/openssl.js';
import { needTools } from '../helpers/tools.js';

/** Leaves issued for the timing diagnostic; the median of this many is reported. */
const TIMED_ISSUES = 10;

async function caIn(t: TestContext): Promise<{ ca: LocalCa; dir: string }> {
  const dir = await tempDataDir(t);
  return { ca: await LocalCa.open(dir), dir };
}

test('openssl verifies a leaf for exact and wildcard names under home.arpa', { skip: needTools('openssl') }, async (t) => {
  const { ca, dir } = await caIn(t);
  const leaf = await issueLeaf(ca, ['Mattermost.Home.Arpa', '*.lab.home.arpa', 'printer.local']);
  assert.deepEqual(leaf.hostNames, ['mattermost.home.arpa', '*.lab.home.arpa', 'printer.local']);
  const leafPath = join(dir, 'leaf.pem');
  await writeFile(leafPath, leaf.certificatePem);
  const verified = await openssl('verify', '-CAfile', localCaFiles(dir).certPath, leafPath);
  assert.equal(verified.code, 0, verified.output);

  const text = (await openssl('x509', '-in', leafPath, '-noout', '-text')).output;
  assert.match(text, /Subject: CN = mattermost\.home\.arpa\n/);
  assert.match(text, /DNS:mattermost\.home\.arpa, DNS:\*\.lab\.home\.arpa, DNS:printer\.local\n/);
  assert.match(text, /X509v3 Extended Key Usage: \s+TLS Web Server Authentication\n/);
  assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
  assert.match(text, /X509v3 Authority Key Identifier/);
  assert.match(text, /Public-Key: \(2048 bit\)/);
  const days = (leaf.notAfter.getTime() - Date.now()) / (24 * 3600 * 1000);
  assert.ok(Math.abs(days - LEAF_VALIDITY_DAYS) < 0.01, `valid ${LEAF_VALIDITY_DAYS} days from now, got ${days}`);
});

test('serial numbers are 16 random bytes and positive', { skip: needTools('openssl') }, async (t) => {
  const { ca, dir } = await caIn(t);
  const serials = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const path = join(dir, `leaf-${i}.pem`);
    await writeFile(path, (await issueLeaf(ca, ['a.home.arpa'])).certificatePem);
    const serial = (await openssl('x509', '-in', path, '-noout', '-serial')).output.trim().replace('serial=', '');
    assert.match(serial, /^[4-7][0-9A-F]{31}$/, 'first byte 0x40–0x7f: positive, minimal DER');
    serials.add(serial);
  }
  assert.equal(serials.size, 3);
});

test('a name outside the CA\'s domains is refused, naming the name and the domains', async (t) => {
  const { ca } = await caIn(t);
  await assert.rejects(issueLeaf(ca, ['ok.home.arpa', 'bank.example']), (error: unknown) => {
    assert.ok(error instanceof NameOutsideCaDomainsError);
    assert.equal(error.hostName, 'bank.example');
    assert.match(error.message, /"bank\.example".*home\.arpa.*local/);
    return true;
  });
  // A suffix match on text alone would let these through; constraints match whole labels.
  await assert.rejects(issueLeaf(ca, ['evilhome.arpa']), NameOutsideCaDomainsError);
  await assert.rejects(issueLeaf(ca, ['*.x.arpa']), NameOutsideCaDomainsError);
  await assert.rejects(issueLeaf(ca, ['*.arpa']), /a wildcard needs at least two labels after it/, 'the route names\' rule');
  await assert.rejects(issueLeaf(ca, ['a.*.home.arpa']), /"a\.\*\.home\.arpa" is not a host name a certificate can carry/);
  await assert.rejects(issueLeaf(ca, []), /at least one host name/);
});

test('openssl rejects a leaf for bank.example signed with the CA key outside Gatehouse', { skip: needTools('openssl') }, async (t) => {
  const { dir } = await caIn(t);
  const { certPath, keyPath } = localCaFiles(dir);
  const csr = join(dir, 'bank.csr');
  const bank = join(dir, 'bank.pem');
  const made = await openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'bank-key.pem'),
    '-subj', '/CN=bank.example', '-addext', 'subjectAltName=DNS:bank.example', '-out', csr);
  assert.equal(made.code, 0, made.output);
  const signed = await openssl('x509', '-req', '-in', csr, '-CA', certPath, '-CAkey', keyPath, '-set_serial', '4242',
    '-days', '30', '-copy_extensions', 'copy', '-out', bank);
  assert.equal(signed.code, 0, signed.output);

  const verified = await openssl('verify', '-CAfile', certPath, bank);
  assert.notEqual(verified.code, 0);
  assert.match(verified.output, /permitted subtree violation/);
});

test('a TLS client that trusts the CA accepts the leaf for its name and refuses another', async (t) => {
  const { ca } = await caIn(t);
  const leaf = await issueLeaf(ca, ['app.home.arpa', '*.svc.home.arpa']);
  const server = tls.createServer({ cert: leaf.certificatePem, key: leaf.privateKeyPem }, (socket) => socket.end('hello'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;

  const connect = (servername: string) =>
    new Promise<{ authorized: boolean; data: string }>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername, ca: [ca.info.certificatePem] }, () => {
        let data = '';
        socket.setEncoding('utf8').on('data', (chunk: string) => (data += chunk));
        socket.on('end', () => resolve({ authorized: socket.authorized, data }));
      });
      socket.on('error', reject);
    });

  assert.deepEqual(await connect('app.home.arpa'), { authorized: true, data: 'hello' });
  assert.deepEqual(await connect('grafana.svc.home.arpa'), { authorized: true, data: 'hello' });
  await assert.rejects(connect('other.home.arpa'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  await assert.rejects(
    new Promise((resolve, reject) => {
      tls.connect({ host: '127.0.0.1', port, servername: 'app.home.arpa' }, () => resolve(null)).on('error', reject);
    }),
    { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
    'without the CA the same leaf is not trusted',
  );
});

test('leaf issuance time (diagnostic; the issue\'s target is a median of at most 250 ms)', async (t) => {
  const { ca } = await caIn(t);
  const times: number[] = [];
  for (let i = 0; i < TIMED_ISSUES; i++) {
    const started = performance.now();
    await issueLeaf(ca, [`route-${i}.home.arpa`]);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const median = (times[TIMED_ISSUES / 2 - 1]! + times[TIMED_ISSUES / 2]!) / 2;
  t.diagnostic(`leaf issuance over ${TIMED_ISSUES}: median ${median.toFixed(0)} ms, min ${times[0]!.toFixed(0)}, max ${times.at(-1)!.toFixed(0)}`);
  assert.equal(times.length, TIMED_ISSUES);
});
