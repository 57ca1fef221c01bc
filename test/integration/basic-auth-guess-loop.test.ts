// Guessers spread over many addresses, each sending several different guesses at once, cannot keep
// the owner out of basic auth through the shared argon2 queue (review F4), nor the admin sign-in,
// which has its own queue. A busy answer counts against the guesser, so each address locks itself.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FAILURE_LIMIT } from '../../src-main/core/access/basic-auth.js';
import { hashPassword, passwordMatches } from '../../src-main/headless/auth/password-hash.js';
import { closeClients, clientFrom, openRoute, startGuardedProxy, type GuardedProxy } from '../helpers/limits-harness.js';
import { echoHandler, fetchThrough, startServer, type TestServer } from '../helpers/proxy-harness.js';

let upstream: TestServer;
let proxy: GuardedProxy;

before(async () => {
  upstream = await startServer(echoHandler('app'));
  proxy = await startGuardedProxy([openRoute('vault', upstream.url, { signIn: { method: 'basic', users: 'all' } })]);
  await proxy.runtime.signIn.addUser('owner', 'right-password-1');
});

after(async () => {
  await closeClients();
  await proxy.stop();
  await upstream.close();
});

const basic = (name: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` });

test('20 addresses x 4 different guesses at once: the owner signs in, the admin sign-in is not refused, every guesser locks', async () => {
  const adminHash = await hashPassword('admin secret');
  const seen: number[] = [];
  const sent = Array.from({ length: 20 }, () => 0);
  // 2.5 s of guessing, longer on a busy machine until five guessers reached the limit (15 s at most).
  const softStop = Date.now() + 2500;
  const hardStop = Date.now() + 15_000;
  const keepGuessing = () => Date.now() < hardStop && (Date.now() < softStop || sent.filter((count) => count >= FAILURE_LIMIT).length < 5);
  const guessers = Array.from({ length: 20 }, async (_, a) => {
    const guesser = clientFrom(`127.0.3.${a + 10}`);
    for (let i = 0; keepGuessing(); i++) {
      await Promise.all(Array.from({ length: 4 }, (_, j) => fetchThrough(guesser, proxy.port, 'vault.test', '/', { headers: basic('owner', `wrong-${a}-${i}-${j}`) }).then((r) => { sent[a] = (sent[a] ?? 0) + 1; seen.push(r.status); })));
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  // The queue is full of guesses now; the owner's first sign-in since start is a real hash.
  const owner = await fetchThrough(clientFrom('127.0.2.2'), proxy.port, 'vault.test', '/', { headers: basic('owner', 'right-password-1') });
  const admin = await passwordMatches(adminHash, 'admin secret');
  await Promise.all(guessers);
  const busyOrLocked = seen.filter((s) => s === 429).length;
  console.log('owner', owner.status, 'guesses', seen.length, '401s', seen.filter((s) => s === 401).length, '429s', busyOrLocked);
  assert.equal(owner.status, 200, `the owner got ${owner.status}`);
  assert.equal(admin, true, 'the admin sign-in was refused while guesses filled the routes queue');
  assert.ok(busyOrLocked > 0, 'the queue never filled: the test did not load it');
  // Every guesser that sent FAILURE_LIMIT guesses is locked now: busy answers and wrong passwords
  // both counted. (On a slow machine not every one gets that far.)
  const far = sent.flatMap((count, a) => (count >= FAILURE_LIMIT ? [a] : []));
  assert.ok(far.length >= 5, `only ${far.length} guessers sent ${FAILURE_LIMIT} guesses: ${sent.join(' ')}`);
  for (const a of far) {
    const res = await fetchThrough(clientFrom(`127.0.3.${a + 10}`), proxy.port, 'vault.test', '/', { headers: basic('owner', 'one-more') });
    assert.equal(res.status, 429, `guesser ${a} sent ${sent[a]} guesses and is not locked`);
    assert.ok(res.headers['retry-after'], 'a lock says when to try again');
  }
});
