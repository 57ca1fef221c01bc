// The sticky cookie across a failover (Traefik's keeps pinning clients to a dead backend; ours
// re-pins to a live one and then stays there), and WebSocket upgrades failing over before the 101.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect as http2Connect, type IncomingHttpHeaders } from 'node:http2';
import { connect } from 'node:net';
import { after, describe, test } from 'node:test';
import { defaultBalancing, STICKY_COOKIE_NAME } from '../../shared/upstreams.js';
import type { Route } from '../../shared/model.js';
import { UpstreamHealth } from '../../src-main/core/upstreams/health.js';
import { closeWs, localTls, openWs, roundTrip, startWsUpstream, waitUntil } from '../helpers/proxy-harness.js';
import { startTcpUpstream } from '../helpers/raw-http.js';
import { openTestCa, startTlsProxy, TestCertificates } from '../helpers/tls-proxy.js';
import { deadUrl, poolRoute, poolServer, send, setCookies, startPoolProxy, type Got, type PoolProxy, type PoolServer } from '../helpers/upstream-pool.js';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function proxy(routes: Route[], health?: UpstreamHealth): Promise<PoolProxy> {
  const started = await startPoolProxy(routes, health ? { health } : {});
  cleanups.push(() => started.stop());
  return started;
}

/** Our cookie's tag in an answer's Set-Cookie, or null. */
function pinnedTag(got: Got): string | null {
  const ours = setCookies(got).find((value) => value.startsWith(`${STICKY_COOKIE_NAME}=`));
  return ours ? (ours.split(';')[0] as string).slice(STICKY_COOKIE_NAME.length + 1) : null;
}

describe('sticky cookie', () => {
  test('pins a browser, follows a failover to a live upstream, re-pins, then stays there', async () => {
    const servers: PoolServer[] = [];
    const seenCookies: string[] = [];
    for (const [name, host] of [
      ['a', '127.0.0.2'],
      ['b', '127.0.0.3'],
      ['c', '127.0.0.4'],
    ] as const) {
      const s = await poolServer(name, host);
      cleanups.push(() => s.kill().catch(() => {}));
      s.answer = (req, res) => {
        if (req.headers['user-agent'] !== 'Gatehouse health check') seenCookies.push(req.headers.cookie ?? '');
        res.writeHead(200, { 'set-cookie': ['app_session=xyz; Path=/', 'theme=dark'], 'x-upstream': name });
        res.end(`from ${name}`);
      };
      servers.push(s);
    }
    const route = poolRoute('svc', ['svc.example'], servers.map((s) => s.url), { balancing: { ...defaultBalancing(), policy: 'sticky_cookie' } });
    const health = new UpstreamHealth({ onChange: () => {}, intervalMs: 200, timeoutMs: 300, jitterMs: 0 });
    cleanups.push(() => health.close());
    health.setRoutes([route]);
    const { port } = await proxy([route], health);

    const first = await send(port, 'svc.example');
    const tag = pinnedTag(first);
    assert.ok(tag, 'the first answer pins the browser');
    const ours = setCookies(first).find((value) => value.startsWith(`${STICKY_COOKIE_NAME}=`)) as string;
    assert.match(ours, /; Path=\/; HttpOnly; SameSite=Lax$/);
    assert.deepEqual(setCookies(first).slice(0, 2), ['app_session=xyz; Path=/', 'theme=dark'], "the service's own cookies are kept, ours added after");
    const pinned = first.body;
    const cookie = `other=1; ${STICKY_COOKIE_NAME}=${tag}`;
    for (let i = 0; i < 5; i++) {
      const again = await send(port, 'svc.example', { headers: { cookie } });
      assert.equal(again.body, pinned, 'the same upstream every time');
      assert.equal(pinnedTag(again), null, 'no new cookie while the pin holds');
    }
    assert.ok(
      seenCookies.every((value) => !value.includes(STICKY_COOKIE_NAME)),
      `the service never sees our cookie: ${JSON.stringify(seenCookies)}`,
    );
    assert.ok(seenCookies.slice(1).every((value) => value === 'other=1'), 'other cookies pass untouched');

    // The pinned upstream dies: the next request goes elsewhere at once, and the cookie moves.
    const dead = servers.find((s) => `from ${s.name}` === pinned) as PoolServer;
    await dead.kill();
    const moved = await send(port, 'svc.example', { headers: { cookie } });
    assert.equal(moved.status, 200);
    assert.notEqual(moved.body, pinned);
    const newTag = pinnedTag(moved);
    assert.ok(newTag && newTag !== tag, 'the cookie is re-pinned to the live upstream');
    for (let i = 0; i < 5; i++) {
      const stays = await send(port, 'svc.example', { headers: { cookie: `${STICKY_COOKIE_NAME}=${newTag}` } });
      assert.equal(stays.body, moved.body, 'and stays there');
      assert.equal(pinnedTag(stays), null);
    }
  });
});

