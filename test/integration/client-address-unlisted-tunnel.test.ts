// A tunnel on this machine that nobody listed as a trusted proxy (cloudflared, ngrok, Tailscale
// Funnel): it connects from 127.0.0.1, this machine's own network, for every internet visitor, and
// names the visitor in its headers. Such a request is judged as from outside this network: a
// this-network-only route refuses it, the rate limit and the scanner list count it (under the
// tunnel's address: headers anyone can write mint no fresh budgets), and the log tells the admin to
// list the tunnel. The household's own requests from 127.0.0.1, which name nobody else, are untouched.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeClients, clientFrom, openRoute, startGuardedProxy, type GuardedProxy } from '../helpers/limits-harness.js';
import { echoHandler, fetchThrough, startServer, type TestServer } from '../helpers/proxy-harness.js';

let upstream: TestServer;
let proxy: GuardedProxy;
const HINT = /A tunnel or proxy at 127\.0\.0\.1 forwards visitors but is not a trusted proxy: list it under trusted proxies/;

before(async () => {
  upstream = await startServer(echoHandler('app'));
  proxy = await startGuardedProxy(
    [
      openRoute('home', upstream.url, { exposure: 'lan' }),
      openRoute('rated', upstream.url, { limits: { requestsPerMinute: 3, loginPerMinute: 0, maxBodyBytes: 0, limitLan: false } }),
      openRoute('scanned', upstream.url, { blockScanners: true }),
    ],
    { scannerBan: { probes: 3, windowSeconds: 600, banSeconds: 3600 } },
  );
});

after(async () => {
  await closeClients();
  await proxy.stop();
  await upstream.close();
});

/** What cloudflared sends for the visitor at `visitor`. */
const tunnelled = (visitor: string) => ({ headers: { 'cf-connecting-ip': visitor, 'x-forwarded-for': visitor, 'cdn-loop': 'cloudflare' } });

test('a this-network-only route refuses the tunnel; the log tells the admin what to do, the visitor page does not', async () => {
  const res = await fetchThrough(clientFrom('127.0.0.1'), proxy.port, 'home.test', '/through-tunnel', tunnelled('203.0.113.5'));
  assert.equal(res.status, 403);
  assert.ok(!res.text.includes('trusted prox') && !res.text.includes('127.0.0.1'), 'the visitor page stays plain');
  const entry = await proxy.nextLogged((e) => e.path === '/through-tunnel');
  assert.equal(entry.error, 'lan_only');
  assert.equal(entry.rule, 'exposure: this network only');
  assert.equal(entry.client, '127.0.0.1');
  assert.match(entry.detail ?? '', HINT);
  assert.equal((await fetchThrough(clientFrom('127.0.0.1'), proxy.port, 'home.test', '/household')).status, 200, 'the household itself still gets in');
});

test('the tunnel is rate limited under its own address, whatever visitor its headers name', async () => {
  const statuses: number[] = [];
  for (let i = 1; i <= 6; i++) statuses.push((await fetchThrough(clientFrom('127.0.0.1'), proxy.port, 'rated.test', `/rated-${i}`, tunnelled(`203.0.113.${i}`))).status);
  assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429]);
  const entry = await proxy.nextLogged((e) => e.path === '/rated-4');
  assert.equal(entry.error, 'rate_limited');
  assert.match(entry.detail ?? '', HINT);
  for (let i = 0; i < 5; i++) assert.equal((await fetchThrough(clientFrom('127.0.0.1'), proxy.port, 'rated.test', '/household')).status, 200, 'the household is never limited');
});

test("the tunnel's scanner probes are counted and ban the tunnel, not the household", async () => {
  try {
    for (const path of ['/.env', '/.git/config', '/.env.local']) {
      const probed = await fetchThrough(clientFrom('127.0.0.1'), proxy.port, 'scanned.test', path, tunnelled('198.51.100.7'));
      assert.equal(probed.status, 404, path);
    }
    assert.deepEqual(proxy.runtime.scanners.bans().map((ban) => ban.address), ['127.0.0.1']);
    const banned = await fetchThrough(clientFrom('127.0.0.1'), proxy.port, 'scanned.test', '/after-ban', tunnelled('198.51.100.8'));
    assert.equal(banned.status, 403);
    const entry = await proxy.nextLogged((e) => e.path === '/after-ban');
    assert.equal(entry.error, 'banned');
    assert.match(entry.detail ?? '', HINT);
    assert.equal((await fetchThrough(clientFrom('127.0.0.1'), proxy.port, 'scanned.test', '/household')).status, 200, "the ban never refuses this machine's own requests");
  } finally {
    proxy.runtime.scanners.lift('127.0.0.1');
  }
});
