// The admin's own certificate from a real local CA in a temp data directory: what it covers, that
// a restart reuses it, and that it is reissued when an address or the CA changes or renewal is due;
// OpenSSL accepts its iPAddress SANs under the CA's DNS name constraints; and an HTTPS AdminServer
// serves the new one on the next handshake without a restart.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { AdminCertificate, adminSubjects } from '../../src-main/core/certs/admin-certificate.js';
import { LocalCa } from '../../src-main/core/certs/local-ca.js';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { AdminServer } from '../../src-main/headless/admin-server.js';
import { openssl } from '../helpers/openssl.js';

const DAY = 24 * 60 * 60 * 1000;

function sans(pem: string): string[] {
  return (new X509Certificate(pem).subjectAltName ?? '').split(', ');
}

test('adminSubjects: hostname.local and a host name inside the CA domains; addresses by bind address', () => {
  const domains = ['home.arpa', 'local'];
  assert.deepEqual(adminSubjects('0.0.0.0', 'Box', ['192.168.1.20', 'fd00::20'], domains), { dnsNames: ['box.local'], ipAddresses: ['192.168.1.20', '127.0.0.1'] });
  assert.deepEqual(adminSubjects('::', 'nas.home.arpa', ['192.168.1.20', 'fd00::20'], domains), {
    dnsNames: ['nas.local', 'nas.home.arpa'],
    ipAddresses: ['192.168.1.20', 'fd00::20', '127.0.0.1', '::1'],
  });
  assert.deepEqual(adminSubjects('192.168.1.20', 'nas.example.com', ['192.168.1.20', '10.0.0.2'], domains), { dnsNames: ['nas.local'], ipAddresses: ['192.168.1.20'] });
  assert.deepEqual(adminSubjects('10.0.0.2', 'My_PC', [], domains).dnsNames, [], 'a host name that is no DNS name is left out');
  assert.deepEqual(adminSubjects('10.0.0.2', 'box', [], ['home.arpa']).dnsNames, [], '.local outside the CA domains is left out');
});

describe('the admin certificate', () => {
  let dataDir: string;
  let ca: LocalCa;
  let addresses: string[];
  let now: Date;
  const opened: AdminCertificate[] = [];
  const start = async (bindAddress = '0.0.0.0', hostname = 'box') => {
    const certificate = await AdminCertificate.start({ ca: () => ca, bindAddress, hostname: () => hostname, addresses: () => addresses, now: () => now, checkEveryMs: 60_000 });
    opened.push(certificate);
    return certificate;
  };

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-admin-cert-'));
    ca = await LocalCa.open(dataDir);
  });
  after(async () => {
    for (const certificate of opened) certificate.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('covers hostname.local and every address, is stored apart from routes, and a restart reuses it', async () => {
    addresses = ['192.168.1.20'];
    now = new Date();
    const first = await start();
    assert.deepEqual(sans(first.current.certificatePem).sort(), ['DNS:box.local', 'IP Address:127.0.0.1', 'IP Address:192.168.1.20']);
    assert.deepEqual(await readdir(join(ca.files.dir, 'admin')), ['cert.pem', 'key.pem']);
    assert.equal(await readFile(join(ca.files.dir, 'admin', 'cert.pem'), 'utf8'), first.current.certificatePem);
    first.close();
    const again = await start();
    assert.equal(again.current.certificatePem, first.current.certificatePem, 'nothing changed, so the stored one is served');
    again.close();
  });

  test('OpenSSL verifies its address and name against the name-constrained CA', async () => {
    const certificate = await start('10.0.0.2', 'My_PC');
    assert.deepEqual(sans(certificate.current.certificatePem), ['IP Address:10.0.0.2']);
    assert.match(new X509Certificate(certificate.current.certificatePem).subject, /CN=Gatehouse admin/);
    const leaf = join(dataDir, 'leaf.pem');
    await writeFile(leaf, certificate.current.certificatePem);
    const good = await openssl('verify', '-CAfile', ca.files.certPath, '-verify_ip', '10.0.0.2', leaf);
    assert.equal(good.code, 0, good.output);
    const wrong = await openssl('verify', '-CAfile', ca.files.certPath, '-verify_ip', '10.0.0.3', leaf);
    assert.notEqual(wrong.code, 0, 'another address is refused: the check can fail');
    certificate.close();
  });

  test('a new address, a renewal date and a new CA each bring a new certificate, announced to listeners', async () => {
    addresses = ['192.168.1.20'];
    now = new Date();
    const certificate = await start();
    const seen: string[] = [];
    certificate.onChange((served) => seen.push(served.certificatePem));
    const original = certificate.current.certificatePem;

    await certificate.check();
    assert.equal(certificate.current.certificatePem, original, 'no change, no new certificate');

    addresses = ['192.168.1.20', '10.1.2.3'];
    await certificate.check();
    assert.ok(sans(certificate.current.certificatePem).includes('IP Address:10.1.2.3'));
    assert.equal(seen.length, 1);

    const before = new X509Certificate(certificate.current.certificatePem);
    now = new Date(Date.now() + 300 * DAY);
    await certificate.check();
    const renewed = new X509Certificate(certificate.current.certificatePem);
    assert.ok(new Date(renewed.validTo).getTime() > new Date(before.validTo).getTime() + 200 * DAY, 'renewed once a third of its life was left');
    assert.equal(seen.length, 2);

    now = new Date();
    ca = await LocalCa.replace(dataDir, { now, domains: ['home.arpa', 'local'] });
    await certificate.check();
    assert.ok(new X509Certificate(certificate.current.certificatePem).checkIssued(new X509Certificate(ca.info.certificatePem)), 'issued by the new CA');
    assert.equal(seen.length, 3);
  });
});

describe('an HTTPS admin server takes a reissued certificate without a restart', () => {
  let dataDir: string;
  let gateway: Gateway;
  let admin: AdminServer;
  let certificate: AdminCertificate;
  let port: number;
  let addresses = ['192.168.1.20'];

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-admin-tls-'));
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    const ca = await LocalCa.open(dataDir);
    certificate = await AdminCertificate.start({ ca: () => ca, bindAddress: '0.0.0.0', hostname: () => 'box', addresses: () => addresses });
    admin = new AdminServer({ gateway, token: 't'.repeat(43), rendererDir: dataDir, tls: certificate });
    ({ port } = await admin.listen('127.0.0.1', 0));
  });
  after(async () => {
    certificate?.close();
    await admin?.close();
    await gateway?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const servedSans = () =>
    new Promise<string[]>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, ca: [certificate.current.certificatePem], rejectUnauthorized: false });
      socket.once('secureConnect', () => {
        resolve((socket.getPeerX509Certificate()?.subjectAltName ?? '').split(', '));
        socket.destroy();
      });
      socket.once('error', reject);
    });

  test('the next handshake gets the certificate for the new address', async () => {
    assert.ok(!(await servedSans()).includes('IP Address:10.9.9.9'));
    addresses = ['192.168.1.20', '10.9.9.9'];
    await certificate.check();
    assert.ok((await servedSans()).includes('IP Address:10.9.9.9'));
  });
});
