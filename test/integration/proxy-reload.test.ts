// Route changes on a running proxy: they apply to the next request without restarting the listener
// or dropping the client's keep-alive connection, while whatever was already under way — a slow
// request, a streaming response from a removed route, an open WebSocket — finishes where it started.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { Agent, Client } from 'undici';
import {
  closeWs,
  echoHandler,
  fetchThrough,
  openWs,
  roundTrip,
  route,
  startProxy,
  startServer,
  startWsUpstream,
  waitUntil,
  within,
  type Echoed,
} from '../helpers/proxy-harness.js';

/** A promise and the function that resolves it: lets a test decide when an upstream answers. */
function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

test('a route change reaches the next request on the same client connection, on the same port', async (t) => {
  const [a, b] = await Promise.all([startServer(echoHandler('a')), startServer(echoHandler('b'))]);
  const proxy = await startProxy([route('app', a.url, ['app.test'])]);
  const client = new Client(`http://127.0.0.1:${proxy.port}`, { pipelining: 1 });
  let connects = 0;
  client.on('connect', () => connects++);
  t.after(async () => {
    await client.close();
    await proxy.stop();
    await Promise.all([a.close(), b.close()]);
  });
  const ask = async (host: string): Promise<string> => {
    const res = await within(client.request({ path: '/', method: 'GET', headers: { host } }), 5000, `a request to ${host}`);
    const text = await res.body.text();
    return res.statusCode === 200 ? (JSON.parse(text) as Echoed).upstream : `${res.statusCode} ${String(res.headers['x-gatehouse-error'])}`;
  };

  assert.equal(await ask('app.test'), 'a');
  proxy.engine.setRoutes([route('app', b.url, ['app.test'])]);
  assert.equal(await ask('app.test'), 'b');
  proxy.engine.setRoutes([route('app', b.url, ['app.test']), route('added', a.url, ['added.test'])]);
  assert.equal(await ask('added.test'), 'a');
  proxy.engine.setRoutes([route('added', a.url, ['added.test'])]);
  assert.equal(await ask('app.test'), '404 no_route');

  assert.equal(connects, 1, 'the client had to reconnect after a route change');
  assert.equal(proxy.engine.http?.port, proxy.port, 'the listener moved');
});

test('a slow request started before a route change finishes on the old upstream', async (t) => {
  const release = gate();
  let arrived = 0;
  const old = await startServer((_req, res) => {
    arrived++;
    void release.opened.then(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('from the old upstream'));
  });
  const next = await startServer(echoHandler('new'));
  const proxy = await startProxy([route('app', old.url, ['app.test'])]);
  const client = new Agent();
  t.after(async () => {
    release.open();
    await proxy.stop();
    await client.close();
    await Promise.all([old.close(), next.close()]);
  });

  const slow = fetchThrough(client, proxy.port, 'app.test', '/slow');
  await waitUntil(() => arrived === 1, 3000, 'the slow request to reach the old upstream');
  proxy.engine.setRoutes([route('app', next.url, ['app.test'])]);
  const fresh = await fetchThrough(client, proxy.port, 'app.test', '/fresh');
  assert.equal((JSON.parse(fresh.text) as Echoed).upstream, 'new', 'the route change did not apply to a new request');
  release.open();
  const res = await slow;
  assert.equal(res.status, 200);
  assert.equal(res.text, 'from the old upstream');
  assert.equal(arrived, 1, 'the slow request was retried or repeated');
  const entry = await proxy.nextLogged((e) => e.path === '/slow');
  assert.equal(entry.status, 200);
  assert.equal(entry.upstream, old.url.replace('http://', ''));
});

test('removing a route drains its pool: a response under way completes, then the upstream connection closes', async (t) => {
  const release = gate();
  const half = 'x'.repeat(50_000);
  let streaming: ServerResponse | null = null;
  const upstream = await startServer((req, res) => {
    if (req.url !== '/stream') return echoHandler('removed')(req, res);
    streaming = res;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(half.length * 2) });
    res.write(half);
    void release.opened.then(() => res.end(half));
  });
  const proxy = await startProxy([route('gone', upstream.url, ['gone.test'])]);
  const client = new Client(`http://127.0.0.1:${proxy.port}`);
  t.after(async () => {
    release.open();
    await client.close();
    await proxy.stop();
    await upstream.close();
  });

  const res = await within(client.request({ path: '/stream', method: 'GET', headers: { host: 'gone.test' } }), 5000, 'the response head');
  assert.equal(res.statusCode, 200);
  let received = 0;
  const done = new Promise<void>((resolve, reject) => {
    res.body.on('data', (chunk: Buffer) => (received += chunk.length));
    res.body.on('end', resolve);
    res.body.on('error', reject);
  });
  await waitUntil(() => received >= half.length, 3000, 'the first half of the body');
  assert.ok(streaming, 'the upstream is not streaming');

  proxy.engine.setRoutes([]);
  const other = new Agent();
  t.after(() => other.close());
  const after = await fetchThrough(other, proxy.port, 'gone.test', '/');
  assert.equal(after.status, 404, 'the removed route still answers');
  assert.equal(after.headers['x-gatehouse-error'], 'no_route');

  release.open();
  await within(done, 5000, 'the rest of the body');
  assert.equal(received, half.length * 2, 'the response was cut when its route was removed');
  // Drained, then closed: the removed route's pool does not keep its connection.
  await waitUntil(() => upstream.openConnections === 0, 3000, 'the removed route\'s upstream connection to close');
});

test('an open WebSocket keeps working after its route is pointed elsewhere, and after it is removed', async (t) => {
  const [a, b] = await Promise.all([startWsUpstream('a'), startWsUpstream('b')]);
  const proxy = await startProxy([route('chat', a.url, ['chat.test'])]);
  t.after(async () => {
    await proxy.stop();
    await Promise.all([a.close(), b.close()]);
  });

  const first = await openWs(proxy.port, 'chat.test');
  t.after(() => closeWs(first));
  assert.equal((await roundTrip(first, 'who')).data.toString(), 'a');

  proxy.engine.setRoutes([route('chat', b.url, ['chat.test'])]);
  assert.equal((await roundTrip(first, 'who')).data.toString(), 'a', 'the open WebSocket lost its upstream when the route changed');
  const second = await openWs(proxy.port, 'chat.test');
  t.after(() => closeWs(second));
  assert.equal((await roundTrip(second, 'who')).data.toString(), 'b', 'a new WebSocket did not get the new upstream');

  proxy.engine.setRoutes([]);
  assert.equal((await roundTrip(first, 'still there?')).data.toString(), 'still there?');
  assert.equal((await roundTrip(second, 'who')).data.toString(), 'b');
  await assert.rejects(openWs(proxy.port, 'chat.test'), /refused with 404/);
  assert.equal(proxy.engine.stats().routes.length, 0);
});
