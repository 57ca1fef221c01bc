// The admin API of the real `gatehouse serve`, driven with fetch as the web UI does: the token is
// required, routes can be added, listed, changed and removed, bad input names the field, and a
// route added here answers through the proxy.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ApiErrorBody } from '../../shared/api.js';
import type { Route } from '../../shared/model.js';
import type { ProxyStatus } from '../../shared/status.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { requestThrough, startEchoUpstream, type EchoBody, type Upstream } from '../helpers/upstream.js';

const json = (body: unknown): RequestInit => ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

async function errorOf(response: Response, status: number): Promise<ApiErrorBody['error']> {
  assert.equal(response.status, status, `expected HTTP ${status}`);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const body = (await response.json()) as ApiErrorBody;
  assert.equal(typeof body.error.message, 'string');
  return body.error;
}

describe('headless admin API', () => {
  let serve: ServeProcess;
  let upstream: Upstream;

  before(async () => {
    [serve, upstream] = await Promise.all([startServe(), startEchoUpstream('api')]);
  });
  after(async () => {
    await Promise.all([serve?.stop(), upstream?.close()]);
  });

  test('every /api path needs the bearer token', async () => {
    for (const path of ['/api/routes', '/api/proxy', '/api/nope', '/api/events']) {
      const missing = await fetch(new URL(path, serve.adminUrl));
      assert.equal((await errorOf(missing, 401)).code, 'unauthorized', path);
      assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
    const wrong = await fetch(new URL('/api/routes', serve.adminUrl), { headers: { authorization: `Bearer ${serve.token.slice(0, -1)}x` } });
    assert.equal((await errorOf(wrong, 401)).code, 'unauthorized');
    const notBearer = await fetch(new URL('/api/routes', serve.adminUrl), { headers: { authorization: `Basic ${serve.token}` } });
    assert.equal(notBearer.status, 401);
    assert.equal((await serve.api('/api/routes')).status, 200);
  });

  test('add, list, change and remove a route', async () => {
    const added = await serve.api('/api/routes', { method: 'POST', ...json({ title: 'Echo', names: ['echo.test'], upstream: upstream.address }) });
    assert.equal(added.status, 200);
    const route = (await added.json()) as Route;
    assert.equal(route.upstreams[0]?.url, upstream.url);
    assert.equal(route.enabled, true);

    assert.deepEqual(await (await serve.api('/api/routes')).json(), [route]);
    assert.deepEqual(await (await serve.api(`/api/routes/${route.id}`)).json(), route);

    const changed = await serve.api(`/api/routes/${route.id}`, { method: 'PUT', ...json({ title: 'Echo 2', names: ['echo.test', 'echo2.test'], upstream: upstream.url }) });
    assert.equal(changed.status, 200);
    assert.deepEqual(((await changed.json()) as Route).names, ['echo.test', 'echo2.test']);

    const removed = await serve.api(`/api/routes/${route.id}`, { method: 'DELETE' });
    assert.equal(((await removed.json()) as { removed: Route }).removed.id, route.id);
    assert.deepEqual(await (await serve.api('/api/routes')).json(), []);
    assert.equal((await errorOf(await serve.api(`/api/routes/${route.id}`), 404)).code, 'not_found');
  });

  test('a route added through the API answers through the proxy', async () => {
    assert.ok(serve.proxyPort, 'the proxy is running');
    const added = (await (await serve.api('/api/routes', { method: 'POST', ...json({ names: ['through.test'], upstream: upstream.address }) })).json()) as Route;
    const answer = await requestThrough(serve.proxyPort, 'through.test', '/some/path?q=1');
    assert.equal(answer.status, 200);
    const echoed = JSON.parse(answer.body) as EchoBody;
    assert.equal(echoed.upstream, 'api');
    assert.equal(echoed.url, '/some/path?q=1');
    assert.equal(echoed.headers.host, 'through.test');

    const status = (await (await serve.api('/api/proxy')).json()) as ProxyStatus;
    assert.equal(status.state, 'running');
    assert.equal(status.routeCount, 1);
    await serve.api(`/api/routes/${added.id}`, { method: 'DELETE' });
  });

  test('invalid input is a 400 naming the field', async () => {
    const error = await errorOf(await serve.api('/api/routes', { method: 'POST', ...json({ names: ['has space.test'], upstream: upstream.address }) }), 400);
    assert.equal(error.code, 'invalid_input');
    assert.equal(error.issues?.[0]?.path, 'names.0');
    assert.match(error.message, /^names\.0: .*contains a space/);

    const unknown = await errorOf(await serve.api('/api/routes', { method: 'POST', ...json({ names: ['a.test'], upstream: upstream.address, colour: 'red' }) }), 400);
    assert.match(unknown.message, /unknown field: colour/);

    const limit = await errorOf(await serve.api('/api/log?limit=0'), 400);
    assert.equal(limit.issues?.[0]?.path, 'limit');
    assert.equal((await serve.api('/api/log?limit=3')).status, 200, 'query values are coerced by the schema');

    const settings = await errorOf(await serve.api('/api/settings', { method: 'PATCH', ...json({ proxy: { httpPort: 70000 } }) }), 400);
    assert.equal(settings.issues?.[0]?.path, 'proxy.httpPort');

    const mismatch = await errorOf(await serve.api('/api/routes/abc', { method: 'PUT', ...json({ id: 'xyz', names: ['a.test'], upstream: upstream.address }) }), 400);
    assert.equal(mismatch.issues?.[0]?.path, 'id');
  });

  test('a name another route has is a 409 conflict naming that route', async () => {
    const first = (await (await serve.api('/api/routes', { method: 'POST', ...json({ title: 'Photos', names: ['photos.test'], upstream: upstream.address }) })).json()) as Route;
    const error = await errorOf(await serve.api('/api/routes', { method: 'POST', ...json({ names: ['photos.test'], upstream: upstream.address }) }), 409);
    assert.equal(error.code, 'conflict');
    assert.match(error.message, /"photos\.test" already belongs to the route "Photos"/);
    await serve.api(`/api/routes/${first.id}`, { method: 'DELETE' });
  });

  test('bad JSON is a 400 saying so; a body that is not JSON is 415; over 1 MiB is 413', async () => {
    const bad = await errorOf(await serve.api('/api/routes', { method: 'POST', body: '{"names": [', headers: { 'content-type': 'application/json' } }), 400);
    assert.equal(bad.code, 'invalid_input');
    assert.match(bad.message, /not valid JSON/);

    const array = await errorOf(await serve.api('/api/routes', { method: 'POST', ...json(['a']) }), 400);
    assert.match(array.message, /must be a JSON object/);

    const form = await errorOf(await serve.api('/api/routes', { method: 'POST', body: 'names=a.test', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415);
    assert.match(form.message, /application\/json/);

    const huge = JSON.stringify({ names: ['a.test'], upstream: upstream.address, title: 'x'.repeat(2 * 1024 * 1024) });
    const large = await errorOf(await serve.api('/api/routes', { method: 'POST', body: huge, headers: { 'content-type': 'application/json' } }), 413);
    assert.match(large.message, /1 MiB/);
    // Without a Content-Length the limit is enforced while reading.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 40; i++) controller.enqueue(new TextEncoder().encode(i === 0 ? '{"title": "' : 'y'.repeat(64 * 1024)));
        controller.close();
      },
    });
    const streamed = await serve.api('/api/routes', { method: 'POST', body: chunks, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit);
    assert.equal((await errorOf(streamed, 413)).code, 'invalid_input');
    assert.deepEqual(await (await serve.api('/api/routes')).json(), [], 'nothing was added');

    const empty = await serve.api('/api/proxy/start', { method: 'POST' });
    assert.equal(empty.status, 200, 'a POST without a body is an empty input');
  });

  test('an unknown endpoint is a 404; a known path with the wrong method is a 405', async () => {
    const unknown = await errorOf(await serve.api('/api/nothing/here'), 404);
    assert.equal(unknown.code, 'not_found');
    const wrongMethod = await serve.api('/api/stats', { method: 'DELETE' });
    assert.equal((await errorOf(wrongMethod, 405)).code, 'not_found');
    assert.equal(wrongMethod.headers.get('allow'), 'GET');
  });

  test('stats, settings and start/stop answer', async () => {
    assert.ok(Array.isArray(((await (await serve.api('/api/stats')).json()) as { routes: unknown[] }).routes));
    const settings = (await (await serve.api('/api/settings')).json()) as { admin: { port: number } };
    assert.equal(settings.admin.port, 4780, 'the saved admin port (this run uses --admin-port 0)');
    const stopped = (await (await serve.api('/api/proxy/stop', { method: 'POST' })).json()) as ProxyStatus;
    assert.equal(stopped.state, 'stopped');
    const started = (await (await serve.api('/api/proxy/start', { method: 'POST' })).json()) as ProxyStatus;
    assert.equal(started.state, 'running');
  });

  test('the web UI is served with the security headers', async () => {
    for (const path of ['/', '/api/routes']) {
      const response = path === '/' ? await fetch(new URL(path, serve.adminUrl)) : await serve.api(path);
      const csp = response.headers.get('content-security-policy') ?? '';
      for (const directive of ["default-src 'self'", "script-src 'self'", "connect-src 'self'", "object-src 'none'", "frame-ancestors 'none'"]) {
        assert.ok(csp.split('; ').includes(directive), `CSP has ${directive}: ${csp}`);
      }
      assert.doesNotMatch(csp, /unsafe-eval|\*/, 'no eval, no wildcard sources');
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(response.headers.get('x-frame-options'), 'DENY');
      await response.arrayBuffer();
    }
    const page = await fetch(new URL('/', serve.adminUrl));
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = await page.text();
    // With dist/renderer built this is the app; without it, a page saying how to build it.
    if (page.status === 503) assert.match(html, /npm run build/);
    else assert.equal(page.status, 200);

    const traversal = await fetch(new URL('/%2e%2e/%2e%2e/package.json', serve.adminUrl));
    assert.equal(traversal.status, 404);
    await traversal.arrayBuffer();
  });
});
