// identifyService against real servers on 127.0.0.1: one fake per preset (test/fixtures/apps),
// servers that match no preset, ports that speak no HTTP, the wrong scheme, redirects, and bodies
// too big or too slow to wait for.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, test } from 'node:test';
import { identifyService } from '../../src-main/core/discovery/identify.js';
import { presets } from '../../src-main/core/discovery/presets.js';
import { appFixtureIds, startFakeApp, startServer, startTcpServer, type FakeApp } from '../helpers/fake-apps.js';

const running: { close(): Promise<void> }[] = [];
after(() => Promise.all(running.map((server) => server.close())));

async function fake(id: string): Promise<FakeApp> {
  const app = await startFakeApp(id);
  running.push(app);
  return app;
}

/** A TCP port whose connections get `onConnection`, closed at the end. */
async function tcpServer(onConnection: (socket: Socket) => void): Promise<number> {
  const server = await startTcpServer(onConnection);
  running.push(server);
  return server.port;
}

test('every preset has a fake app, and each fake is identified as its preset over its scheme', async (t) => {
  assert.deepEqual(appFixtureIds(), presets.map((preset) => preset.id).sort(), 'one fixture per preset, no more');
  for (const preset of presets) {
    const app = await fake(preset.id);
    const started = performance.now();
    const identification = await identifyService({ address: '127.0.0.1', port: app.port, scheme: app.scheme });
    t.diagnostic(`${preset.id}: ${(performance.now() - started).toFixed(0)} ms, ${app.requests.length} requests (${app.requests.join(' ')})`);
    assert.equal(identification?.presetId, preset.id, `${preset.id} was identified as ${JSON.stringify(identification)}`);
    assert.equal(identification?.app, preset.app);
    assert.equal(identification?.scheme, app.scheme);
    assert.ok(identification.evidence.length > 0, 'says why');
    assert.ok(app.requests.length <= 8, `${preset.id}: at most a landing page, two redirects and a few endpoints (${app.requests.length})`);
  }
});

test('without a scheme hint, appliances are found over HTTPS and the rest over HTTP', async () => {
  for (const id of ['proxmox-ve', 'jellyfin']) {
    const app = await fake(id);
    const identification = await identifyService({ address: '127.0.0.1', port: app.port });
    assert.equal(identification?.presetId, id);
    assert.equal(identification?.scheme, app.scheme);
  }
});

test('a port asked with the wrong scheme is noticed and asked again the other way', async () => {
  const cases = [
    { id: 'synology-dsm', asked: 'http', speaks: 'https', evidence: /speaks HTTPS/ },
    { id: 'home-assistant', asked: 'https', speaks: 'http', evidence: /speaks plain HTTP/ },
  ] as const;
  for (const { id, asked, speaks, evidence } of cases) {
    const app = await fake(id);
    const identification = await identifyService({ address: '127.0.0.1', port: app.port, scheme: asked });
    assert.equal(identification?.presetId, id);
    assert.equal(identification?.scheme, speaks);
    assert.ok(identification.evidence.some((line) => evidence.test(line)), identification.evidence.join('; '));
  }
});

