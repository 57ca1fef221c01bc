// splice (streams/splice.ts) on real loopback sockets, as the stream engine uses it: accepted sockets
// (pauseOnConnect, allowHalfOpen) joined to dialled ones. Plain TCP sockets are read into splice's
// own recycled buffers (the fast path); these prove it is taken on this Node, that bytes arrive
// intact and counted both ways, that half-close and the idle timeout still hold, that a reader that
// stops reading makes splice stop reading too (memory stays bounded) and gets everything once it
// reads again, and that a socket with bytes put back (unshift) keeps them first, in order.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { canReadInto, LARGE_READ, splice, type Splice, type SpliceEnd, type SpliceOptions } from '../../src-main/core/streams/splice.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
after(async () => {
  for (const socket of sockets) socket.destroy();
  for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function listen(onSocket: (socket: Socket) => void, options: { pauseOnConnect?: boolean } = {}): Promise<number> {
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: options.pauseOnConnect ?? false }, (socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    onSocket(socket);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

interface Joined {
  splice: Splice;
  fastClient: boolean;
  fastUpstream: boolean;
  /** The accepted (client-facing) socket of the proxy. */
  front: Socket;
  closed: Promise<{ reason: SpliceEnd; totals: { fromClient: number; fromUpstream: number } }>;
}

/**
 * A one-connection proxy on 127.0.0.1 to `upstreamPort`, like a TCP stream: resolves its port and a
 * promise of the first joined connection. `prepare` runs on the accepted socket before the join.
 */
async function proxyTo(upstreamPort: number, options: Partial<SpliceOptions> = {}, prepare?: (socket: Socket) => void): Promise<{ port: number; joined: Promise<Joined> }> {
  let resolveJoined!: (joined: Joined) => void;
  const joined = new Promise<Joined>((resolve) => (resolveJoined = resolve));
  const port = await listen(
    (front) => {
      prepare?.(front);
      const upstream = connect({ host: '127.0.0.1', port: upstreamPort, allowHalfOpen: true });
      sockets.push(upstream);
      upstream.on('error', () => {});
      upstream.once('connect', () => {
        const fastClient = canReadInto(front);
        const fastUpstream = canReadInto(upstream);
        let resolveClosed!: Joined['closed'] extends Promise<infer T> ? (value: T) => void : never;
        const closed = new Promise<Awaited<Joined['closed']>>((resolve) => (resolveClosed = resolve));
        const joinedNow = splice(front, upstream, { idleMs: 0, ...options, onClose: (reason, totals) => resolveClosed({ reason, totals: { ...totals } }) });
        resolveJoined({ splice: joinedNow, fastClient, fastUpstream, front, closed });
      });
    },
    { pauseOnConnect: true },
  );
  return { port, joined };
}

function sha256(chunks: Buffer[]): string {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

/** Writes `data` in 1 MiB pieces with backpressure, then ends. */
async function sendAll(socket: Socket, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length; at += 1024 * 1024) {
    if (!socket.write(data.subarray(at, at + 1024 * 1024))) await once(socket, 'drain');
  }
  socket.end();
}

/** Everything `socket` reads until its end. */
async function readAll(socket: Socket): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'end');
  return chunks;
}

describe('splice', () => {
  test('bulk data both ways arrives intact and counted; both plain sockets take the fast path; half-close is passed on', async () => {
    const up = randomBytes(24 * 1024 * 1024 + 123);
    const down = randomBytes(16 * 1024 * 1024 + 7);
    let upstreamGot: Promise<Buffer[]> = Promise.resolve([]);
    const upstreamPort = await listen((socket) => {
      // Reads the client's bytes to their end (half-close), only then answers: the client's end
      // must arrive while the other direction is still open.
      upstreamGot = readAll(socket).then(async (chunks) => {
        await sendAll(socket, down);
        return chunks;
      });
    });
    let clientBytes = 0;
    let upstreamBytes = 0;
    const proxy = await proxyTo(upstreamPort, { onClientBytes: (n) => (clientBytes += n), onUpstreamBytes: (n) => (upstreamBytes += n) });
    const client = connect({ host: '127.0.0.1', port: proxy.port, allowHalfOpen: true });
    sockets.push(client);
    await once(client, 'connect');
    const received = readAll(client);
    await sendAll(client, up);
    const joined = await proxy.joined;
    assert.equal(joined.fastClient, true, 'the accepted socket is read into splice buffers on this Node');
    assert.equal(joined.fastUpstream, true, 'the dialled socket is read into splice buffers on this Node');
    assert.equal(sha256(await upstreamGot), sha256([up]), 'the upstream got every byte, in order');
    assert.equal(sha256(await received), sha256([down]), 'the client got every byte back, in order');
    client.end();
    const { reason, totals } = await joined.closed;
    assert.equal(reason, 'done');
    assert.deepEqual(totals, { fromClient: up.length, fromUpstream: down.length });
    assert.equal(clientBytes, up.length);
    assert.equal(upstreamBytes, down.length);
  });

  test('a client that stops reading stops splice reading the upstream (bounded); it gets everything once it reads again', async () => {
    const total = 64 * 1024 * 1024;
    const data = randomBytes(total);
    let upstreamSocket: Socket | null = null;
    const upstreamPort = await listen((socket) => {
      upstreamSocket = socket;
      void sendAll(socket, data);
    });
    const proxy = await proxyTo(upstreamPort);
    const client = connect({ host: '127.0.0.1', port: proxy.port, allowHalfOpen: true });
    sockets.push(client);
    client.pause();
    await once(client, 'connect');
    const joined = await proxy.joined;
    assert.equal(joined.fastUpstream, true);
    // Wait until splice stops moving bytes (kernel buffers full both sides of the proxy).
    let last = -1;
    for (let i = 0; i < 100 && joined.splice.totals.fromUpstream !== last; i++) {
      last = joined.splice.totals.fromUpstream;
      await sleep(200);
    }
    assert.equal(joined.splice.totals.fromUpstream, last, 'splice stopped reading while the client does not read');
    assert.ok(last < total, `only what the socket buffers hold has passed (${last} of ${total} bytes)`);
    assert.ok(joined.front.writableLength <= 2 * LARGE_READ, `splice holds at most two read buffers towards the client, not ${joined.front.writableLength} bytes`);
    assert.ok((upstreamSocket as Socket | null)!.writableLength > 0, 'the upstream is the one left waiting');
    // The client reads again: everything arrives.
    const chunks: Buffer[] = [];
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    client.resume();
    await once(client, 'end');
    assert.equal(sha256(chunks), sha256([data]));
    client.end();
    const { totals } = await joined.closed;
    assert.equal(totals.fromUpstream, total);
  });

  test('bytes put back on the accepted socket (unshift) go first, then the rest (the plain path)', async () => {
    let upstreamGot: Promise<Buffer[]> = Promise.resolve([]);
    const upstreamPort = await listen((socket) => {
      upstreamGot = readAll(socket);
      socket.on('end', () => socket.end());
    });
    const proxy = await proxyTo(upstreamPort, {}, (front) => front.unshift(Buffer.from('HEAD:')));
    const client = connect({ host: '127.0.0.1', port: proxy.port, allowHalfOpen: true });
    sockets.push(client);
    await once(client, 'connect');
    const body = randomBytes(3 * 1024 * 1024);
    await sendAll(client, body);
    const joined = await proxy.joined;
    assert.equal(joined.fastClient, false, 'a socket with bytes put back keeps the data events');
    assert.equal(Buffer.concat(await upstreamGot).equals(Buffer.concat([Buffer.from('HEAD:'), body])), true);
    const { totals } = await joined.closed;
    assert.equal(totals.fromClient, body.length + 5);
  });

  test('a connection quiet both ways for idleMs is closed as idle, after traffic on the fast path', async () => {
    const upstreamPort = await listen((socket) => socket.on('data', (chunk: Buffer) => socket.write(chunk)));
    const proxy = await proxyTo(upstreamPort, { idleMs: 300 });
    const client = connect({ host: '127.0.0.1', port: proxy.port, allowHalfOpen: true });
    sockets.push(client);
    client.on('error', () => {});
    await once(client, 'connect');
    client.write('ping');
    const [echo] = (await once(client, 'data')) as [Buffer];
    assert.equal(echo.toString(), 'ping');
    const joined = await proxy.joined;
    assert.equal(joined.fastClient && joined.fastUpstream, true);
    const started = performance.now();
    const { reason } = await joined.closed;
    const waited = performance.now() - started;
    assert.equal(reason, 'idle');
    assert.ok(waited >= 250 && waited < 5000, `closed after ${Math.round(waited)} ms`);
  });
});
