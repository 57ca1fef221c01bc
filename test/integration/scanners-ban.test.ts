// Scanner blocking through the real proxy: /.env is answered 404 (the scanner learns nothing) and
// never reaches the service; after 3 probes an outside address is banned — refused on another
// route too, listed on the Access page, the runtime told — while an address on this machine's own
// network that sends the same probes gets its 404s and is never banned.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeClients, clientFrom, openRoute, startGuardedProxy, type GuardedProxy } from '../helpers/limits-harness.js';
import { fetchThrough, startServer, type TestServer } from '../helpers/proxy-harness.js';

let upstream: TestServer;
let proxy: GuardedProxy;
const reached: string[] = [];

before(async () => {
  upstream = await startServer((req, res) => {
    reached.push(req.url ?? '');
    res.end('ok');
  });
  proxy = await startGuardedProxy(
    [openRoute('media', upstream.url, {}, { app: 'jellyfin' }), openRoute('files', upstream.url, {}, { app: 'nextcloud' }), openRoute('open', upstream.url, { blockScanners: false })],
    { scannerBan: { probes: 3, windowSeconds: 600, banSeconds: 3600 } },
  );
});

after(async () => {
  await closeClients();
  await proxy.stop();
  await upstream.close();
});

test('a probe is answered 404 and never reaches the service', async () => {
  const res = await fetchThrough(clientFrom('127.0.0.9'), proxy.port, 'media.test', '/.env');
  assert.equal(res.status, 404);
  assert.equal(res.headers['x-gatehouse-error'], 'not_found');
  assert.ok(!reached.includes('/.env'));
  const entry = await proxy.nextLogged((e) => e.path === '/.env' && e.client === '127.0.0.9');
  assert.equal(entry.error, 'scanner_probe');
  assert.equal(entry.rule, 'scanner: /.env');
  // A route with scanner blocking off passes the same path on.
  assert.equal((await fetchThrough(clientFrom('127.0.0.9'), proxy.port, 'open.test', '/.env')).status, 200);
});

test('three probes ban an outside address on every route', async () => {
  const scanner = clientFrom('127.0.0.10');
  assert.equal((await fetchThrough(scanner, proxy.port, 'media.test', '/web/index.html')).status, 200, 'before: served');
  for (const path of ['/.git/config', '/%2Eenv', '/wp-login.php']) assert.equal((await fetchThrough(scanner, proxy.port, 'media.test', path)).status, 404, path);
  assert.equal(proxy.changes, 1, 'the runtime heard of the ban');
  const refused = await fetchThrough(scanner, proxy.port, 'files.test', '/index.php/apps/files/');
  assert.equal(refused.status, 403);
  assert.equal(refused.headers['x-gatehouse-error'], 'forbidden');
  const entry = await proxy.nextLogged((e) => e.path === '/index.php/apps/files/' && e.client === '127.0.0.10');
  assert.equal(entry.error, 'banned');
  assert.equal(proxy.runtime.reputation.banned('127.0.0.10')?.source, 'scanner');
  const bans = proxy.runtime.overview().scannerBans;
  assert.equal(bans[0]?.address, '127.0.0.10');
  assert.match(bans[0]?.reason ?? '', /3 scanner probes/);
  // Lifted, it is served again.
  assert.ok(proxy.runtime.scanners.lift('127.0.0.10'));
  assert.equal((await fetchThrough(scanner, proxy.port, 'files.test', '/index.php/apps/files/')).status, 200);
});

test('an address on this machine\'s network that sends probes is never banned', async () => {
  const home = clientFrom('127.0.0.1');
  for (let i = 0; i < 10; i++) assert.equal((await fetchThrough(home, proxy.port, 'media.test', `/.env.${i}`)).status, 404);
  assert.equal(proxy.runtime.reputation.banned('127.0.0.1'), null);
  assert.equal((await fetchThrough(home, proxy.port, 'files.test', '/status.php')).status, 200);
  assert.ok(!proxy.runtime.overview().scannerBans.some((ban) => ban.address === '127.0.0.1'));
});
