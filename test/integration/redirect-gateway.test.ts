// A redirect route in a real gateway: saved through the API with HTTPS from the local CA, it sends
// plain HTTP to HTTPS first and then answers over verified HTTPS with its own redirect; its health is
// "up" with no upstreams, the doctor says there is nothing upstream to check, and its requests are
// counted in the stats and the history like any route's.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { call, rejectsWith } from '../helpers/gateway-calls.js';
import { makeDataDir } from '../helpers/serve.js';
import { httpsGet } from '../helpers/tls-clients.js';
import { requestThrough } from '../helpers/upstream.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (values: readonly (number | null)[]) => values.reduce<number>((total, value) => total + (value ?? 0), 0);

describe('a redirect route in a running gateway', () => {
  let gateway: Gateway;
  let dataDir: string;
  let caPath: string;
  const ports = { http: 0, https: 0 };
  let routeId: string;

  before(async () => {
    dataDir = await makeDataDir();
    caPath = join(dataDir, 'downloaded-ca.pem');
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' }, mdnsEnvironment: 'off' });
    await gateway.startup();
    const status = await call(gateway, 'getStatus');
    assert.equal(status.state, 'running', JSON.stringify(status.problem));
    ports.http = status.http!.port;
    ports.https = status.https!.port;
  });
  after(async () => {
    await gateway?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('a route with neither upstreams nor a redirect, or with both, is refused with what to fix', async () => {
    const none = await rejectsWith((async () => call(gateway, 'addRoute', { names: ['none.home.arpa'], upstreams: [] }))(), 'invalid_input');
    assert.match(none.message, /upstreams: a route needs at least one upstream/);
    const both = await rejectsWith((async () => call(gateway, 'addRoute', { names: ['both.home.arpa'], upstream: '127.0.0.1:9', redirect: { to: 'https://new.example' } }))(), 'invalid_input');
    assert.match(both.message, /a redirect route has no upstreams: remove them, or turn the redirect off/);
    assert.equal((await call(gateway, 'listRoutes')).length, 0);
  });

  test('HTTP goes to HTTPS, and HTTPS (local CA, verified) answers with the redirect', async () => {
    const route = await call(gateway, 'addRoute', {
      title: 'Old blog',
      names: ['blog.home.arpa'],
      upstreams: [],
      redirect: { to: 'https://journal.example.net/', status: 308 },
      tls: { mode: 'local', redirectHttp: true },
    });
    routeId = route.id;
    assert.deepEqual(route.redirect, { to: 'https://journal.example.net', status: 308, keepPath: true });
    const download = await call(gateway, 'downloadCa', { format: 'pem' });
    await writeFile(caPath, Buffer.from(download.base64, 'base64'));

    const plain = await requestThrough(ports.http, 'blog.home.arpa', '/2024/post?x=1');
    assert.equal(plain.status, 308);
    assert.equal(plain.headers.location, `https://blog.home.arpa:${ports.https}/2024/post?x=1`, 'first to HTTPS on the same name');
    const secure = await httpsGet(ports.https, 'blog.home.arpa', caPath, { path: '/2024/post?x=1' });
    assert.equal(secure.status, 308);
    assert.equal(secure.headers.location, 'https://journal.example.net/2024/post?x=1');
    assert.match(secure.certificate.subjectAltName ?? '', /blog\.home\.arpa/);
  });

  test('its health is up with no upstreams, and the doctor has no upstream to check', async () => {
    const health = (await call(gateway, 'getHealth')).find((entry) => entry.routeId === routeId);
    assert.equal(health?.state, 'up');
    assert.deepEqual(health?.upstreams, []);
    const report = await call(gateway, 'runDoctor', { routeId });
    const upstream = report.checks.filter((check) => check.step === 'upstream');
    assert.deepEqual(upstream.map((check) => [check.id, check.state]), [['upstream:redirect', 'skipped']]);
    assert.match(upstream[0]!.says, /redirects to https:\/\/journal\.example\.net \(308, path kept\)/);
  });

  test('redirects are counted in the stats and the history', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await httpsGet(ports.https, 'blog.home.arpa', caPath, { path: `/n/${i}` })).status, 308);
    const stats = (await call(gateway, 'getStats')).routes.find((entry) => entry.routeId === routeId);
    assert.ok((stats?.requests ?? 0) >= 5, JSON.stringify(stats));
    assert.equal(stats?.errors, 0);
    let requests = 0;
    for (let waited = 0; requests < 5; waited += 500) {
      assert.ok(waited < 30_000, `the history shows the redirects within 30 s (has ${requests})`);
      await sleep(500);
      const history = await call(gateway, 'getHistory', { routeId, range: '1h' });
      assert.deepEqual(history.upstreams, [], 'no upstream series');
      requests = sum(history.series.requests);
    }
  });
});
