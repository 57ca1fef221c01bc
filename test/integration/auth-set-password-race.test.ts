// `gatehouse set-password` run while serve is in the middle of a change to admin-auth.json (here: a
// change held open on purpose, as a periodic session save or a sign-in would be) is not undone when
// serve writes the file: the command waits for serve's write, then its password is what stays.
import assert from 'node:assert/strict';
import { verify } from '@node-rs/argon2';
import { after, before, test } from 'node:test';
import { readAuthFile } from '../../src-main/headless/auth/auth-file.js';
import { AuthStore } from '../../src-main/headless/auth/auth-store.js';
import { DEFAULT_SESSION_LIMITS } from '../../src-main/headless/auth/sessions.js';
import { PASSWORD, runSetPassword } from '../helpers/auth.js';
import { makeDataDir } from '../helpers/serve.js';

const NEW_PASSWORD = 'the password set from the command line';
let dataDir: string;
let store: AuthStore;

before(async () => {
  dataDir = await makeDataDir();
  assert.equal((await runSetPassword(dataDir, `${PASSWORD}\n`)).code, 0);
  store = await AuthStore.open(dataDir, DEFAULT_SESSION_LIMITS, Date.now);
});
after(async () => {
  await store?.close();
});

test('a set-password that lands during a change of serve survives serve\'s write', async () => {
  let command: ReturnType<typeof runSetPassword> | undefined;
  await store.serially(async () => {
    command = runSetPassword(dataDir, `${NEW_PASSWORD}\n`);
    // Long enough for the command to start, hash and (without the lock) write its file.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    store.sessions.create(Date.now());
  });
  const result = await command!;
  assert.equal(result.code, 0, result.stderr);
  const { data } = await readAuthFile(dataDir);
  assert.ok(data.password);
  assert.equal(await verify(data.password.hash, NEW_PASSWORD), true, 'the command\'s password was overwritten by serve\'s older copy');
  assert.deepEqual(data.sessions, [], 'the command signed every browser out, the session made meanwhile included');
  await store.refresh();
  assert.equal(await verify(store.data.password!.hash, NEW_PASSWORD), true, 'serve reads the new password');
});
