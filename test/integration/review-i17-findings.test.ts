// Adversarial review of issue 17 (insight): defects found, each proven by a test that fails until
// it is fixed. Real gateway, real upstreams, real HTTP clients.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, test } from 'node:test';
import type { CapturedRequest, InspectorView } from '../../shared/insight.js';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { call } from '../helpers/gateway-calls.js';
import { inNamespace, scenarioResult } from '../helpers/netns.js';
import { localTls } from '../helpers/proxy-harness.js';
import { makeDataDir, repoRoot } from '../helpers/serve.js';
import { needTools } from '../helpers/tools.js';
import { requestThrough, startEchoUpstream, type Upstream } from '../helpers/upstream.js';
import { toHar } from '../../src-renderer/insight/inspector-format.js';

const local = localTls();

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('review of issue 17: the request inspector', () => {
  let dataDir: string;
  let gateway: Gateway;
  let echo: Upstream;
  let other: Upstream;
  let httpPort = 0;
  let httpsPort = 0;

  async function captures(routeId: string, count: number): Promise<InspectorView> {
    return waitFor(`${count} finished captures of ${routeId}`, async () => {
      const view = await call(gateway, 'getInspector', { routeId });
      return view.captures.filter((capture) => capture.phases.totalMs !== null).length >= count ? view : undefined;
    });
  }

  before(async () => {
    dataDir = await makeDataDir();
    echo = await startEchoUpstream('echo');
    other = await startEchoUpstream('other');
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    await gateway.startup();
    const status = await call(gateway, 'getStatus');
    assert.equal(status.state, 'running', JSON.stringify(status.problem));
    httpPort = status.http!.port;
    httpsPort = status.https!.port;
  });

  after(async () => {
    await gateway?.close();
    await Promise.all([echo?.close(), other?.close()]);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  // Jellyfin and Emby clients authenticate with `X-Emby-Authorization: MediaBrowser ..., Token="…"`;
  // many APIs use `X-Authorization`; Cloudflare's global key goes in `X-Auth-Key`. None of these names
  // is in the inspector's list nor matches its pattern (token|secret|password|api-key|session), so the
  // API returns their values in clear (and the UI's JSON/HAR export carries them).
  test('credential headers named like Authorization but not exactly (X-Emby-Authorization, X-Authorization, X-Auth-Key) are masked', async () => {
    const route = await call(gateway, 'addRoute', { title: 'Jellyfin', names: ['jellyfin.test'], upstream: echo.url });
    await call(gateway, 'setInspector', { routeId: route.id, enabled: true });
    const emby = 'MediaBrowser Client="Android", Device="Pixel", DeviceId="d1", Version="10.9", Token="emby-t0ken-4f3e2d1c0b"';
    const answer = await requestThrough(httpPort, 'jellyfin.test', '/Users/Me', {
      headers: { 'X-Emby-Authorization': emby, 'X-Authorization': 'Bearer x-auth-s3cret-77aa', 'X-Auth-Key': 'cf-gl0bal-key-1234567890' },
    });
    assert.equal(answer.status, 200);
    const view = await captures(route.id, 1);
    const json = JSON.stringify(view);
    for (const secret of ['emby-t0ken-4f3e2d1c0b', 'x-auth-s3cret-77aa', 'cf-gl0bal-key-1234567890']) {
      assert.ok(!json.includes(secret), `getInspector returns the credential ${secret} unmasked`);
    }
  });

  // Plex sends its token as `?X-Plex-Token=`, Jellyfin as `?api_key=`, OAuth clients as
  // `?access_token=`: the header of the same name is masked, but `path` shows the query as sent.
  test('secret query parameters (X-Plex-Token, api_key, access_token) are masked in the captured path', async () => {
    const route = await call(gateway, 'addRoute', { title: 'Plex', names: ['plex.test'], upstream: echo.url });
    await call(gateway, 'setInspector', { routeId: route.id, enabled: true });
    const answer = await requestThrough(httpPort, 'plex.test', '/library/sections?X-Plex-Token=plex-s3cret-aa11&api_key=jf-s3cret-bb22&access_token=oauth-s3cret-cc33&page=2');
    assert.equal(answer.status, 200);
    const view = await captures(route.id, 1);
    const capture = view.captures[0] as CapturedRequest;
    assert.ok(capture.path.startsWith('/library/sections?'), capture.path);
    assert.ok(capture.path.includes('page=2'), 'an ordinary parameter is still shown');
    const json = JSON.stringify(view);
    for (const secret of ['plex-s3cret-aa11', 'jf-s3cret-bb22', 'oauth-s3cret-cc33']) {
      assert.ok(!json.includes(secret), `getInspector returns the query secret ${secret} unmasked (path: ${capture.path})`);
    }
  });

  // A replay is sent to the proxy's own listener by Host name. If the inspected route no longer
  // answers that name (renamed) and another route does, the replay — with the captured
  // Authorization and Cookie — is delivered to that other route's upstream, and only afterwards does
  // the API say "not by this route". The captured credentials must never reach another app.
  test('a replay never delivers a capture (with its credentials) to another route that now owns the name', async () => {
    const route = await call(gateway, 'addRoute', { title: 'App', names: ['app.test'], upstream: echo.url });
    await call(gateway, 'setInspector', { routeId: route.id, enabled: true });
    const sent = await requestThrough(httpPort, 'app.test', '/account', { headers: { authorization: 'Bearer app-cr3dential-5566', cookie: 'sid=app-c00kie-7788' } });
    assert.equal(sent.status, 200);
    const original = (await captures(route.id, 1)).captures[0] as CapturedRequest;

    // The user moves the app to a new name, and later gives the old name to another service.
    await call(gateway, 'updateRoute', { ...route, names: ['app2.test'] });
    await call(gateway, 'addRoute', { title: 'Other', names: ['app.test'], upstream: other.url });
    const before = other.requests.length;

    let error: unknown = null;
    try {
      await call(gateway, 'replayRequest', { routeId: route.id, captureId: original.id });
    } catch (caught) {
      error = caught;
    }
    const leaked = other.requests.slice(before).filter((received) => received.headers.authorization === 'Bearer app-cr3dential-5566' || received.headers.cookie === 'sid=app-c00kie-7788');
    assert.equal(leaked.length, 0, `the replay delivered the captured Authorization/Cookie to another route's upstream (${other.url}); the API then said: ${(error as Error | null)?.message ?? 'nothing'}`);
  });

  // The UI's HAR export writes every request's URL as http://HOST/PATH and HTTP/1.1: a request that
  // came over HTTPS (or HTTP/2) is exported as plain HTTP, so a HAR viewer's "copy as curl" or
  // re-send goes to port 80 in clear. The API's CapturedRequest has no field saying which it was.
  test('the HAR export of a request that came over HTTPS has an https:// URL', async () => {
    const route = await call(gateway, 'addRoute', { title: 'Secure', names: ['secure.home.arpa'], upstream: echo.url, tls: local });
    await call(gateway, 'setInspector', { routeId: route.id, enabled: true });
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: httpsPort, servername: 'secure.home.arpa', path: '/over-tls', headers: { host: 'secure.home.arpa' }, rejectUnauthorized: false, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 200);
    const view = await captures(route.id, 1);
    const har = toHar(view.captures, 'test') as { log: { entries: { request: { url: string } }[] } };
    assert.equal(har.log.entries[0]?.request.url, 'https://secure.home.arpa/over-tls');
  });
});

// The replay connects to the listener's bind address (inspector-replay.ts loopback() keeps a
// specific address), but the proxy marks a request as the replay only when its peer is 127.0.0.1,
// ::1 or ::ffff:127.0.0.1 (inspector.ts isLoopback). With the proxy bound to the machine's LAN
// address (a common choice: serve one interface), the replay arrives from that address, is never
// matched, and every replay fails with "answered but not by this route" — after the upstream got it.
describe('review of issue 17: replay when the proxy is bound to the LAN address', () => {
  test('a replay works when the proxy listens on one LAN address only', { skip: needTools(['unshare', 'util-linux'], ['ip', 'iproute2']) }, async () => {
    const result = await inNamespace([process.execPath, '--import', 'tsx', join(repoRoot, 'test', 'fixtures', 'review-i17', 'replay-bound.ts')], { network: 'lan-address', timeoutMs: 60_000 });
    const outcome = scenarioResult<{ answered: number; captured: boolean; replay: { status: number | null; replay: boolean } | null; error: string | null; upstreamSaw: number }>(result);
    assert.equal(outcome.answered, 200, 'the original request went through');
    assert.ok(outcome.captured, 'the original request was captured');
    assert.equal(outcome.error, null, `the replay failed: ${outcome.error} (the upstream saw ${outcome.upstreamSaw} request(s) from it)`);
    assert.deepEqual(outcome.replay, { status: 200, replay: true });
  });
});

