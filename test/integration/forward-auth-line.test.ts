// The line in front of a slow forward-auth server is bounded, and a visitor who hangs up while
// waiting in it is never asked about later (review F5). A real sign-in server that holds its
// answers, real sockets that hang up.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { type ForwardAuthClients, MAX_WAITING } from '../../src-main/core/access/forward-auth.js';
import { echoHandler, startServer, waitUntil } from '../helpers/proxy-harness.js';
import { provider, signInRoute, startSignInProxy } from '../helpers/sign-in-proxy.js';

const CONNECTIONS = 64;

interface Visitor {
  socket: Socket;
  status: Promise<number>;
}

function visit(port: number, path: string): Visitor {
  const socket = connect(port, '127.0.0.1');
  const status = new Promise<number>((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (match) resolve(Number(match[1]));
    });
    socket.on('error', () => resolve(0));
    socket.on('close', () => resolve(0));
  });
  socket.write(`GET ${path} HTTP/1.1\r\nhost: fa.test\r\n\r\n`);
  return { socket, status };
}

test('a full line refuses with 503 at once; visitors who left the line are never asked', async (t) => {
  const asked: string[] = [];
  const held: ServerResponse[] = [];
  let holding = true;
  const auth = await startServer((req, res) => {
    asked.push(String(req.headers['x-forwarded-uri']));
    if (holding) held.push(res);
    else res.end();
  });
  const upstream = await startServer(echoHandler('app'));
  const fa = await startSignInProxy([signInRoute('fa', upstream.url, ['fa.test'], { method: 'forward', providerId: 'p1' })], {
    providers: [provider('p1', 'authelia', `${auth.url}/api/authz/forward-auth`)],
  });
  const visitors: Visitor[] = [];
  t.after(async () => {
    for (const visitor of visitors) visitor.socket.destroy();
    await fa.stop();
    await auth.close();
    await upstream.close();
  });
  const clients = (fa.access.signIn as unknown as { providers: ForwardAuthClients }).providers;
  const line = clients.get('p1')?.line;
  assert.ok(line, 'the provider has a line');

  // Every connection to the sign-in server is busy with a visitor who stays.
  for (let i = 0; i < CONNECTIONS; i++) visitors.push(visit(fa.port, `/stay-${i}`));
  await waitUntil(() => asked.length === CONNECTIONS, 10_000, 'the first 64 questions');

  // Twenty more wait in the line, then hang up: they leave it at once.
  const gone = Array.from({ length: 20 }, (_, i) => visit(fa.port, `/gone-${i}`));
  await waitUntil(() => line.queued === 20, 5000, 'the 20 in the line');
  for (const visitor of gone) visitor.socket.destroy();
  await waitUntil(() => line.queued === 0, 5000, 'the line emptied by visitors who left');

  // The line fills up to MAX_WAITING; the next visitor is refused at once, not queued.
  for (let i = 0; i < MAX_WAITING; i++) visitors.push(visit(fa.port, `/wait-${i}`));
  await waitUntil(() => line.queued === MAX_WAITING, 10_000, 'a full line');
  const started = Date.now();
  const refused = visit(fa.port, '/one-too-many');
  visitors.push(refused);
  assert.equal(await refused.status, 503);
  assert.ok(Date.now() - started < 1000, 'the refusal waited');
  const entry = await fa.nextLogged((logged) => logged.path === '/one-too-many');
  assert.match(entry.rule ?? '', /too many sign-in checks waiting/);

  // The sign-in server answers: everyone still there gets in; nobody who left was asked.
  holding = false;
  for (const res of held.splice(0)) res.end();
  const statuses = await Promise.all(visitors.slice(0, CONNECTIONS + MAX_WAITING).map((visitor) => visitor.status));
  assert.equal(statuses.filter((status) => status === 200).length, CONNECTIONS + MAX_WAITING, `statuses: ${[...new Set(statuses)].join(' ')}`);
  assert.deepEqual(asked.filter((path) => path.startsWith('/gone')), [], 'a visitor who had left was asked about');
  assert.equal(asked.length, CONNECTIONS + MAX_WAITING);
});
