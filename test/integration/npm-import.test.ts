// Moving in from Nginx Proxy Manager: an NPM data folder built by the test from NPM's published
// schema (test/helpers/npm-database.ts) with real certificate files, previewed (each item's mapping
// and notes) and imported into a real gateway; the imported host answers through the proxy over
// HTTPS with the imported certificate, behind the imported access list and sign-in user, and its
// imported TCP stream reaches the app. A second import adds nothing. Bad folders get clear errors.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { NpmImportItem, NpmImportPreview } from '../../shared/insight.js';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { call, rejectsWith } from '../helpers/gateway-calls.js';
import { createNpmDatabase, openSqlJs, writeNpmCertificate } from '../helpers/npm-database.js';
import { freePort } from '../helpers/ports.js';
import { makeTestCertificate, type TestCertificate } from '../helpers/test-certificates.js';
import { httpsGet } from '../helpers/tls-clients.js';
import { requestThrough, startEchoUpstream, type Upstream } from '../helpers/upstream.js';

const DAY = 24 * 60 * 60 * 1000;
const ALICE_PASSWORD = 'correct horse battery';

describe('moving in from Nginx Proxy Manager', () => {
  let root: string;
  let folder: string;
  let dataDir: string;
  let caPath: string;
  let upstream: Upstream;
  let gateway: Gateway;
  let httpPort: number;
  let httpsPort: number;
  let streamPort: number;
  let leaf: TestCertificate;
  let preview: NpmImportPreview;
  const byKey = (key: string): NpmImportItem => {
    const found = preview.items.find((entry) => entry.key === key);
    assert.ok(found, `the preview lists ${key}`);
    return found;
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'gatehouse-npm-'));
    folder = join(root, 'npm-data');
    dataDir = join(root, 'gatehouse');
    upstream = await startEchoUpstream('npm-app');
    streamPort = await freePort();

    const ca = await makeTestCertificate({ commonName: 'NPM Test Root', ca: true });
    caPath = join(root, 'root.pem');
    await writeFile(caPath, ca.pem);
    leaf = await makeTestCertificate({ commonName: 'app.npm.example', names: ['app.npm.example', 'www.npm.example'], issuer: ca });
    const expired = await makeTestCertificate({ commonName: 'old.npm.example', names: ['old.npm.example'], issuer: ca, notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - 10 * DAY) });
    await writeNpmCertificate(join(folder, 'custom_ssl', 'npm-1'), leaf.pem + ca.pem, leaf.keyPem);
    await writeNpmCertificate(join(folder, 'custom_ssl', 'npm-2'), expired.pem, expired.keyPem);

    const npm = await createNpmDatabase();
    npm.insert('certificate', { id: 1, provider: 'other', nice_name: 'App certificate', domain_names: '["app.npm.example","www.npm.example"]', expires_on: '2027-01-01 00:00:00' });
    npm.insert('certificate', { id: 2, provider: 'other', nice_name: 'Old', domain_names: '["old.npm.example"]', expires_on: '2025-01-01 00:00:00' });
    npm.insert('certificate', { id: 3, provider: 'letsencrypt', nice_name: '', domain_names: '["le.npm.example"]', expires_on: '2027-01-01 00:00:00' });
    npm.insert('certificate', { id: 4, provider: 'other', is_deleted: 1, nice_name: 'Gone', domain_names: '["gone.npm.example"]', expires_on: '2027-01-01 00:00:00' });

    npm.insert('access_list', { id: 1, name: 'Family', satisfy_any: 0, pass_auth: 0 });
    npm.insert('access_list_client', { access_list_id: 1, address: '127.0.0.1', directive: 'allow' });
    npm.insert('access_list_client', { access_list_id: 1, address: '10.0.0.0/8', directive: 'allow' });
    npm.insert('access_list_auth', { access_list_id: 1, username: 'alice', password: ALICE_PASSWORD });
    npm.insert('access_list_auth', { access_list_id: 1, username: 'bob', password: 'short' });
    npm.insert('access_list', { id: 2, name: 'Office', satisfy_any: 1, pass_auth: 1 });
    npm.insert('access_list_client', { access_list_id: 2, address: '192.168.1.0/24', directive: 'allow' });
    npm.insert('access_list_client', { access_list_id: 2, address: 'all', directive: 'deny' });
    npm.insert('access_list_client', { access_list_id: 2, address: 'printer.lan', directive: 'allow' });

    const target = { forward_scheme: 'http', forward_host: '127.0.0.1', forward_port: upstream.port };
    npm.insert('proxy_host', { id: 1, domain_names: '["app.npm.example","www.npm.example"]', ...target, certificate_id: 1, access_list_id: 1, ssl_forced: 1, hsts_enabled: 1, allow_websocket_upgrade: 1, block_exploits: 1 });
    npm.insert('proxy_host', {
      id: 2,
      domain_names: '["plain.npm.example"]',
      ...target,
      caching_enabled: 1,
      advanced_config: 'client_max_body_size 0;',
      locations: JSON.stringify([{ path: '/api', forward_scheme: 'http', forward_host: '10.0.0.9', forward_port: 8081, advanced_config: '' }]),
    });
    npm.insert('proxy_host', { id: 3, domain_names: '["off.npm.example"]', ...target, enabled: 0 });
    npm.insert('proxy_host', { id: 4, domain_names: '["deleted.npm.example"]', ...target, is_deleted: 1 });
    npm.insert('proxy_host', { id: 5, domain_names: '["le.npm.example"]', ...target, certificate_id: 3, ssl_forced: 1 });
    npm.insert('proxy_host', { id: 6, domain_names: '["old.npm.example"]', ...target, certificate_id: 2 });
    npm.insert('proxy_host', { id: 7, domain_names: '["media.npm.example"]', forward_scheme: 'https', forward_host: 'jellyfin', forward_port: 8920, access_list_id: 2 });
    npm.insert('proxy_host', { id: 8, domain_names: '["clash.npm.example"]', ...target });
    npm.insert('redirection_host', { id: 1, domain_names: '["old-blog.npm.example"]', forward_domain_name: 'blog.npm.example', forward_http_code: 301, preserve_path: 1 });
    npm.insert('redirection_host', { id: 2, domain_names: '["bare.npm.example"]', forward_scheme: 'https', forward_domain_name: 'www.npm.example/landing/', forward_http_code: 303, preserve_path: 0 });
    npm.insert('stream', { id: 1, incoming_port: streamPort, forwarding_host: '127.0.0.1', forwarding_port: upstream.port, tcp_forwarding: 1, udp_forwarding: 0 });
    await npm.save(folder);

    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    await gateway.startup();
    const status = await call(gateway, 'getStatus');
    assert.equal(status.state, 'running', JSON.stringify(status.problem));
    httpPort = status.http!.port;
    httpsPort = status.https!.port;
    await call(gateway, 'addRoute', { title: 'Already here', names: ['clash.npm.example'], upstream: `127.0.0.1:${upstream.port}` });
  });

  after(async () => {
    await gateway?.close();
    await upstream?.close();
    await rm(root, { recursive: true, force: true });
  });

  test('the preview says what each NPM object becomes, and why some cannot come', async () => {
    const before = createHash('sha256').update(await readFile(join(folder, 'database.sqlite'))).digest('hex');
    preview = await call(gateway, 'previewNpmImport', { folder });
    assert.equal(createHash('sha256').update(await readFile(join(folder, 'database.sqlite'))).digest('hex'), before, "NPM's database is only read");

    assert.deepEqual(preview.items.map((entry) => entry.key).sort(), [
      'access-list:1', 'access-list:2', 'certificate:1', 'certificate:2', 'certificate:3',
      'proxy-host:1', 'proxy-host:2', 'proxy-host:3', 'proxy-host:5', 'proxy-host:6', 'proxy-host:7', 'proxy-host:8',
      'redirection-host:1', 'redirection-host:2', 'stream:1',
    ], 'deleted hosts and certificates are not listed');

    const app = byKey('proxy-host:1');
    assert.equal(app.maps, 'yes', app.notes.join('\n'));
    assert.deepEqual(app.needs.sort(), ['access-list:1', 'certificate:1']);
    assert.match(app.becomes!, new RegExp(`→ http://127\\.0\\.0\\.1:${upstream.port}, HTTPS with the imported certificate, HTTP sent to HTTPS, HSTS, access list "Family" with sign-in, WebSocket`));
    assert.ok(app.notes.some((note) => /Block Common Exploits.*scanner protection/.test(note)));

    const plain = byKey('proxy-host:2');
    assert.equal(plain.maps, 'partly');
    assert.ok(plain.notes.some((note) => /Caching .* not imported/.test(note)));
    assert.ok(plain.notes.some((note) => /custom Nginx configuration .* not imported/.test(note)));
    assert.ok(plain.notes.some((note) => note.includes('"/api" → http://10.0.0.9:8081 is not imported')));

    const off = byKey('proxy-host:3');
    assert.equal(off.maps, 'yes');
    assert.match(off.becomes!, /\(turned off\)$/);
    assert.ok(off.notes.some((note) => /disabled in NPM/.test(note)));

    const le = byKey('proxy-host:5');
    assert.equal(le.maps, 'partly');
    assert.match(le.becomes!, /HTTP only/);
    assert.deepEqual(le.needs, []);
    const leCert = byKey('certificate:3');
    assert.equal(leCert.maps, 'no');
    assert.match(leCert.notes.join(' '), /\/etc\/letsencrypt.*docker cp/);

    const old = byKey('certificate:2');
    assert.equal(old.maps, 'no');
    assert.match(old.notes.join(' '), /expired on/);
    assert.ok(old.notes.some((note) => note.includes(join('custom_ssl', 'npm-2', 'fullchain.pem')) && note.includes('after the certificate')), 'the fix names the file in NPM\'s folder');
    assert.equal(byKey('proxy-host:6').maps, 'partly');

    const custom = byKey('certificate:1');
    assert.equal(custom.maps, 'yes');
    assert.match(custom.becomes!, /imported certificate for app\.npm\.example, www\.npm\.example/);

    const family = byKey('access-list:1');
    assert.equal(family.maps, 'partly', 'bob\'s short password cannot come');
    assert.match(family.becomes!, /"Family" with 4 entries, with sign-in for 2 users/);
    assert.ok(family.notes.some((note) => note.includes('"bob"') && note.includes('10 characters')));
    assert.ok(family.notes.some((note) => note.startsWith('"alice" comes in as a Gatehouse sign-in user') && /Argon2/.test(note)));

    const office = byKey('access-list:2');
    assert.equal(office.maps, 'partly');
    assert.ok(office.notes.some((note) => note.includes('"allow printer.lan" is left out')));
    assert.match(office.becomes!, /with 3 entries/, '192.168.1.0/24 allowed, then "all" denied as two ranges');

    const media = byKey('proxy-host:7');
    assert.ok(media.notes.some((note) => note.includes('"jellyfin"') && /Docker/.test(note)));
    assert.ok(media.notes.some((note) => /did not check the app's own HTTPS certificate/.test(note)));

    const clash = byKey('proxy-host:8');
    assert.equal(clash.maps, 'no');
    assert.match(clash.notes.join(' '), /served by the Gatehouse route "Already here"/);

    const redirect = byKey('redirection-host:1');
    assert.equal(redirect.maps, 'partly', 'NPM kept the visitor\'s scheme; Gatehouse picks one');
    assert.equal(redirect.becomes, 'redirect route old-blog.npm.example → 301 to http://blog.npm.example (path kept), HTTP only');
    assert.match(redirect.notes.join(' '), /on the scheme they came with.*sends them to http:\/\//);
    const bare = byKey('redirection-host:2');
    assert.equal(bare.maps, 'partly');
    assert.equal(bare.becomes, 'redirect route bare.npm.example → 302 to https://www.npm.example/landing, HTTP only');
    assert.match(bare.notes.join(' '), /NPM answered 303.*answers 302/);

    assert.equal(byKey('stream:1').maps, 'yes');
  });

  test('importing brings the hosts, lists, users, certificates and stream; the imported host answers over HTTPS', async () => {
    const chosen = preview.items.filter((entry) => entry.maps !== 'no').map((entry) => entry.key);
    // Choosing the host alone would bring its list and certificate; here everything that maps is chosen.
    const result = await call(gateway, 'applyNpmImport', { folder, keys: chosen });
    assert.deepEqual(result.imported.map((entry) => entry.key).sort(), [
      'access-list:1', 'access-list:2', 'certificate:1', 'proxy-host:1', 'proxy-host:2', 'proxy-host:3', 'proxy-host:5', 'proxy-host:6', 'proxy-host:7', 'redirection-host:1', 'redirection-host:2', 'stream:1',
    ], JSON.stringify(result.skipped));
    assert.deepEqual(result.skipped, []);

    const routes = await call(gateway, 'listRoutes');
    const app = routes.find((route) => route.names.includes('app.npm.example'))!;
    assert.equal(app.tls.mode, 'custom');
    assert.equal(app.tls.redirectHttp, true);
    assert.equal(app.tls.hsts, true);
    assert.deepEqual(app.access.signIn, { method: 'basic', users: ['alice', 'bob'] });
    assert.equal(routes.find((route) => route.names.includes('off.npm.example'))!.enabled, false);
    const access = await call(gateway, 'getAccess');
    assert.deepEqual(access.users.map((user) => user.name), ['alice'], 'bob must be added by hand with a longer password');

    const auth = `Basic ${Buffer.from(`alice:${ALICE_PASSWORD}`).toString('base64')}`;
    const answer = await httpsGet(httpsPort, 'app.npm.example', caPath, { headers: { authorization: auth } });
    assert.equal(answer.status, 200, answer.body);
    assert.equal(answer.headers['x-upstream'], 'npm-app');
    assert.equal(answer.certificate.fingerprint256, new X509Certificate(leaf.pem).fingerprint256, 'the imported certificate is served');
    assert.equal(answer.headers['strict-transport-security'], 'max-age=31536000');
    const noPassword = await httpsGet(httpsPort, 'app.npm.example', caPath);
    assert.equal(noPassword.status, 401, 'the NPM user list comes along as sign-in');
    const plainHttp = await requestThrough(httpPort, 'app.npm.example');
    assert.equal(plainHttp.status, 308, 'Force SSL became the redirect to HTTPS');
    assert.equal((await requestThrough(httpPort, 'plain.npm.example')).status, 200);

    // The redirection hosts answer real requests with NPM's redirect.
    const moved = await requestThrough(httpPort, 'old-blog.npm.example', '/2023/hello?ref=feed');
    assert.equal(moved.status, 301, moved.body);
    assert.equal(moved.headers.location, 'http://blog.npm.example/2023/hello?ref=feed');
    const landing = await requestThrough(httpPort, 'bare.npm.example', '/some/page');
    assert.deepEqual([landing.status, landing.headers.location], [302, 'https://www.npm.example/landing']);
    const redirectRoute = routes.find((route) => route.names.includes('old-blog.npm.example'))!;
    assert.deepEqual([redirectRoute.upstreams, redirectRoute.redirect], [[], { to: 'http://blog.npm.example', status: 301, keepPath: true }]);

    const streamAnswer = await new Promise<string>((resolve, reject) => {
      const socket = connect(streamPort, '127.0.0.1', () => socket.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      let text = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text)).on('error', reject);
      socket.setTimeout(10_000, () => socket.destroy(new Error('the stream did not answer')));
    });
    assert.match(streamAnswer, /^HTTP\/1\.1 200/, 'the imported TCP stream reaches the app');
  });

  test('a second import adds nothing: what came before is found by name, fingerprint and port', async () => {
    const routesBefore = (await call(gateway, 'listRoutes')).length;
    const again = await call(gateway, 'previewNpmImport', { folder });
    for (const key of ['proxy-host:1', 'proxy-host:2', 'access-list:1', 'certificate:1', 'stream:1', 'redirection-host:1']) {
      const entry = again.items.find((candidate) => candidate.key === key)!;
      assert.equal(entry.maps, 'no', `${key}: ${entry.notes.join(' ')}`);
    }
    assert.match(again.items.find((entry) => entry.key === 'certificate:1')!.notes.join(' '), /in Gatehouse already, as "App certificate"/);
    const result = await call(gateway, 'applyNpmImport', { folder, keys: again.items.map((entry) => entry.key) });
    assert.deepEqual(result.imported, []);
    assert.ok(result.skipped.length >= 10);
    assert.equal((await call(gateway, 'listRoutes')).length, routesBefore);
    assert.equal((await call(gateway, 'getCertificates')).custom.length, 1);
  });

  test('a host chosen alone brings what it needs, and a key that is not there is reported', async () => {
    const other = join(root, 'npm-second');
    const npm = await createNpmDatabase({ newerColumns: true });
    npm.insert('certificate', { id: 9, provider: 'other', nice_name: 'Second', domain_names: '["second.npm.example"]', expires_on: '2027-01-01 00:00:00' });
    npm.insert('access_list', { id: 9, name: 'Second list' });
    npm.insert('access_list_client', { access_list_id: 9, address: '127.0.0.0/8', directive: 'allow', note: 'newer NPM column' });
    npm.insert('proxy_host', { id: 1, domain_names: '["second.npm.example"]', forward_host: '127.0.0.1', forward_port: upstream.port, certificate_id: 9, access_list_id: 9, forward_path: '/x', trust_forwarded_proto: 1 });
    // A Let's Encrypt certificate whose /etc/letsencrypt was copied beside the data folder.
    npm.insert('certificate', { id: 10, provider: 'letsencrypt', nice_name: '', domain_names: '["le2.npm.example"]', expires_on: '2027-01-01 00:00:00' });
    npm.insert('proxy_host', { id: 2, domain_names: '["le2.npm.example"]', forward_host: '127.0.0.1', forward_port: upstream.port, certificate_id: 10, ssl_forced: 1 });
    await npm.save(other);
    const second = await makeTestCertificate({ commonName: 'second.npm.example', names: ['second.npm.example'] });
    await writeNpmCertificate(join(other, 'custom_ssl', 'npm-9'), second.pem, second.keyPem);
    const le = await makeTestCertificate({ commonName: 'le2.npm.example', names: ['le2.npm.example'] });
    await writeNpmCertificate(join(root, 'letsencrypt', 'live', 'npm-10'), le.pem, le.keyPem);

    const seen = await call(gateway, 'previewNpmImport', { folder: other });
    const leItem = seen.items.find((entry) => entry.key === 'certificate:10')!;
    assert.equal(leItem.maps, 'yes', leItem.notes.join(' '));
    assert.ok(leItem.notes.some((note) => note.includes(join(root, 'letsencrypt', 'live', 'npm-10'))), 'found beside the data folder');
    assert.ok(leItem.notes.some((note) => /does not renew.*switch its routes to HTTPS "Let's Encrypt"/.test(note)));
    assert.deepEqual(seen.items.find((entry) => entry.key === 'proxy-host:2')!.needs, ['certificate:10']);

    const result = await call(gateway, 'applyNpmImport', { folder: other, keys: ['proxy-host:1', 'proxy-host:2', 'proxy-host:99'] });
    assert.deepEqual(result.imported.map((entry) => entry.key), ['certificate:9', 'certificate:10', 'access-list:9', 'proxy-host:1', 'proxy-host:2']);
    assert.deepEqual(result.skipped, [{ key: 'proxy-host:99', reason: 'This item is not in the NPM data any more: preview again.' }]);
    const leRoute = (await call(gateway, 'listRoutes')).find((route) => route.names.includes('le2.npm.example'))!;
    assert.equal(leRoute.tls.mode, 'custom');
    assert.equal(leRoute.tls.redirectHttp, true);
    const list = (await call(gateway, 'getAccess')).lists.find((candidate) => candidate.name === 'Second list')!;
    assert.deepEqual(list.entries.map((entry) => `${entry.action} ${entry.range}`), ['allow 127.0.0.0/8', 'deny 0.0.0.0/0', 'deny ::/0']);
  });

  test('a folder that is not NPM data gets a clear error', async () => {
    const missing = await rejectsWith(call(gateway, 'previewNpmImport', { folder: join(root, 'nowhere') }), 'invalid_input');
    assert.match(missing.message, /there is no folder .*nowhere on this machine: copy NPM's data folder .*docker cp/);

    const empty = join(root, 'empty');
    await mkdir(empty);
    const noDatabase = await rejectsWith(call(gateway, 'previewNpmImport', { folder: empty }), 'invalid_input');
    assert.match(noDatabase.message, /there is no database\.sqlite in .*empty: enter the folder NPM mounts at \/data/);
    assert.match(noDatabase.message, /MySQL\/MariaDB/);

    const notSqlite = join(root, 'not-sqlite');
    await mkdir(notSqlite);
    await writeFile(join(notSqlite, 'database.sqlite'), 'hello, this is text');
    const garbage = await rejectsWith(call(gateway, 'previewNpmImport', { folder: notSqlite }), 'invalid_input');
    assert.match(garbage.message, /cannot be read as a SQLite database|could not be read/);

    const otherApp = join(root, 'other-app');
    await mkdir(otherApp);
    const SQL = await openSqlJs();
    const db = new SQL.Database();
    db.run('CREATE TABLE notes (id integer primary key, body text)');
    await writeFile(join(otherApp, 'database.sqlite'), db.export());
    db.close();
    const notNpm = await rejectsWith(call(gateway, 'previewNpmImport', { folder: otherApp }), 'invalid_input');
    assert.match(notNpm.message, /is a SQLite database, but not Nginx Proxy Manager's: it has no proxy_host table/);
    assert.deepEqual(notNpm.details.issues?.map((issue) => issue.path), ['folder']);
  });
});