describe('sticky cookie over HTTP/2', () => {
  test('pinned over HTTPS with Secure; a split Cookie header is read and ours stripped', async () => {
    const seenCookies: string[] = [];
    const servers: PoolServer[] = [];
    for (const [name, host] of [
      ['a', '127.0.0.2'],
      ['b', '127.0.0.3'],
    ] as const) {
      const s = await poolServer(name, host);
      cleanups.push(() => s.kill().catch(() => {}));
      s.answer = (req, res) => {
        seenCookies.push(req.headers.cookie ?? '');
        res.writeHead(200, { 'set-cookie': 'app=1' });
        res.end(`from ${name}`);
      };
      servers.push(s);
    }
    const ca = await openTestCa();
    cleanups.push(() => ca.remove());
    const certs = new TestCertificates(await ca.leaf(['fallback.home.arpa']));
    certs.byRoute.set('svc', await ca.leaf(['svc.home.arpa']));
    const tls = localTls();
    const route = poolRoute('svc', ['svc.home.arpa'], servers.map((s) => s.url), { balancing: { ...defaultBalancing(), policy: 'sticky_cookie' }, tls });
    const running = await startTlsProxy([route], certs);
    cleanups.push(() => running.stop());
    const session = http2Connect(`https://127.0.0.1:${running.httpsPort}`, { ca: await readFile(ca.caPath, 'utf8'), servername: 'svc.home.arpa' });
    session.on('error', () => {});
    cleanups.push(() => void session.close());
    const get = (cookie: string[] | null) =>
      new Promise<{ headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const stream = session.request({ ':path': '/', ':authority': 'svc.home.arpa', ...(cookie ? { cookie } : {}) });
        let headers: IncomingHttpHeaders = {};
        let body = '';
        stream.on('response', (received) => (headers = received));
        stream.setEncoding('utf8').on('data', (text: string) => (body += text));
        stream.on('end', () => resolve({ headers, body }));
        stream.on('error', reject);
      });
    const first = await get(null);
    const cookies = (first.headers['set-cookie'] ?? []) as string[];
    assert.equal(cookies[0], 'app=1');
    const ours = cookies.find((value) => value.startsWith(`${STICKY_COOKIE_NAME}=`)) ?? '';
    assert.match(ours, /; HttpOnly; SameSite=Lax; Secure$/);
    const pair = ours.split(';')[0] as string;
    for (let i = 0; i < 4; i++) {
      const again = await get(['x=1', pair, 'y=2']);
      assert.equal(again.body, first.body);
      assert.deepEqual(again.headers['set-cookie'], ['app=1'], 'no new pin');
    }
    assert.deepEqual(seenCookies.slice(1), Array(4).fill('x=1; y=2'));
  });
});

describe('WebSocket upgrades fail over before the 101', () => {
  test('a refused first upstream: the upgrade is tunnelled to the next, and the client saw nothing of the failure', async () => {
    const dead = await deadUrl('127.0.0.2');
    const ws = await startWsUpstream('live');
    cleanups.push(() => ws.close());
    const { port, logged } = await proxy([poolRoute('svc', ['svc.example'], [dead, ws.url])]);
    const socket = await openWs(port, 'svc.example', '/echo');
    assert.equal((await roundTrip(socket, 'who')).data.toString(), 'live');
    await closeWs(socket);
    await waitUntil(() => logged.some((e) => e.status === 101), 5000, 'the tunnel log entry');
    assert.equal(logged.find((e) => e.status === 101)?.upstream, ws.url.slice('http://'.length));
  });

  test('an upstream that hangs up before answering the upgrade: the next one takes it', async () => {
    const hangsUp = await startTcpUpstream((socket) => socket.once('data', () => socket.destroy()));
    cleanups.push(() => hangsUp.close());
    const ws = await startWsUpstream('live');
    cleanups.push(() => ws.close());
    const { port } = await proxy([poolRoute('svc', ['svc.example'], [hangsUp.url, ws.url])]);
    const socket = await openWs(port, 'svc.example', '/echo');
    assert.equal((await roundTrip(socket, 'who')).data.toString(), 'live');
    await closeWs(socket);
  });

  test('every upstream refusing: one 502 page, after trying each within the budget', async () => {
    const first = await deadUrl('127.0.0.2');
    const second = await deadUrl('127.0.0.3');
    const { port, logged } = await proxy([poolRoute('svc', ['svc.example'], [first, second])]);
    const answer = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () =>
        socket.write('GET /ws HTTP/1.1\r\nHost: svc.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'),
      );
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('close', () => resolve(text));
      socket.on('error', () => {});
    });
    assert.match(answer, /^HTTP\/1\.1 502 /);
    assert.equal(answer.match(/HTTP\/1\.1 /g)?.length, 1, 'one answer');
    await waitUntil(() => logged.some((e) => e.path === '/ws'), 3000, 'the log entry');
    assert.match(logged.find((e) => e.path === '/ws')?.detail ?? '', /tried 2 upstreams/);
  });
});
