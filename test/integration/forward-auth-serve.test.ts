// Forward auth through the real `gatehouse serve`, set up over the API as a user would: a provider
// with the Authelia preset's path, a route that uses it. (The serve process loads only undici's
// pool, not its whole package: this is where a missing piece of undici shows.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AccessOverview, SignInProvider } from '../../shared/access.js';
import { startFakeAuthelia, SESSION_COOKIE, type FakeAuthelia } from '../fixtures/fake-authelia.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { requestFrom } from '../helpers/sign-in-proxy.js';
import { startEchoUpstream, type EchoBody, type Upstream } from '../helpers/upstream.js';

const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('forward auth through gatehouse serve', () => {
  let serve: ServeProcess;
  let upstream: Upstream;
  let authelia: FakeAuthelia;

  before(async () => {
    upstream = await startEchoUpstream('wiki');
    authelia = await startFakeAuthelia({ alice: { password: 'alice password 1', email: 'alice@example.test', groups: ['family'], displayName: 'Alice' } });
    authelia.portalUrl = 'https://auth.example.test';
    serve = await startServe();
  });

  after(async () => {
    await serve?.stop();
    await Promise.all([upstream?.close(), authelia?.close()]);
  });

  test('a provider and a route added over the API: no session → the login redirect, a session → Remote-User', async () => {
    const overview = (await (await serve.api('/api/access')).json()) as AccessOverview;
    const preset = overview.presets.find((candidate) => candidate.kind === 'authelia');
    assert.ok(preset);
    const added = await serve.api('/api/access/providers', { method: 'POST', ...json({ name: 'Authelia', kind: 'authelia', url: `${authelia.url}${preset.path}` }) });
    assert.equal(added.status, 200, await added.clone().text());
    const provider = (await added.json()) as SignInProvider;
    const route = await serve.api('/api/routes', {
      method: 'POST',
      ...json({ title: 'Wiki', names: ['wiki.test'], upstream: upstream.address, access: { exposure: 'anyone', signIn: { method: 'forward', providerId: provider.id } } }),
    });
    assert.equal(route.status, 200, await route.clone().text());

    const port = serve.proxyPort as number;
    const anonymous = await requestFrom(port, 'wiki.test', '/page');
    assert.equal(anonymous.status, 302);
    assert.equal(anonymous.headers.location, `https://auth.example.test/?rd=${encodeURIComponent('http://wiki.test/page')}&rm=GET`);
    const signedIn = await requestFrom(port, 'wiki.test', '/page', { headers: { cookie: `${SESSION_COOKIE}=${authelia.session('alice')}`, 'remote-user': 'mallory' } });
    assert.equal(signedIn.status, 200, signedIn.body);
    assert.equal((JSON.parse(signedIn.body) as EchoBody).headers['remote-user'], 'alice');
  });
});
