// The per-client connection cap (access.maxConnectionsPerClient) on TCP streams: one address past
// the cap is closed before any upstream is dialled, counted as refused and logged with its rule;
// closed connections give their places back; the cap is read live.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { freePort } from '../helpers/ports.js';
import { makeStream, startStreamHarness } from '../helpers/stream-harness.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

/** Opens a connection, writes "x", resolves true once echoed, false when closed unanswered (or after 2 s). */
function ask(port: number, held: Socket[]): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    held.push(socket);
    const timer = setTimeout(() => resolve(false), 2000);
    socket.on('error', () => {});
    socket.on('connect', () => socket.write('x'));
    socket.once('data', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

test('a TCP stream holds at most maxConnectionsPerClient connections per client address, read live', async () => {
  let dialled = 0;
  const upstreamSockets = new Set<Socket>();
  const upstream = createServer((socket) => {
    // Health checks connect too, and send nothing: only connections with data count as dialled for a client.
    socket.once('data', () => dialled++);
    upstreamSockets.add(socket);
    socket.on('close', () => upstreamSockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (chunk) => socket.write(chunk));
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  cleanups.push(() => {
    for (const socket of upstreamSockets) socket.destroy();
    upstream.close();
  });
  const harness = await startStreamHarness({ maxConnectionsPerClient: 2 });
  cleanups.push(() => harness.close());
  const port = await freePort();
  await harness.apply([makeStream('cap', { protocol: 'tcp', listenPort: port, upstreams: [`127.0.0.1:${(upstream.address() as { port: number }).port}`], access: { exposure: 'anyone' } })]);
  const held: Socket[] = [];
  cleanups.push(() => held.forEach((socket) => socket.destroy()));
  assert.equal(await ask(port, held), true);
  assert.equal(await ask(port, held), true);
  assert.equal(await ask(port, held), false, 'the third connection from one address is refused');
  assert.equal(dialled, 2, 'the refused connection never reached the upstream');
  const status = harness.status('cap');
  assert.equal(status.refused, 1);
  const refusal = harness.logsFor('cap').find((entry) => entry.error === 'too_many_connections');
  assert.ok(refusal, 'the refusal is logged');
  assert.equal(refusal.rule, 'connections per client');
  assert.equal(refusal.client, '127.0.0.1');
  // A closed connection gives its place back.
  (held[0] as Socket).destroy();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(await ask(port, held), true, 'a place freed by a closed connection is taken again');
  // The cap follows the settings live (0 = no limit).
  harness.maxConnectionsPerClient = 0;
  assert.equal(await ask(port, held), true);
  assert.equal(await ask(port, held), true);
});
