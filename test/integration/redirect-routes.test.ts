// Redirect routes through the real request path: a ProxyEngine with an AccessRuntime's passes,
// clients on this machine, and an "internet client" in a network namespace
// (test/helpers/outside-client.ts). A redirect route answers with its status and a Location built
// from the fixed target plus (when keepPath) the request's path and query; the request's path can
// never change the host; a LAN-only redirect stays LAN-only; every answer is counted.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultAccessSettings, defaultRouteAccess } from '../../shared/access.js';
import { defaultSettings, RouteSchema, type Route } from '../../shared/model.js';
import type { AccessLogEntry } from '../../shared/status.js';
import { AccessRuntime } from '../../src-main/core/access/access-runtime.js';
import { OwnNetworks } from '../../src-main/core/net/own-networks.js';
import { ProxyEngine } from '../../src-main/core/proxy/engine.js';
import { needOutsideClient, OutsideClient } from '../helpers/outside-client.js';
import { waitUntil, within } from '../helpers/proxy-harness.js';

const skip = needOutsideClient('curl');

interface Answer {
  status: number;
  location: string | undefined;
  body: string;
}

function redirectRoute(id: string, redirect: Route['redirect'], exposure: 'lan' | 'anyone' = 'anyone'): Route {
  return RouteSchema.parse({ id, names: [`${id}.test`], upstreams: [], redirect, access: { ...defaultRouteAccess(), exposure } });
}

describe('redirect routes on a running proxy', { skip }, () => {
  let outside: OutsideClient;
  let access: AccessRuntime;
  let engine: ProxyEngine;
  let port: number;
  let dataDir: string;
  const logged: AccessLogEntry[] = [];

  const get = (host: string, path: string, method = 'GET'): Promise<Answer> =>
    within(
      new Promise<Answer>((resolve, reject) => {
        const req = httpRequest({ host: outside.hostAddress, port, path, method, localAddress: '127.0.0.1', agent: false, headers: { host } }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (text: string) => (body += text));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
        });
        req.on('error', reject);
        req.end();
      }),
      10_000,
      `${method} ${host}${path}`,
    );

  /** A request head written byte for byte (paths no client library would send). */
  const raw = (head: string): Promise<string> =>
    within(
      new Promise<string>((resolve, reject) => {
        const socket = connect({ host: outside.hostAddress, port, localAddress: '127.0.0.1' }, () => socket.write(head));
        let text = '';
        socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        socket.on('end', () => resolve(text));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      }),
      10_000,
      'a raw request',
    );

  before(async () => {
    outside = await OutsideClient.create();
    dataDir = await mkdtemp(join(tmpdir(), 'gh-redirect-'));
    const ownNetworks = new OwnNetworks();
    access = await AccessRuntime.open({ dataDir, ownNetworks, settings: defaultAccessSettings() });
    engine = new ProxyEngine({
      settings: { ...defaultSettings().proxy, httpPort: 0, bindAddress: outside.hostAddress, trustedProxies: [] },
      stopGraceMs: 500,
      onRequestLogged: (entry) => logged.push(entry),
      ownNetworks,
      passesFor: access.passesFor,
    });
    engine.setRoutes([
      redirectRoute('old', { to: 'https://new.example', status: 301, keepPath: true }),
      redirectRoute('app', { to: 'https://new.example/app/', status: 308, keepPath: true }),
      redirectRoute('flat', { to: 'https://new.example/landing', status: 302, keepPath: false }),
      redirectRoute('bare', { to: 'http://www.example', status: 307, keepPath: false }),
      redirectRoute('lan', { to: 'https://new.example', status: 301, keepPath: true }, 'lan'),
    ]);
    port = (await engine.start()).port;
  });

  after(async () => {
    await engine?.stop();
    await access?.close();
    await outside?.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('301 with the path and query kept', async () => {
    const answer = await get('old.test', '/photos/2024?album=summer&sort=asc');
    assert.equal(answer.status, 301);
    assert.equal(answer.location, 'https://new.example/photos/2024?album=summer&sort=asc');
    assert.match(answer.body, /Redirecting to https:\/\/new\.example\/photos/);
  });

  test('308 onto a target with a path: the request path follows it (the trailing slash was dropped when saved)', async () => {
    const answer = await get('app.test', '/login?next=%2F', 'POST');
    assert.equal(answer.status, 308);
    assert.equal(answer.location, 'https://new.example/app/login?next=%2F');
  });

  test('keepPath off sends every request to the target itself', async () => {
    const flat = await get('flat.test', '/deep/page?x=1');
    assert.deepEqual([flat.status, flat.location], [302, 'https://new.example/landing']);
    const bare = await get('bare.test', '/anything');
    assert.deepEqual([bare.status, bare.location], [307, 'http://www.example/']);
  });

  test('a path that looks like another host stays on the target host', async () => {
    for (const path of ['//evil.example/steal', '/\\evil.example', '//evil.example']) {
      const answer = await get('old.test', path);
      assert.equal(answer.status, 301);
      const location = answer.location ?? '';
      assert.equal(new URL(location).host, 'new.example', `${path} → ${location}`);
      assert.ok(location.startsWith('https://new.example/'), location);
    }
    // A request target that is not origin-form ("@evil.example") must not join the authority.
    const text = await raw('GET @evil.example HTTP/1.1\r\nHost: old.test\r\nConnection: close\r\n\r\n');
    const location = /\r\nlocation: ([^\r]*)/i.exec(text)?.[1];
    if (location !== undefined) assert.equal(new URL(location).host, 'new.example', location);
    else assert.match(text, /^HTTP\/1\.1 400/, text.slice(0, 200));
  });

  test('a WebSocket upgrade on a redirect route gets the redirect, and the proxy carries on', async () => {
    const text = await raw('GET /ws?room=1 HTTP/1.1\r\nHost: old.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 301 /, text.slice(0, 200));
    assert.match(text, /\r\nlocation: https:\/\/new\.example\/ws\?room=1\r\n/i);
    assert.equal((await get('old.test', '/after')).status, 301);
  });

  test('"this network only" still applies: the internet client is refused, this machine redirected', async () => {
    const result = await outside.exec(['curl', '-sS', '-i', '--max-time', '10', '-H', 'Host: lan.test', `http://${outside.hostAddress}:${port}/x`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^HTTP\/1\.1 403 /);
    assert.doesNotMatch(result.stdout, /new\.example/i, 'a refused visitor does not learn the target');
    const mine = await get('lan.test', '/x');
    assert.deepEqual([mine.status, mine.location], [301, 'https://new.example/x']);
  });

  test('redirects are counted and logged like any request, with no upstream', async () => {
    const before = engine.stats().routes.find((r) => r.routeId === 'flat')?.requests ?? 0;
    await get('flat.test', '/count-me');
    await waitUntil(() => (engine.stats().routes.find((r) => r.routeId === 'flat')?.requests ?? 0) === before + 1, 3000, 'the redirect counted');
    const stats = engine.stats().routes.find((r) => r.routeId === 'flat');
    assert.equal(stats?.errors, 0);
    let entry: AccessLogEntry | undefined;
    await waitUntil(() => (entry = logged.findLast((e) => e.path === '/count-me')) !== undefined, 3000, 'the log entry');
    assert.deepEqual([entry?.status, entry?.routeId, entry?.upstream, entry?.error], [302, 'flat', null, null]);
  });
});