test('a web service that matches no preset is named by its title, or else its Server header', async () => {
  const titled = await startServer('http', (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html><head><title>  Family &amp; Friends\n Dashboard </title></head></html>'));
  const bare = await startServer('http', (_req, res) => res.writeHead(404, { server: 'nginx/1.27.3' }).end('not here'));
  running.push(titled, bare);
  const byTitle = await identifyService({ address: '127.0.0.1', port: titled.port });
  assert.deepEqual(byTitle, { presetId: null, app: 'Family & Friends Dashboard', scheme: 'http', evidence: ['title "Family & Friends Dashboard"'] });
  const byServer = await identifyService({ address: '127.0.0.1', port: bare.port });
  assert.equal(byServer?.presetId, null);
  assert.equal(byServer?.app, 'nginx/1.27.3');
});

test('a port that speaks no HTTP gives null, whether it talks or stays silent', async (t) => {
  const ssh = await tcpServer((socket) => socket.write('SSH-2.0-OpenSSH_9.6\r\n'));
  const silent = await tcpServer(() => {});
  const started = performance.now();
  assert.equal(await identifyService({ address: '127.0.0.1', port: ssh }, { timeoutMs: 1000 }), null);
  assert.equal(await identifyService({ address: '127.0.0.1', port: silent }, { timeoutMs: 1000 }), null);
  t.diagnostic(`both answered null in ${(performance.now() - started).toFixed(0)} ms`);
});

test('a closed port gives null', async () => {
  const closed = await startServer('http', () => {});
  await closed.close();
  assert.equal(await identifyService({ address: '127.0.0.1', port: closed.port }), null);
});

test('redirects: at most two are followed, on the same host and port only', async () => {
  const seen: string[] = [];
  const chain = await startServer('http', (req, res) => {
    seen.push(req.url ?? '');
    const next: Record<string, string> = { '/': '/one', '/one': '/two', '/two': '/three', '/away': 'http://192.0.2.10/' };
    const location = next[req.url ?? ''];
    if (location) res.writeHead(302, { location }).end();
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<title>Three</title>');
  });
  running.push(chain);
  const chained = await identifyService({ address: '127.0.0.1', port: chain.port });
  assert.deepEqual(seen.slice(0, 3), ['/', '/one', '/two'], 'two redirects followed from /');
  assert.ok(!seen.includes('/three'), 'the third is not');
  assert.notEqual(chained?.app, 'Three');

  const elsewhere = await startServer('http', (req, res) => res.writeHead(301, { location: `http://192.0.2.10:${chain.port}/` }).end());
  running.push(elsewhere);
  const redirectedAway = await identifyService({ address: '127.0.0.1', port: elsewhere.port });
  assert.ok(redirectedAway?.evidence.some((line) => /redirects elsewhere/.test(line)), JSON.stringify(redirectedAway));
});

test('a huge body is read up to the cap, and a body that trickles forever does not hang', async (t) => {
  let hugeClosed = false;
  const huge = await startServer('http', (req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.write('<html><head><title>Endless</title></head><body>');
    const filler = 'x'.repeat(16 * 1024);
    const pump = (): void => {
      while (res.write(filler)) {
        /* keep the socket full until it pushes back */
      }
    };
    res.on('drain', pump);
    res.on('close', () => (hugeClosed = true));
    pump();
  });
  const slow = await startServer('http', (req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.write('<title>Slow</title>');
    const timer = setInterval(() => res.write('.'), 50);
    res.on('close', () => clearInterval(timer));
  });
  running.push(huge, slow);
  let started = performance.now();
  const endless = await identifyService({ address: '127.0.0.1', port: huge.port }, { timeoutMs: 2000 });
  t.diagnostic(`endless body: ${(performance.now() - started).toFixed(0)} ms`);
  assert.equal(endless?.app, 'Endless');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(hugeClosed, 'the connection was closed once the cap was reached');
  started = performance.now();
  const trickle = await identifyService({ address: '127.0.0.1', port: slow.port }, { timeoutMs: 1200 });
  t.diagnostic(`trickling body: ${(performance.now() - started).toFixed(0)} ms`);
  assert.equal(trickle?.app, 'Slow', 'what arrived by the deadline is used');
});

test('nothing secret is sent: no credentials, no cookies, and Host names the target', async () => {
  const headers: Record<string, string | string[] | undefined>[] = [];
  const server = await startServer('http', (req, res) => {
    headers.push(req.headers);
    res.end('<title>x</title>');
  });
  running.push(server);
  await identifyService({ address: '127.0.0.1', port: server.port, hostName: 'homeassistant.local' });
  assert.ok(headers.length > 0);
  for (const sent of headers) {
    assert.equal(sent.authorization, undefined);
    assert.equal(sent.cookie, undefined);
    assert.equal(sent.host, `homeassistant.local:${server.port}`);
  }
});

test('an aborted identification rejects', async () => {
  const silent = await tcpServer(() => {});
  const controller = new AbortController();
  const pending = identifyService({ address: '127.0.0.1', port: silent }, { signal: controller.signal });
  setTimeout(() => controller.abort(new Error('the user closed the dialog')), 50);
  await assert.rejects(pending, /closed the dialog/);
});
