// A backup that restores everything, end to end through the gateway: routes on the local CA, a
// route with an imported certificate, an access list, a sign-in user, a DNS provider's credentials
// and an ACME account (registered at a real Pebble) → createBackup → the gateway closes → a NEW,
// EMPTY data directory and a new gateway → the preview lists the changes and changes nothing → a
// wrong passphrase and a changed byte are refused with their sentences → restore → every route
// answers over real HTTPS with the very certificates it had, chained to the restored CA, and the
// user, list, provider credentials and account key are there, with what was replaced kept aside.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BackupDownload } from '../../shared/insight.js';
import { openSecretStore } from '../../src-main/core/certs/acme/secret-store.js';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { call, rejectsWith, settingsFile } from '../helpers/gateway-calls.js';
import { needPebble, startPebble, type Pebble } from '../helpers/pebble.js';
import { localTls } from '../helpers/proxy-harness.js';
import { makeDataDir } from '../helpers/serve.js';
import { makeTestCertificate } from '../helpers/test-certificates.js';
import { httpsGet } from '../helpers/tls-clients.js';
import { startEchoUpstream, type Upstream } from '../helpers/upstream.js';

const local = localTls();
const PASSPHRASE = 'a long backup passphrase';
const USER_PASSWORD = 'alice password 1';
const DNS_TOKEN = 'cloudflare-token-0123456789';

async function open(dataDir: string): Promise<{ gateway: Gateway; https: number }> {
  const gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
  await gateway.startup();
  const status = await call(gateway, 'getStatus');
  assert.equal(status.state, 'running', JSON.stringify(status.problem));
  return { gateway, https: status.https!.port };
}

