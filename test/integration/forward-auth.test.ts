// Forward auth against a local server that follows Authelia's forward-auth contract
// (test/fixtures/fake-authelia.ts), with a real upstream that echoes what it received: a yes copies
// the provider's headers and only those, a no goes back to the client as it came, a provider that
// is down refuses (fail closed) without naming it, and WebSocket upgrades are asked too.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFakeAuthelia, SESSION_COOKIE, type FakeAuthelia } from '../fixtures/fake-authelia.js';
import { closeWs, openWs, proxySettings, roundTrip, startWsUpstream, type WsUpstream } from '../helpers/proxy-harness.js';
import { provider, requestFrom, signInRoute, startSignInProxy, type SignInProxy } from '../helpers/sign-in-proxy.js';
import { startEchoUpstream, startFixedUpstream, type EchoBody, type Upstream } from '../helpers/upstream.js';

const USERS = { alice: { password: 'alice password 1', email: 'alice@example.test', groups: ['admins', 'family'], displayName: 'Alice Example' } };

const ask = requestFrom;

describe('forward auth (Authelia contract)', () => {
  let authelia: FakeAuthelia;
  let echo: Upstream;
  let ws: WsUpstream;
  let oauth2: Upstream;
  let proxy: SignInProxy;
  let cookie: string;
  let deadPort: number;

  before(async () => {
    authelia = await startFakeAuthelia(USERS);
    authelia.portalUrl = 'https://auth.example.test';
    echo = await startEchoUpstream('app');
    ws = await startWsUpstream('ws-app');
    oauth2 = await startFixedUpstream('', { status: 401 });
    const dead = await startFixedUpstream('');
    deadPort = dead.port;
    await dead.close();
    cookie = `${SESSION_COOKIE}=${authelia.session('alice')}`;
    proxy = await startSignInProxy(
      [
        signInRoute('app', echo.url, ['app.example.test'], { method: 'forward', providerId: 'authelia' }, { title: 'Photos' }),
        signInRoute('extra', echo.url, ['extra.example.test'], { method: 'forward', providerId: 'custom' }),
        signInRoute('down', echo.url, ['down.example.test'], { method: 'forward', providerId: 'dead' }, { title: 'Notes' }),
        signInRoute('ws', ws.url, ['ws.example.test'], { method: 'forward', providerId: 'authelia' }),
        signInRoute('oauth', echo.url, ['oauth.example.test'], { method: 'forward', providerId: 'oauth2' }),
      ],
      {
        providers: [
          provider('authelia', 'authelia', `${authelia.url}/api/authz/forward-auth`),
          provider('custom', 'custom', `${authelia.url}/api/authz/forward-auth`, ['Remote-User', 'X-Extra_Role']),
          provider('dead', 'authelia', `http://127.0.0.1:${deadPort}/api/authz/forward-auth`),
          provider('oauth2', 'oauth2-proxy', `${oauth2.url}/oauth2/auth`),
        ],
        settings: { ...proxySettings(), errorDetails: 'nobody' },
      },
    );
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([authelia?.close(), echo?.close(), ws?.close(), oauth2?.close()]);
  });

  test('a yes passes, with the provider\'s Remote-* headers copied to the service and the user logged', async () => {
    const response = await ask(proxy.port, 'app.example.test', '/albums?year=2024', { headers: { cookie } });
    assert.equal(response.status, 200);
    const got = JSON.parse(response.body) as EchoBody;
    assert.equal(got.url, '/albums?year=2024');
    assert.equal(got.headers['remote-user'], 'alice');
    assert.equal(got.headers['remote-email'], 'alice@example.test');
    assert.equal(got.headers['remote-groups'], 'admins,family');
    assert.equal(got.headers['remote-name'], 'Alice Example');
    const entry = await proxy.nextLogged((e) => e.routeId === 'app' && e.status === 200);
    assert.equal(entry.user, 'alice');
  });

  test('the provider is told about the original request: X-Forwarded-Method/Proto/Host/Uri/For and the cookie', async () => {
    const before = authelia.asks.length;
    await ask(proxy.port, 'app.example.test', '/a/b?c=d', { method: 'DELETE', headers: { cookie, 'x-forwarded-for': '203.0.113.9', 'user-agent': 'test-agent/1' }, localAddress: '127.0.0.7' });
    const sent = authelia.asks[before];
    assert.ok(sent, 'the provider was asked');
    assert.equal(sent['x-forwarded-method'], 'DELETE');
    assert.equal(sent['x-forwarded-proto'], 'http');
    assert.equal(sent['x-forwarded-host'], 'app.example.test');
    assert.equal(sent['x-forwarded-uri'], '/a/b?c=d');
    // The client's real address, not what it claimed (the peer is not a trusted proxy).
    assert.equal(sent['x-forwarded-for'], '127.0.0.7');
    assert.equal(sent['x-original-url'], 'http://app.example.test/a/b?c=d');
    assert.equal(sent.cookie, cookie);
    assert.equal(sent['user-agent'], 'test-agent/1');
  });

  test('client-sent copies of the copied headers never reach the service, underscore twins included', async () => {
    const spoof = { cookie, 'remote-user': 'mallory', 'Remote_User': 'mallory', 'remote-groups': 'admins', 'x-extra-role': 'root', 'X_Extra_Role': 'root' };
    const viaAuthelia = JSON.parse((await ask(proxy.port, 'app.example.test', '/', { headers: spoof })).body) as EchoBody;
    assert.equal(viaAuthelia.headers['remote-user'], 'alice');
    assert.equal(viaAuthelia.headers['remote-groups'], 'admins,family');
    assert.equal(viaAuthelia.headers['remote_user'], undefined);
    // A copied name the provider did not send is dropped, not left as the client wrote it.
    const viaCustom = JSON.parse((await ask(proxy.port, 'extra.example.test', '/', { headers: spoof })).body) as EchoBody;
    assert.equal(viaCustom.headers['remote-user'], 'alice');
    assert.deepEqual(Object.keys(viaCustom.headers).filter((name) => name.replaceAll('_', '-') === 'x-extra-role'), []);
    assert.equal(viaCustom.headers['remote-groups'], 'admins', 'a header the custom provider does not copy passes as sent');
  });

  test('a redirect to the login page goes back to the client as it came', async () => {
    const before = echo.requests.length;
    const response = await ask(proxy.port, 'app.example.test', '/private?x=1');
    assert.equal(response.status, 302);
    assert.equal(response.headers.location, `https://auth.example.test/?rd=${encodeURIComponent('http://app.example.test/private?x=1')}&rm=GET`);
    assert.deepEqual(response.headers['set-cookie'], ['authelia_flow=1; Path=/; HttpOnly']);
    assert.match(response.body, /302 Found/);
    assert.equal(echo.requests.length, before, 'the service was not asked');
  });

  test('a 401 goes back as it came, WWW-Authenticate and body included', async () => {
    const response = await ask(proxy.port, 'app.example.test', '/api/save', { method: 'POST' });
    assert.equal(response.status, 401);
    assert.equal(response.headers['www-authenticate'], 'Fake-Authelia realm="login"');
    assert.equal(response.body, '401 Unauthorized');
  });

  test('a provider that is down refuses with 503, on a page that names neither it nor its address', async () => {
    const response = await ask(proxy.port, 'down.example.test', '/', { headers: { cookie, accept: 'text/html' } });
    assert.equal(response.status, 503);
    assert.match(response.body, /Notes cannot check who you are right now/);
    assert.doesNotMatch(response.body, new RegExp(`127\\.0\\.0\\.1|${deadPort}|authelia|forward-auth`, 'i'));
    const entry = await proxy.nextLogged((e) => e.routeId === 'down');
    assert.equal(entry.error, 'sign_in_unavailable');
    assert.match(entry.rule ?? '', /provider authelia dead unavailable/);
    assert.match(entry.detail ?? '', new RegExp(`127\\.0\\.0\\.1:${deadPort}`));
  });

  test('a provider that does not answer within 5 s refuses with 503 (fail closed)', async () => {
    authelia.delayMs = 6000;
    try {
      const started = performance.now();
      const response = await ask(proxy.port, 'app.example.test', '/slow', { headers: { cookie } });
      const took = performance.now() - started;
      assert.equal(response.status, 503);
      assert.ok(took >= 4900 && took < 5900, `refused after ${Math.round(took)} ms`);
      const entry = await proxy.nextLogged((e) => e.path === '/slow');
      assert.match(entry.detail ?? '', /UND_ERR_HEADERS_TIMEOUT/);
    } finally {
      authelia.delayMs = 0;
    }
  });

  test('a WebSocket upgrade asks the provider too: refused without a session, opened with one', async () => {
    await assert.rejects(openWs(proxy.port, 'ws.example.test', '/socket'), /refused with 302/);
    const before = authelia.asks.length;
    const socket = await new Promise<import('ws').WebSocket>((resolve, reject) => {
      void import('ws').then(({ WebSocket }) => {
        const client = new WebSocket(`ws://127.0.0.1:${proxy.port}/socket`, { headers: { host: 'ws.example.test', cookie, 'remote-user': 'mallory' } });
        client.once('open', () => resolve(client));
        client.once('error', reject);
        client.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
      });
    });
    try {
      assert.equal((await roundTrip(socket, 'hello')).data.toString(), 'hello');
      assert.equal(authelia.asks.length, before + 1);
      const upgrade = ws.upgrades.at(-1);
      assert.equal(upgrade?.headers['remote-user'], 'alice');
      const refused = await proxy.nextLogged((e) => e.routeId === 'ws' && e.status === 302);
      assert.match(refused.rule ?? '', /answered 302/);
    } finally {
      await closeWs(socket);
    }
    assert.equal((await proxy.nextLogged((e) => e.routeId === 'ws' && e.status === 101)).user, 'alice');
  });

  test('oauth2-proxy: its 401 to a page becomes a redirect to /oauth2/start with rd= the original URL', async () => {
    const page = await ask(proxy.port, 'oauth.example.test', '/dash?tab=1');
    assert.equal(page.status, 302);
    assert.equal(page.headers.location, `${oauth2.url}/oauth2/start?rd=${encodeURIComponent('http://oauth.example.test/dash?tab=1')}`);
    const api = await ask(proxy.port, 'oauth.example.test', '/api', { method: 'POST' });
    assert.equal(api.status, 401, 'an API call keeps the 401');
  });
});
