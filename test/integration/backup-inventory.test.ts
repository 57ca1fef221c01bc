// The backup inventory knows every file Gatehouse leaves in a data directory. A gateway is run
// through everything that writes there (routes on the local CA, an imported certificate, a new CA,
// an access list, a sign-in user, DNS credentials, the CrowdSec key, proxied requests that log, a
// settings import, a scheduled backup, a restore, the headless admin token), then every file left is
// looked up: one that no inventory line names fails this test, so a part that adds a file must say
// whether backups carry it (src-main/core/insight/backup-inventory.ts).
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { filesUnder } from '../../src-main/core/insight/backup-contents.js';
import { BACKUP_INVENTORY, classify, restorable } from '../../src-main/core/insight/backup-inventory.js';
import { restoredMode } from '../../src-main/core/insight/restore-files.js';
import { loadAdminToken } from '../../src-main/headless/admin-token.js';
import { call } from '../helpers/gateway-calls.js';
import { localTls } from '../helpers/proxy-harness.js';
import { makeDataDir } from '../helpers/serve.js';
import { makeTestCertificate } from '../helpers/test-certificates.js';
import { httpsGet } from '../helpers/tls-clients.js';
import { startEchoUpstream, type Upstream } from '../helpers/upstream.js';

const local = localTls();
const PASSPHRASE = 'inventory passphrase';

describe('backup inventory', () => {
  let dataDir: string;
  let folder: string;
  let gateway: Gateway | undefined;
  let upstream: Upstream;

  before(async () => {
    [dataDir, folder] = [await makeDataDir(), await makeDataDir()];
    upstream = await startEchoUpstream('app');
  });
  after(async () => {
    await gateway?.close();
    await upstream?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(folder, { recursive: true, force: true });
  });

  test('paths outside the inventory, and ones that climb out, are never restorable', () => {
    assert.equal(restorable('certs/ca-key.pem'), true);
    assert.equal(restorable('certs/routes/abc/key.pem'), true);
    assert.equal(restorable('certs/routes/../../etc/key.pem'), false);
    assert.equal(restorable('admin-token'), false);
    assert.equal(restorable('settings.json'), false, 'settings go through the schema, not as a file');
    assert.equal(restorable('acme/secret.key'), false);
    assert.equal(restorable('somewhere/else'), false);
    // Whatever mode a backup claims, keys come back owner-only and nothing comes back writable by others.
    for (const path of ['certs/ca-key.pem', 'certs/routes/a/key.pem', 'acme/accounts/a/key.next.pem', 'acme/accounts/a/account.json', 'sticky-cookie.key', 'crowdsec-key', 'access-users.json']) assert.equal(restoredMode(path, 0o777), 0o600, path);
    assert.equal(restoredMode('certs/ca.pem', 0o777), 0o644);
    for (const entry of BACKUP_INVENTORY) assert.ok(entry.class !== 'excluded' || entry.why, `${entry.pattern} says why it is excluded`);
  });

  test('after a run through every part, each file in the data directory is classified', async () => {
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' }, backups: { hourMs: 60_000 } });
    await gateway.startup();
    await loadAdminToken(dataDir);
    const list = await call(gateway, 'addAccessList', { name: 'Family', entries: [{ action: 'allow', range: '127.0.0.0/8', note: '' }] });
    await call(gateway, 'addAccessUser', { name: 'bob', password: 'bob password 1' });
    await call(gateway, 'updateAccessSettings', { crowdsecApiKey: 'bouncer-key-123' });
    const route = await call(gateway, 'addRoute', { title: 'App', names: ['app.home.arpa'], upstream: upstream.url, tls: local, access: { lists: [list.id] } });
    const ca = await makeTestCertificate({ commonName: 'Inventory Root', ca: true });
    const leaf = await makeTestCertificate({ commonName: 'media.example.test', names: ['media.example.test'], issuer: ca });
    await call(gateway, 'importCertificate', { certificatePem: leaf.pem, privateKeyPem: leaf.keyPem, chainPem: ca.pem });
    await call(gateway, 'addDnsProvider', { kind: 'cloudflare', label: 'CF', credentials: 'token-abc' });
    await call(gateway, 'setCaDomains', { domains: ['home.arpa', 'lan'], replaceCa: true });
    const status = await call(gateway, 'getStatus');
    const caFile = join(folder, 'ca.pem');
    await writeFile(caFile, Buffer.from((await call(gateway, 'downloadCa', { format: 'pem' })).base64, 'base64'));
    assert.equal((await httpsGet(status.https!.port, 'app.home.arpa', caFile)).status, 200);
    await call(gateway, 'importSettings', { document: await call(gateway, 'exportSettings') });
    await call(gateway, 'updateBackupSchedule', { enabled: true, folder, everyHours: 24, keep: 3, passphrase: PASSPHRASE });
    const backup = await call(gateway, 'createBackup', { passphrase: PASSPHRASE });
    await call(gateway, 'removeRoute', { id: route.id });
    await call(gateway, 'restoreBackup', { contentBase64: backup.contentBase64, passphrase: PASSPHRASE, confirm: true });
    await new Promise((resolve) => setTimeout(resolve, 300)); // the access log's flush
    await gateway.close();
    gateway = undefined;

    const files = await filesUnder(dataDir);
    const unknown = files.filter((path) => classify(path) === null);
    assert.deepEqual(unknown, [], 'every file is backed up or deliberately left out: add a line to src-main/core/insight/backup-inventory.ts');
    // The run reached the places it was meant to.
    for (const expected of [/^certs\/ca-key\.pem$/, /^certs\/routes\/[^/]+\/key\.pem$/, /^certs\/custom\/[^/]+\/meta\.json$/, /^acme\/secrets\/dns-[^/]+\.bin$/, /^acme\/secrets\/backup-passphrase\.bin$/, /^access-users\.json$/, /^crowdsec-key$/, /^sticky-cookie\.key$/, /^access\.log$/, /^backups-last-run\.json$/, /^replaced-[^/]+\/settings\.json$/, /^certs\/replaced-/, /^settings\.before-import-/, /^admin-token$/]) {
      assert.ok(files.some((path) => expected.test(path)), `${expected} in ${files.join(', ')}`);
    }
  });
});