describe('backup → fresh data directory → restore', () => {
  let upstream: Upstream;
  let pebble: Pebble | undefined;
  let oldDir: string;
  let newDir: string;
  /** The test's own files (CA files for clients), outside every data directory. */
  let scratch: string;
  let gateway: Gateway | undefined;
  /** The first gateway, on the old data directory (closed once the backup is made). */
  let first: Gateway | undefined;
  let https = 0;
  let download: BackupDownload;
  let caPem: string;
  let testCaPath: string;
  let accountKey: string | null = null;
  const served = new Map<string, string>();
  const names = ['app.home.arpa', 'nas.home.arpa', 'media.example.test'];
  const auth = { authorization: `Basic ${Buffer.from(`alice:${USER_PASSWORD}`).toString('base64')}` };

  const caFileOf = async (dir: string, name: string) => {
    if (name === 'media.example.test') return testCaPath;
    const path = join(scratch, `${dir === oldDir ? 'old' : 'new'}-ca.pem`);
    await writeFile(path, caPem);
    return path;
  };

  before(async () => {
    upstream = await startEchoUpstream('app');
    [oldDir, newDir, scratch] = [await makeDataDir(), await makeDataDir(), await makeDataDir()];
    testCaPath = join(scratch, 'test-ca.pem');
    if (!needPebble()) pebble = await startPebble({ dnsServer: '127.0.0.1:1' });
  });
  after(async () => {
    await first?.close();
    await gateway?.close();
    await upstream?.close();
    await pebble?.close();
    await rm(oldDir, { recursive: true, force: true });
    await rm(newDir, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  });

  test('a gateway with routes, an import, a list, a user, a DNS provider and an ACME account is backed up', async () => {
    ({ gateway: first, https } = await open(oldDir));
    const gateway = first;
    const list = await call(gateway, 'addAccessList', { name: 'Family', entries: [{ action: 'allow', range: '127.0.0.0/8', note: 'here' }] });
    await call(gateway, 'addAccessUser', { name: 'alice', password: USER_PASSWORD });
    await call(gateway, 'addRoute', { title: 'App', names: ['app.home.arpa'], upstream: upstream.url, tls: local, access: { lists: [list.id] } });
    await call(gateway, 'addRoute', { title: 'NAS', names: ['nas.home.arpa'], upstream: upstream.url, tls: local, access: { signIn: { method: 'basic', users: ['alice'] } } });
    const testCa = await makeTestCertificate({ commonName: 'Backup Test Root', ca: true });
    await writeFile(testCaPath, testCa.pem);
    const leaf = await makeTestCertificate({ commonName: 'media.example.test', names: ['media.example.test'], issuer: testCa });
    const imported = await call(gateway, 'importCertificate', { label: 'Media', certificatePem: leaf.pem, privateKeyPem: leaf.keyPem, chainPem: testCa.pem });
    await call(gateway, 'addRoute', { title: 'Media', names: ['media.example.test'], upstream: upstream.url, tls: { ...local, mode: 'custom', certificateId: imported.id } });
    await call(gateway, 'addDnsProvider', { kind: 'cloudflare', label: 'Cloudflare', credentials: DNS_TOKEN });
    if (pebble) {
      const directory = await call(gateway, 'getAcmeDirectory', { directoryUrl: pebble.directoryUrl, directoryCaPem: pebble.apiCa });
      const account = await call(gateway, 'addAcmeAccount', { label: 'Pebble', directoryUrl: pebble.directoryUrl, termsAccepted: directory.termsOfService, directoryCaPem: pebble.apiCa });
      assert.equal(account.status, 'registered');
      accountKey = await readFile(join(oldDir, 'acme', 'accounts', account.id, 'key.pem'), 'utf8');
    }
    caPem = Buffer.from((await call(gateway, 'downloadCa', { format: 'pem' })).base64, 'base64').toString('utf8');
    for (const name of names) {
      const answer = await httpsGet(https, name, await caFileOf(oldDir, name), { headers: auth });
      assert.equal(answer.status, 200, name);
      served.set(name, answer.certificate.fingerprint256);
    }

    download = await call(gateway, 'createBackup', { passphrase: PASSPHRASE });
    assert.match(download.fileName, /^gatehouse-\d{8}-\d{6}\.gatehouse-backup$/);
    const file = Buffer.from(download.contentBase64, 'base64');
    assert.equal(file.length, download.bytes);
    assert.equal(file.subarray(0, 16).toString(), 'GATEHOUSE-BACKUP');
    for (const secret of [DNS_TOKEN, 'BEGIN', 'alice', 'argon2']) assert.ok(!file.includes(Buffer.from(secret)), `${secret} is not readable in the file`);
    const holds = download.holds.join('\n');
    for (const words of ['3 routes', 'the local CA and its key', '2 route certificates', '1 imported certificate', '1 DNS provider', '1 sign-in user', "the sticky cookie's key"]) assert.ok(holds.includes(words), `${words} in ${holds}`);
    if (pebble) assert.ok(holds.includes('1 ACME account with its key'), holds);
    assert.ok(!holds.includes('left out'), holds);
    await first.close();
    first = undefined;
  });

  test('a fresh gateway refuses a wrong passphrase and a changed byte, each with its sentence', async () => {
    assert.ok(download, 'the backup was made');
    ({ gateway, https } = await open(newDir));
    const wrong = await rejectsWith(call(gateway, 'previewRestore', { contentBase64: download.contentBase64, passphrase: 'not the passphrase' }), 'invalid_input');
    assert.match(wrong.message, /passphrase does not open this backup/);
    const bytes = Buffer.from(download.contentBase64, 'base64');
    bytes[bytes.length - 100]! ^= 0x01;
    const damaged = await rejectsWith(call(gateway, 'previewRestore', { contentBase64: bytes.toString('base64'), passphrase: PASSPHRASE }), 'invalid_input');
    assert.match(damaged.message, /damaged or not a Gatehouse backup/);
    const notOne = await rejectsWith(call(gateway, 'restoreBackup', { contentBase64: Buffer.from('hello').toString('base64'), passphrase: PASSPHRASE, confirm: true }), 'invalid_input');
    assert.match(notOne.message, /not a Gatehouse backup/);
  });

  test('the preview lists what changes, area by area, and changes nothing', async () => {
    const preview = await call(gateway!, 'previewRestore', { contentBase64: download.contentBase64, passphrase: PASSPHRASE });
    const find = (area: string, what: RegExp) => preview.changes.find((change) => change.area === area && what.test(change.what));
    for (const title of ['App', 'NAS', 'Media']) assert.equal(find('routes', new RegExp(`route ${title}$`))?.change, 'add', title);
    assert.equal(find('local-ca', /local CA/)?.change, 'replace');
    assert.match(find('local-ca', /local CA/)?.detail ?? '', /devices/);
    assert.equal(find('access', /access list Family/)?.change, 'add');
    assert.equal(find('users', /user alice/)?.change, 'add');
    assert.equal(find('dns', /DNS provider Cloudflare/)?.change, 'add');
    assert.equal(find('secrets', /credentials of the DNS provider "Cloudflare"/)?.change, 'add');
    assert.equal(find('certificates', /imported certificate Media/)?.change, 'add');
    assert.equal(find('certificates', /certificate of route App/)?.change, 'add');
    if (pebble) assert.equal(find('acme', /ACME account Pebble/)?.change, 'add');
    assert.match(preview.summary, /every device must trust the restored CA/);
    assert.equal((await settingsFile(newDir)).routes.length, 0, 'nothing was restored by the preview');
    assert.ok(!existsSync(join(newDir, 'access-users.json')));
  });

  test('restore: every route answers over HTTPS with its own certificate, chained to the restored CA, without a restart', async () => {
    const freshCa = await readFile(join(newDir, 'certs', 'ca.pem'), 'utf8');
    const result = await call(gateway!, 'restoreBackup', { contentBase64: download.contentBase64, passphrase: PASSPHRASE, confirm: true });
    assert.ok(result.applied.length > 5);
    assert.match(result.keptIn, /replaced-/);
    assert.equal(await readFile(join(result.keptIn, 'certs', 'ca.pem'), 'utf8'), freshCa, 'the CA it replaced is kept');
    assert.ok(existsSync(join(result.keptIn, 'settings.json')));
    assert.ok(existsSync(join(result.keptIn, 'certs', 'ca-key.pem')));
    assert.equal(await readFile(join(newDir, 'certs', 'ca.pem'), 'utf8'), caPem);
    assert.equal((await stat(join(newDir, 'certs', 'ca-key.pem'))).mode & 0o777, 0o600, "the CA's key is owner-only");

    for (const name of names) {
      // httpsGet verifies the chain against the CA given (the restored local CA, or the import's root).
      const answer = await httpsGet(https, name, await caFileOf(newDir, name), { headers: auth });
      assert.equal(answer.status, 200, name);
      assert.equal(answer.certificate.fingerprint256, served.get(name), `${name} is served the certificate it had`);
      if (name !== 'media.example.test') assert.ok(answer.certificate.checkIssued(new X509Certificate(caPem)));
    }
    // The restored user signs in (argon2 hash carried), the restored list lets 127.0.0.1 in.
    assert.equal((await httpsGet(https, 'nas.home.arpa', await caFileOf(newDir, 'nas.home.arpa'))).status, 401);
    const access = await call(gateway!, 'getAccess');
    assert.deepEqual(access.users.map((user) => user.name), ['alice']);
    assert.deepEqual(access.lists.map((list) => list.name), ['Family']);
    const certificates = await call(gateway!, 'getCertificates');
    assert.equal(certificates.acme.dnsProviders[0]?.label, 'Cloudflare');
    assert.equal(certificates.acme.dnsProviders[0]?.credentialsSet, true);
    const provider = certificates.acme.dnsProviders[0]!;
    // Sealed again with THIS data directory's key: it opens here.
    assert.equal(await (await openSecretStore(newDir)).get(`dns-${provider.id}`), DNS_TOKEN);
    if (pebble) {
      const account = certificates.acme.accounts[0]!;
      assert.equal(account.label, 'Pebble');
      assert.equal(account.status, 'registered');
      assert.equal(await readFile(join(newDir, 'acme', 'accounts', account.id, 'key.pem'), 'utf8'), accountKey);
    }
    const preview = await call(gateway!, 'previewRestore', { contentBase64: download.contentBase64, passphrase: PASSPHRASE });
    const different = preview.changes.filter((change) => change.change !== 'same' && change.area !== 'settings');
    assert.deepEqual(different, [], 'restoring the same backup again changes nothing');
  });

  test('after a restart the restored routes still answer with the same certificates', async () => {
    await gateway!.close();
    ({ gateway, https } = await open(newDir));
    for (const name of names) {
      const answer = await httpsGet(https, name, await caFileOf(newDir, name), { headers: auth });
      assert.equal(answer.certificate.fingerprint256, served.get(name), name);
    }
  });
});
