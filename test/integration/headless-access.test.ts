// Access lists and "would this address get in" through the real `gatehouse serve` and its admin
// API, as the web UI drives them: checkAccess answers 404 for a route that does not exist and the
// steps for one that does; a list is created, attached to a route, then edited, and the edit
// decides the very next request (clients bound to 127.x.y.z) with no re-save of the route.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { AccessList, AccessVerdict } from '../../shared/access.js';
import type { ApiErrorBody } from '../../shared/api.js';
import type { Route } from '../../shared/model.js';
import { settingsFile } from '../helpers/gateway-calls.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { startEchoUpstream, type Upstream } from '../helpers/upstream.js';

const json = (method: string, body: unknown): RequestInit => ({ method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

/** GET through the proxy from `localAddress`: the status and the X-Gatehouse-Error code. */
function through(port: number, host: string, localAddress: string): Promise<{ status: number; code: string | null }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', localAddress, agent: false, headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: (res.headers['x-gatehouse-error'] as string | undefined) ?? null }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from the proxy for ${host} from ${localAddress}`)));
    req.on('error', reject);
    req.end();
  });
}

describe('access lists and checkAccess through gatehouse serve', () => {
  let serve: ServeProcess;
  let upstream: Upstream;
  let route: Route;

  const api = async <T>(path: string, init?: RequestInit, status = 200): Promise<T> => {
    const response = await serve.api(path, init);
    const body = (await response.json()) as T;
    assert.equal(response.status, status, `${init?.method ?? 'GET'} ${path}: ${JSON.stringify(body)}`);
    return body;
  };

  before(async () => {
    [serve, upstream] = await Promise.all([startServe(), startEchoUpstream('access')]);
    route = await api<Route>('/api/routes', json('POST', { title: 'Photos', names: ['photos.test'], upstream: upstream.url }));
  });
  after(async () => {
    await Promise.all([serve?.stop(), upstream?.close()]);
  });

  test('a new route is open to this network only', async () => {
    assert.equal(route.access.exposure, 'lan');
    assert.equal((await through(serve.proxyPort as number, 'photos.test', '127.0.0.9')).status, 200);
  });

  test('checkAccess: 404 naming the route for one that does not exist, each step for one that does', async () => {
    const missing = await api<ApiErrorBody>('/api/access/check', json('POST', { routeId: 'nope', address: '203.0.113.5' }), 404);
    assert.equal(missing.error.code, 'not_found');
    assert.match(missing.error.message, /There is no route "nope"/);
    const bad = await api<ApiErrorBody>('/api/access/check', json('POST', { routeId: route.id, address: '203.0.113' }), 400);
    assert.match(bad.error.message, /enter an IP address/);

    const verdict = await api<AccessVerdict>('/api/access/check', json('POST', { routeId: route.id, address: '203.0.113.5' }));
    assert.equal(verdict.admitted, false);
    assert.equal(verdict.lan, false);
    assert.equal(verdict.country, 'AU', 'TEST-NET-3 is AU in this database');
    assert.deepEqual(
      verdict.steps.map((step) => [step.step, step.outcome, step.rule]),
      [
        ['list', 'skip', null],
        ['exposure', 'deny', 'exposure: this network only'],
        ['country', 'skip', null],
        ['reputation', 'skip', null],
        ['limits', 'skip', null],
        ['sign-in', 'skip', null],
      ],
    );
    const home = await api<AccessVerdict>('/api/access/check', json('POST', { routeId: route.id, address: '192.168.1.20' }));
    assert.deepEqual([home.admitted, home.lan, home.country, home.signIn], [true, true, null, 'none']);
  });

  test('a list attached to a route decides its next request; editing the list changes the one after, with no re-save', async () => {
    const port = serve.proxyPort as number;
    const list = await api<AccessList>('/api/access/lists', json('POST', { name: 'Kids', entries: [{ action: 'deny', range: '127.0.0.9', note: 'tablet' }] }));
    route = await api<Route>(`/api/routes/${route.id}`, json('PUT', { ...route, id: undefined, access: { ...route.access, lists: [list.id] } }));
    assert.deepEqual(route.access.lists, [list.id]);

    assert.deepEqual(await through(port, 'photos.test', '127.0.0.9'), { status: 403, code: 'access_denied' });
    assert.equal((await through(port, 'photos.test', '127.0.0.10')).status, 200);
    const savedRoute = (await settingsFile(serve.dataDir)).routes.find((candidate) => candidate.id === route.id);

    await api<AccessList>(`/api/access/lists/${list.id}`, json('PUT', { name: 'Kids', entries: [{ action: 'deny', range: '127.0.0.10', note: 'phone' }] }));
    assert.equal((await through(port, 'photos.test', '127.0.0.9')).status, 200, 'the edit applies to the next request');
    assert.deepEqual(await through(port, 'photos.test', '127.0.0.10'), { status: 403, code: 'access_denied' });
    assert.deepEqual((await settingsFile(serve.dataDir)).routes.find((candidate) => candidate.id === route.id), savedRoute, 'the route was not saved again');

    const verdict = await api<AccessVerdict>('/api/access/check', json('POST', { routeId: route.id, address: '127.0.0.10' }));
    assert.equal(verdict.admitted, false);
    assert.deepEqual(verdict.steps[0], { step: 'list', outcome: 'deny', rule: 'list "Kids": deny 127.0.0.10 (phone)', reason: '"Kids" refuses 127.0.0.10' });

    const log = await api<{ client: string; rule: string | null; error: string | null }[]>('/api/log?limit=20');
    const refused = log.findLast((entry) => entry.client === '127.0.0.10');
    assert.deepEqual([refused?.error, refused?.rule], ['access_denied', 'list "Kids": deny 127.0.0.10 (phone)']);
  });
});
