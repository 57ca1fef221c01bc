// Basic auth in front of a route, through the real `gatehouse serve`: users added over the API are
// stored only as argon2id hashes in a 0600 file; no credentials or wrong ones get 401 with the
// route's title as realm; the right ones reach the service as Remote-User, without the password;
// repeated failures from one address are refused with 429 — but a browser that already signed in
// keeps working; a changed password or a removed user stops the old one at once.
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AccessOverview, AccessUser } from '../../shared/access.js';
import type { Route } from '../../shared/model.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { basic, requestFrom } from '../helpers/sign-in-proxy.js';
import { startEchoUpstream, type EchoBody, type Upstream } from '../helpers/upstream.js';

const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const PASSWORD = 'correct horse battery';
const HOST = 'photos.test';

describe('basic auth through gatehouse serve', () => {
  let serve: ServeProcess;
  let upstream: Upstream;
  let port: number;

  before(async () => {
    upstream = await startEchoUpstream('photos');
    serve = await startServe();
    port = serve.proxyPort as number;
    assert.ok(port, 'the proxy is running');
  });

  after(async () => {
    await serve?.stop();
    await upstream?.close();
  });

  test('users: added over the API, listed by name only, stored as argon2id hashes in a 0600 file', async () => {
    const added = await serve.api('/api/access/users', { method: 'POST', ...json({ name: 'alice', password: PASSWORD }) });
    assert.equal(added.status, 200);
    const user = (await added.json()) as AccessUser;
    assert.deepEqual(Object.keys(user).sort(), ['name', 'passwordSetAt']);

    const again = await serve.api('/api/access/users', { method: 'POST', ...json({ name: 'Alice', password: 'another password' }) });
    assert.equal(again.status, 409);
    assert.match(((await again.json()) as { error: { message: string } }).error.message, /already called "alice"/);
    const unknown = await serve.api('/api/access/users/nobody', { method: 'DELETE' });
    assert.equal(unknown.status, 404);

    const overview = (await (await serve.api('/api/access')).json()) as AccessOverview;
    assert.deepEqual(overview.users, [user]);
    assert.deepEqual(overview.presets.map((preset) => [preset.kind, preset.path]), [
      ['authelia', '/api/authz/forward-auth'],
      ['authentik', '/outpost.goauthentik.io/auth/traefik'],
      ['tinyauth', '/api/auth/traefik'],
      ['oauth2-proxy', '/oauth2/auth'],
    ]);

    const file = join(serve.dataDir, 'access-users.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const text = await readFile(file, 'utf8');
    assert.match(text, /"hash": "\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.ok(!text.includes(PASSWORD), 'no plaintext password in the file');
  });

  test('a route with basic auth: 401 with the title as realm, then the right password reaches the service as Remote-User', async () => {
    const added = await serve.api('/api/routes', {
      method: 'POST',
      ...json({ title: 'Family photos', names: [HOST], upstream: upstream.address, access: { exposure: 'anyone', signIn: { method: 'basic', users: ['alice'] } } }),
    });
    assert.equal(added.status, 200, await added.clone().text());
    assert.equal(((await added.json()) as Route).access.signIn.method, 'basic');

    const none = await requestFrom(port, HOST, '/');
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Basic realm="Family photos", charset="UTF-8"');
    // The route's health check may reach the upstream meanwhile; no visitor request may.
    assert.equal(upstream.requests.filter((request) => request.headers['user-agent'] !== 'Gatehouse health check').length, 0);

    const wrong = await requestFrom(port, HOST, '/', { headers: basic('alice', 'not the password') });
    assert.equal(wrong.status, 401);

    const right = await requestFrom(port, HOST, '/album', { headers: { ...basic('alice', PASSWORD), 'remote-user': 'mallory', Remote_User: 'mallory' } });
    assert.equal(right.status, 200);
    const got = JSON.parse(right.body) as EchoBody;
    assert.equal(got.headers['remote-user'], 'alice');
    assert.equal(got.headers['remote_user'], undefined);
    assert.equal(got.headers.authorization, undefined, 'the password is not passed on');
  });

  test('ten wrong passwords from one address: 429 with Retry-After, other addresses and signed-in browsers unaffected', async () => {
    const guesser = '127.0.0.41';
    for (let i = 0; i < 10; i++) {
      assert.equal((await requestFrom(port, HOST, '/', { headers: basic('alice', `guess ${i}`), localAddress: guesser })).status, 401, `guess ${i}`);
    }
    const locked = await requestFrom(port, HOST, '/', { headers: basic('alice', 'guess 11'), localAddress: guesser });
    assert.equal(locked.status, 429);
    const retry = Number(locked.headers['retry-after']);
    assert.ok(retry > 200 && retry <= 300, `Retry-After ${retry} is the rest of the 5-minute window`);
    // The right password, already checked once, still works from the locked address.
    assert.equal((await requestFrom(port, HOST, '/', { headers: basic('alice', PASSWORD), localAddress: guesser })).status, 200);
    // Another address is judged on its own.
    assert.equal((await requestFrom(port, HOST, '/', { headers: basic('alice', 'guess'), localAddress: '127.0.0.42' })).status, 401);
  });

  test('a changed password or a removed user stops the old credentials at once', async () => {
    const changed = await serve.api('/api/access/users/alice', { method: 'PUT', ...json({ name: 'alice', password: 'a brand new password' }) });
    assert.equal(changed.status, 200, await changed.clone().text());
    assert.equal((await requestFrom(port, HOST, '/', { headers: basic('alice', PASSWORD) })).status, 401);
    assert.equal((await requestFrom(port, HOST, '/', { headers: basic('alice', 'a brand new password') })).status, 200);
    await serve.api('/api/access/users/alice', { method: 'DELETE' });
    assert.equal((await requestFrom(port, HOST, '/', { headers: basic('alice', 'a brand new password') })).status, 401);
    const overview = (await (await serve.api('/api/access')).json()) as AccessOverview;
    assert.deepEqual(overview.users, []);
  });

  test('a route may name a user who does not exist yet: saved, and nobody gets in by that name until the user is added', async () => {
    const added = await serve.api('/api/routes', {
      method: 'POST',
      ...json({ title: 'Bob only', names: ['bob.test'], upstream: upstream.address, access: { exposure: 'anyone', signIn: { method: 'basic', users: ['bob'] } } }),
    });
    assert.equal(added.status, 200, await added.clone().text());
    assert.equal((await requestFrom(port, 'bob.test', '/', { headers: basic('bob', 'bob password 1'), localAddress: '127.0.0.43' })).status, 401);
    assert.equal((await serve.api('/api/access/users', { method: 'POST', ...json({ name: 'bob', password: 'bob password 1' }) })).status, 200);
    assert.equal((await requestFrom(port, 'bob.test', '/', { headers: basic('bob', 'bob password 1'), localAddress: '127.0.0.43' })).status, 200);
  });
});
