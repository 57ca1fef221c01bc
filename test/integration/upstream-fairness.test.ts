// No client can hold an upstream hostage (issue 14, item 8). Before the gate, 260 long-polls (or
// 260 slowly read downloads) from one client filled the 256 pooled connections to an upstream, and a
// quick request from anyone else, to any route on that address, waited seconds or forever. Here one
// client (127.0.0.2) opens 260 of them over real sockets; a quick request from another (127.0.0.3)
// to another route on the same upstream must be answered at once, and the hog's requests beyond its
// per-client share wait, then get a 503 with Retry-After whose logged detail names the limit.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { proxySettings, route, startProxy, startServer, waitUntil, within, type RunningProxy, type TestServer } from '../helpers/proxy-harness.js';

const HOG = '127.0.0.2';
const OTHER = '127.0.0.3';
const HOG_REQUESTS = 260;
const PER_CLIENT = 64; // the default
const WAIT_MS = 2000;

/** Requests the upstream is holding open now (long-polls not answered, downloads not finished). */
let holding = 0;
const held = new Set<ServerResponse>();
let upstream: TestServer;
let proxy: RunningProxy;
const sockets = new Set<Socket>();

function upstreamHandler(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/quick') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
    return;
  }
  holding++;
  held.add(res);
  res.once('close', () => {
    holding--;
    held.delete(res);
  });
  if (req.url === '/poll') return; // a long-poll: answered at the test's end, if ever
  // A download as large as the client will take: it writes until backpressure, then on each drain.
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const pump = () => {
    while (!res.destroyed && res.write(chunk));
  };
  res.on('drain', pump);
  pump();
}

interface Answer {
  status: number;
  head: string;
  ms: number;
}

/**
 * Sends GET `path` for `host` from `localAddress` and resolves with the response head as soon as it
 * arrives. With `stall`, the socket stops reading after the head (a download read slowly, or not).
 */
function send(localAddress: string, host: string, path: string, stall = false): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: proxy.port, localAddress });
    sockets.add(socket);
    socket.on('error', () => {});
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1', 0, Math.min(chunk.length, 4096));
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) return;
      if (stall) socket.pause();
      const head = text.slice(0, end);
      resolve({ status: Number(head.slice(9, 12)), head, ms: performance.now() - started });
    });
    socket.once('close', () => reject(new Error(`the proxy closed the connection for ${path} before answering`)));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  });
}

function registryOf(running: RunningProxy): { load(address: string): ReturnType<RunningProxy['engine']['upstreamLoad']> } {
  return { load: (address) => running.engine.upstreamLoad(address) };
}

before(async () => {
  upstream = await startServer(upstreamHandler);
  const settings = proxySettings();
  settings.upstreamLimits = { connections: 256, perClient: PER_CLIENT, waitMs: WAIT_MS };
  proxy = await startProxy([route('hogged', upstream.url, ['hogged.test']), route('other', upstream.url, ['other.test'])], { settings, stopGraceMs: 200 });
});

after(async () => {
  for (const socket of sockets) socket.destroy();
  for (const res of held) res.destroy();
  await proxy.stop();
  await upstream.close();
});

async function hogAndProbe(path: string, stall: boolean): Promise<void> {
  const address = `127.0.0.1:${upstream.port}`;
  const registry = registryOf(proxy);
  const refusedBefore = registry.load(address)?.busyRefusals ?? 0;
  const hogs = Array.from({ length: HOG_REQUESTS }, () => send(HOG, 'hogged.test', path, stall));
  await waitUntil(() => holding === PER_CLIENT && registry.load(address)?.waiting === HOG_REQUESTS - PER_CLIENT, 30_000, `the upstream holding ${PER_CLIENT} of the hog's requests, the rest waiting`);
  const load = registry.load(address);
  assert.deepEqual(load && { inFlight: load.inFlight, waiting: load.waiting }, { inFlight: PER_CLIENT, waiting: HOG_REQUESTS - PER_CLIENT });

  const quick = await within(send(OTHER, 'other.test', '/quick'), 5000, 'the quick request from another client');
  console.log(`# ${path}: quick request from ${OTHER} answered in ${quick.ms.toFixed(1)} ms while ${HOG} holds ${PER_CLIENT} and has ${HOG_REQUESTS - PER_CLIENT} waiting`);
  assert.equal(quick.status, 200);
  assert.ok(quick.ms < 1000, `the quick request took ${quick.ms.toFixed(0)} ms`);

  // The hog's requests past its share waited WAIT_MS, then were refused as busy. (Its long-polls
  // are never answered, so what the others got is read as it comes.)
  const answers: Answer[] = [];
  for (const hog of hogs) void hog.then((answer) => answers.push(answer), () => {});
  const busyCount = () => answers.filter((a) => a.status === 503).length;
  await waitUntil(() => busyCount() === HOG_REQUESTS - PER_CLIENT, WAIT_MS + 8000, "busy answers to the hog's requests past its share");
  const busy = answers.filter((a) => a.status === 503);
  if (stall) await waitUntil(() => answers.length === HOG_REQUESTS, 5000, "the downloads' heads");
  assert.equal(answers.filter((a) => a.status === 200).length, stall ? PER_CLIENT : 0);
  for (const answer of busy) {
    assert.match(answer.head, /\r\nretry-after: 2\r\n/i);
    assert.ok(answer.ms >= WAIT_MS - 100, `a busy answer came after ${answer.ms.toFixed(0)} ms, before the ${WAIT_MS} ms wait ran out`);
  }
  assert.equal((registry.load(address)?.busyRefusals ?? 0) - refusedBefore, HOG_REQUESTS - PER_CLIENT);
  const entry = await proxy.nextLogged((e) => e.error === 'upstream_busy' && e.path === path);
  assert.equal(entry.status, 503);
  assert.match(entry.detail ?? '', new RegExp(`already has ${PER_CLIENT} requests under way to ${address.replace(/\./g, '\\.')}, the most one client may have \\(upstream limits: ${PER_CLIENT} per client\\)`));
  assert.equal(holding, PER_CLIENT, 'the granted requests are still held');
}

test('260 long-polls from one client: another client\'s quick request to another route on the same upstream is answered at once', async () => {
  await hogAndProbe('/poll', false);
  // The long-polls end: their slots come back.
  for (const res of held) res.end();
  await waitUntil(() => registryOf(proxy).load(`127.0.0.1:${upstream.port}`)?.inFlight === 0, 5000, 'the slots freed');
  for (const socket of sockets) socket.destroy();
  sockets.clear();
});

test('260 slowly read downloads from one client: the same', async () => {
  await hogAndProbe('/download', true);
});
