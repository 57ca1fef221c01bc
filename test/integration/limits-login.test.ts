// Tighter limits on an app's sign-in path: on a Jellyfin route, an outside client's password
// attempts (POST /Users/AuthenticateByName, in any case the app accepts) are refused with 429
// login_rate_limited once loginPerMinute is spent, while its other requests go on; the household
// on this machine's network can mistype its password as often as it likes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeClients, clientFrom, openRoute, startGuardedProxy, type GuardedProxy } from '../helpers/limits-harness.js';
import { echoHandler, fetchThrough, startServer, type TestServer } from '../helpers/proxy-harness.js';

let upstream: TestServer;
let proxy: GuardedProxy;
const attempt = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"Username":"alice","Pw":"guess"}' };

before(async () => {
  upstream = await startServer(echoHandler('jellyfin'));
  proxy = await startGuardedProxy([openRoute('media', upstream.url, { limits: { requestsPerMinute: 1200, loginPerMinute: 3, maxBodyBytes: 0, limitLan: false } }, { app: 'jellyfin' })]);
});

after(async () => {
  await closeClients();
  await proxy.stop();
  await upstream.close();
});

test('password attempts past loginPerMinute are refused; everything else goes on', async () => {
  const guesser = clientFrom('127.0.0.4');
  const paths = ['/Users/AuthenticateByName', '/users/authenticatebyname', '/jellyfin/Users/AuthenticateByName'];
  for (const path of paths) assert.equal((await fetchThrough(guesser, proxy.port, 'media.test', path, attempt)).status, 200, path);
  const refused = await fetchThrough(guesser, proxy.port, 'media.test', '/Users//AuthenticateByName', attempt);
  assert.equal(refused.status, 429);
  // 3 a minute: the next attempt in 20 s.
  assert.ok(Number(refused.headers['retry-after']) >= 19 && Number(refused.headers['retry-after']) <= 20, String(refused.headers['retry-after']));
  const entry = await proxy.nextLogged((e) => e.path === '/Users//AuthenticateByName');
  assert.equal(entry.error, 'login_rate_limited');
  assert.equal(entry.rule, 'login: 3 attempts a minute per address');

  // Browsing, and loading the sign-in page, are not attempts.
  assert.equal((await fetchThrough(guesser, proxy.port, 'media.test', '/web/index.html')).status, 200);
  assert.equal((await fetchThrough(guesser, proxy.port, 'media.test', '/Users/AuthenticateByName')).status, 200, 'a GET is not a password attempt');
  assert.equal((await fetchThrough(guesser, proxy.port, 'media.test', '/Sessions/Playing', { method: 'POST', body: '{}' })).status, 200);
  // Another address has its own attempts.
  assert.equal((await fetchThrough(clientFrom('127.0.0.5'), proxy.port, 'media.test', '/Users/AuthenticateByName', attempt)).status, 200);
});

test('the household is never locked out of its own sign-in', async () => {
  const home = clientFrom('127.0.0.1');
  for (let i = 0; i < 12; i++) assert.equal((await fetchThrough(home, proxy.port, 'media.test', '/Users/AuthenticateByName', attempt)).status, 200, `attempt ${i + 1}`);
});
