// Reviewer's findings on issue 13, each a failing test that shows the defect against the real
// engine and access runtime (clients bound to 127.x.y.z; 127.0.0.1 alone is "this network").
// Each test asserts what SHOULD happen, so it fails until the defect is fixed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeClients, clientFrom, openRoute, startGuardedProxy, type GuardedProxy } from '../helpers/limits-harness.js';
import { echoHandler, fetchThrough, startServer, type Echoed, type TestServer } from '../helpers/proxy-harness.js';

let upstream: TestServer;
let proxy: GuardedProxy;

before(async () => {
  upstream = await startServer(echoHandler('app'));
  proxy = await startGuardedProxy([
    // Behind a trusted front (127.0.0.9 plays it), 3 requests a minute per client.
    openRoute('rated', upstream.url, { limits: { requestsPerMinute: 3, loginPerMinute: 0, maxBodyBytes: 0, limitLan: false } }, { trustedProxies: ['127.0.0.9'] }),
    // Immich (NestJS on Express: routes match in any case), 2 sign-in attempts a minute.
    openRoute('photos', upstream.url, { limits: { requestsPerMinute: 0, loginPerMinute: 2, maxBodyBytes: 0, limitLan: false } }, { app: 'immich' }),
    // Basic auth, to show the argon2 queue shared with the admin sign-in.
    openRoute('vault', upstream.url, { signIn: { method: 'basic', users: 'all' } }),
  ]);
  await proxy.runtime.signIn.addUser('owner', 'right-password-1');
});

after(async () => {
  await closeClients();
  await proxy.stop();
  await upstream.close();
});

test('F1: one IPv6 client rotating through its own /64 is still one client to the rate limit', async () => {
  const front = clientFrom('127.0.0.9');
  const statuses: number[] = [];
  for (let i = 1; i <= 10; i++) {
    // Every home connection gets at least a /64: these are all the same subscriber.
    const res = await fetchThrough(front, proxy.port, 'rated.test', '/', { headers: { 'x-forwarded-for': `2001:db8:1:2::${i.toString(16)}` } });
    statuses.push(res.status);
  }
  assert.ok(statuses.filter((s) => s === 429).length >= 7, `statuses: ${statuses.join(' ')}`);
});

test('F2: an Express app (Immich) answers its sign-in in any case: the login limit must count /API/AUTH/LOGIN', async () => {
  const guesser = clientFrom('127.0.0.4');
  const attempt = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":"a@b","password":"guess"}' };
  const statuses: number[] = [];
  for (const path of ['/api/auth/login', '/api/auth/login', '/API/AUTH/LOGIN', '/Api/Auth/Login', '/api/Auth/login']) {
    statuses.push((await fetchThrough(guesser, proxy.port, 'photos.test', path, attempt)).status);
  }
  assert.deepEqual(statuses, [200, 200, 429, 429, 429]);
});

test('F3: a trusted front passes X_Forwarded_For through; PHP/WSGI read it as X-Forwarded-For', async () => {
  const front = clientFrom('127.0.0.9');
  const res = await fetchThrough(front, proxy.port, 'rated.test', '/', { headers: { 'x-forwarded-for': '198.51.100.7', x_forwarded_for: '10.0.0.1' } });
  const echoed = JSON.parse(res.text) as Echoed;
  assert.equal(echoed.headers.x_forwarded_for, undefined, 'a client-written underscore twin reached the app behind a trusted front');
});

test('F4: guesses spread over a few addresses (each under its own limit) must not lock the owner out of basic auth', async () => {
  const guesses: Promise<number>[] = [];
  for (let a = 0; a < 5; a++) {
    const guesser = clientFrom(`127.0.1.${a + 10}`);
    for (let i = 0; i < 8; i++) {
      const auth = `Basic ${Buffer.from(`owner:wrong-${a}-${i}`).toString('base64')}`;
      guesses.push(fetchThrough(guesser, proxy.port, 'vault.test', '/', { headers: { authorization: auth } }).then((r) => r.status));
    }
  }
  // The owner signs in (first time since start: not a remembered check) while the guesses run.
  await new Promise((resolve) => setTimeout(resolve, 60));
  const owner = await fetchThrough(clientFrom('127.0.2.1'), proxy.port, 'vault.test', '/', { headers: { authorization: `Basic ${Buffer.from('owner:right-password-1').toString('base64')}` } });
  const guessed = await Promise.all(guesses);
  console.log("F4", owner.status, guessed.join(" ")); assert.equal(owner.status, 200, `the owner got ${owner.status}; the guesses got ${guessed.join(' ')}`);
});
