// upstreamBodyIdleMs blames the upstream for silence, so it must not run while Gatehouse itself
// holds the upstream back because the client is not reading (backpressure), and must run again in
// full once the client drains (review-i14-findings.test.ts pins that second half).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { collect, startProxy, startTcpUpstream, testRoute } from '../helpers/raw-http.js';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

test('a client that stops reading for longer than upstreamBodyIdleMs still gets the whole body', async () => {
  const total = 16 * 1024 * 1024;
  const upstream = await startTcpUpstream((socket) => {
    socket.once('data', () => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\nContent-Type: application/octet-stream\r\n\r\n`);
      socket.write(Buffer.alloc(total, 0x61)); // all of it at once: only the client holds it back
    });
  });
  cleanups.push(() => upstream.close());
  const proxy = await startProxy([testRoute('svc', ['svc.example'], upstream.url)], { upstreamBodyIdleMs: 400 });
  cleanups.push(() => proxy.stop());
  const socket = connect({ host: '127.0.0.1', port: proxy.port });
  socket.on('error', () => {});
  await once(socket, 'connect');
  cleanups.push(() => void socket.destroy());
  socket.pause();
  socket.write('GET /big HTTP/1.1\r\nHost: svc.example\r\n\r\n');
  await sleep(1500); // several idle limits without reading
  const result = collect(socket, { settleMs: 1000, timeoutMs: 20_000 });
  socket.resume();
  const { text } = await result;
  const body = text.length - (text.indexOf('\r\n\r\n') + 4);
  assert.equal(body, total, 'the whole body arrived, not cut by the idle limit while the client was not reading');
});
