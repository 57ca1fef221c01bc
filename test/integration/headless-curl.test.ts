// The admin API with curl, exactly as docs/api.md shows it: a user's shell, not our own client.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { ApiErrorBody } from '../../shared/api.js';
import type { Route } from '../../shared/model.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { needTools } from '../helpers/tools.js';
import { requestThrough, startEchoUpstream, type Upstream } from '../helpers/upstream.js';

const skip = needTools('curl');

describe('headless admin API with curl', { skip }, () => {
  let serve: ServeProcess;
  let upstream: Upstream;

  /** curl -s with the token; returns the HTTP status and the parsed body. */
  function curl(method: string, path: string, body?: unknown): { status: number; body: unknown } {
    const args = ['-sS', '-X', method, '-H', `Authorization: Bearer ${serve.token}`, '-w', '\n%{http_code}'];
    if (body !== undefined) args.push('-H', 'Content-Type: application/json', '-d', JSON.stringify(body));
    args.push(new URL(path, serve.adminUrl).href);
    const run = spawnSync('curl', args, { encoding: 'utf8', timeout: 15_000 });
    assert.equal(run.status, 0, run.stderr);
    const cut = run.stdout.lastIndexOf('\n');
    const text = run.stdout.slice(0, cut);
    return { status: Number(run.stdout.slice(cut + 1)), body: text ? JSON.parse(text) : null };
  }

  before(async () => {
    [serve, upstream] = await Promise.all([startServe(), startEchoUpstream('curl')]);
  });
  after(async () => {
    await Promise.all([serve?.stop(), upstream?.close()]);
  });

  test('without the token curl gets a 401 error body', () => {
    const run = spawnSync('curl', ['-sS', '-w', '\n%{http_code}', new URL('/api/routes', serve.adminUrl).href], { encoding: 'utf8' });
    const [body, status] = run.stdout.split('\n');
    assert.equal(status, '401');
    assert.equal((JSON.parse(body!) as ApiErrorBody).error.code, 'unauthorized');
  });

  test('add, list, change and remove a route', async () => {
    const added = curl('POST', '/api/routes', { title: 'Curl', names: ['curl.test'], upstream: upstream.address });
    assert.equal(added.status, 200);
    const route = added.body as Route;
    assert.equal((await requestThrough(serve.proxyPort!, 'curl.test')).status, 200);

    const list = curl('GET', '/api/routes');
    assert.deepEqual(list.body, [route]);

    const changed = curl('PUT', `/api/routes/${route.id}`, { title: 'Curl', names: ['curl.test'], upstream: upstream.address, enabled: false });
    assert.equal(changed.status, 200);
    assert.equal((changed.body as Route).enabled, false);

    const removed = curl('DELETE', `/api/routes/${route.id}`);
    assert.equal(removed.status, 200);
    assert.equal((removed.body as { removed: Route }).removed.id, route.id);
    assert.deepEqual(curl('GET', '/api/routes').body, []);
  });

  test('a bad field is a 400 naming it', () => {
    const refused = curl('POST', '/api/routes', { names: ['ok.test', 'http://bad.test/'], upstream: upstream.address });
    assert.equal(refused.status, 400);
    assert.equal((refused.body as ApiErrorBody).error.issues?.[0]?.path, 'names.1');
  });

  test('start, stop, stats and settings', () => {
    assert.equal((curl('POST', '/api/proxy/stop').body as { state: string }).state, 'stopped');
    assert.equal((curl('POST', '/api/proxy/start').body as { state: string }).state, 'running');
    assert.equal(curl('GET', '/api/stats').status, 200);
    const patched = curl('PATCH', '/api/settings', { proxy: { timeouts: { upstreamConnectMs: 3000 } } });
    assert.equal(patched.status, 200);
    assert.equal((patched.body as { proxy: { timeouts: { upstreamConnectMs: number } } }).proxy.timeouts.upstreamConnectMs, 3000);
  });
});
