// Streams through the gateway, as the API drives them: a TCP stream added, changed and removed while
// the proxy runs (only that stream's listener moves; another stream's open connection carries on),
// a port another program holds saved with the problem and its fix while the proxy keeps running,
// edits refused naming the field or the stream that needs a list or a route, checkPorts covering
// stream ports, export/import carrying streams, the throttled `streams` event and the access log.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { ApiEvent } from '../../shared/api.js';
import type { StreamView } from '../../shared/streams.js';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { combinedLine } from '../../src-main/core/proxy/combined-log.js';
import { call, rejectsWith, settingsFile } from '../helpers/gateway-calls.js';
import { freePort } from '../helpers/ports.js';
import { makeDataDir } from '../helpers/serve.js';

/** A TCP server that answers every chunk with "TAG:chunk", so a reply says which upstream it came from. */
async function startTagEcho(tag: string): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (chunk) => socket.write(`${tag}:${chunk.toString()}`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const open: Socket[] = [];

async function dial(port: number, host = '127.0.0.1'): Promise<Socket> {
  const socket = connect({ port, host });
  open.push(socket);
  await once(socket, 'connect');
  return socket;
}

/** Sends `text` and resolves with the reply (bounded wait). */
async function exchange(socket: Socket, text: string, timeoutMs = 5000): Promise<string> {
  const reply = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply to "${text}" within ${timeoutMs} ms`)), timeoutMs);
    socket.once('data', (chunk) => {
      clearTimeout(timer);
      resolve(chunk.toString());
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  socket.write(text);
  return reply;
}

/** One connection's round trip: connect, send, read, close. */
async function roundTrip(port: number, text: string, host = '127.0.0.1'): Promise<string> {
  const socket = await dial(port, host);
  try {
    return await exchange(socket, text);
  } finally {
    socket.destroy();
  }
}

/** The error code connecting to `port` fails with (ECONNREFUSED when nothing listens), or null when it connects. */
async function connectError(port: number, host = '127.0.0.1'): Promise<string | null> {
  const socket = connect({ port, host });
  try {
    await once(socket, 'connect');
    return null;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  } finally {
    socket.destroy();
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function tcpStream(title: string, listenPort: number, upstreamPort: number) {
  return { title, protocol: 'tcp' as const, listenPort, upstreams: [`127.0.0.1:${upstreamPort}`] };
}

describe('gateway: streams', () => {
  let dataDir: string;
  let gateway: Gateway;
  let alpha: Awaited<ReturnType<typeof startTagEcho>>;
  let beta: Awaited<ReturnType<typeof startTagEcho>>;
  const events: ApiEvent[] = [];

  before(async () => {
    [alpha, beta] = await Promise.all([startTagEcho('alpha'), startTagEcho('beta')]);
    dataDir = await makeDataDir();
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    gateway.subscribe((event) => events.push(event));
    await gateway.startup();
  });

  after(async () => {
    for (const socket of open) socket.destroy();
    await gateway?.close();
    await Promise.all([alpha?.close(), beta?.close()]);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('a TCP stream added while the proxy runs listens at once, carries bytes both ways, and is logged', async () => {
    const port = await freePort();
    const view = await call(gateway, 'addStream', tcpStream('Echo', port, alpha.port));
    assert.match(view.stream.id, /^[a-z0-9]{10}$/);
    assert.equal(view.status.state, 'listening', JSON.stringify(view.status.problem));
    assert.equal(view.status.problem, null);
    assert.deepEqual((await settingsFile(dataDir)).streams.map((stream) => stream.id), [view.stream.id], 'saved once addStream resolves');

    assert.equal(await roundTrip(port, 'hello'), 'alpha:hello');

    const listed = await call(gateway, 'listStreams');
    const mine = listed.find((entry) => entry.stream.id === view.stream.id)!;
    assert.equal(mine.status.total >= 1, true);
    assert.ok(mine.status.bytesIn >= 5 && mine.status.bytesOut >= 11, `counted: ${JSON.stringify(mine.status)}`);

    // The connection's entry reaches the same log as HTTP requests (recentLog, the `log` event), never the combined one.
    const entry = await waitFor('the stream connection in recentLog', async () => (await call(gateway, 'recentLog', { limit: 50 })).find((candidate) => candidate.streamId === view.stream.id));
    assert.equal(entry.method, 'TCP');
    assert.equal(entry.path, `:${port}`);
    assert.equal(entry.client, '127.0.0.1');
    assert.equal(combinedLine(entry, null), null, 'a stream entry has no HTTP request line for the combined log');
    await waitFor('the `log` event with the stream entry', () => (events.some((event) => event.type === 'log' && event.data.some((logged) => logged.streamId === view.stream.id)) ? true : undefined));

    await call(gateway, 'removeStream', { id: view.stream.id });
  });

  test('changing a stream\'s port moves only it: the old port refuses, the new one works, another stream\'s open connection carries on', async () => {
    const [first, second, moved] = [await freePort(), await freePort(), await freePort()];
    const a = await call(gateway, 'addStream', tcpStream('A', first, alpha.port));
    const b = await call(gateway, 'addStream', tcpStream('B', second, beta.port));
    assert.equal(b.status.state, 'listening');
    const held = await dial(second);
    assert.equal(await exchange(held, 'one'), 'beta:one');
    const heldOnA = await dial(first);
    assert.equal(await exchange(heldOnA, 'before'), 'alpha:before');

    const changed = await call(gateway, 'updateStream', { ...a.stream, listenPort: moved });
    assert.equal(changed.stream.listenPort, moved);
    assert.equal(changed.status.state, 'listening');
    assert.equal(await connectError(first), 'ECONNREFUSED', 'the old port is closed');
    assert.equal(await roundTrip(moved, 'moved'), 'alpha:moved');
    assert.equal(await exchange(held, 'two'), 'beta:two', 'the other stream\'s connection was not touched');
    // Only the port changed: a connection accepted on the old port keeps going (the listener closed, not the session).
    assert.equal(await exchange(heldOnA, 'after'), 'alpha:after');

    const { removed } = await call(gateway, 'removeStream', { id: a.stream.id });
    assert.equal(removed.id, a.stream.id);
    assert.equal(await connectError(moved), 'ECONNREFUSED', 'a removed stream\'s port refuses');
    assert.equal(await exchange(held, 'three'), 'beta:three');
    assert.deepEqual((await settingsFile(dataDir)).streams.map((stream) => stream.id), [b.stream.id]);

    held.destroy();
    heldOnA.destroy();
    await call(gateway, 'removeStream', { id: b.stream.id });
  });

  test('a port another program holds: the stream is saved, its view says failed with the fix, the proxy keeps running; freed and saved again, it listens', async () => {
    const squatter = createServer();
    squatter.listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    const port = (squatter.address() as { port: number }).port;
    let view: StreamView;
    try {
      view = await call(gateway, 'addStream', tcpStream('Taken', port, alpha.port));
      assert.equal(view.status.state, 'failed');
      assert.equal(view.status.problem?.code, 'port_in_use');
      assert.match(view.status.problem!.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.match(view.status.problem!.fix, process.platform === 'linux' ? /ss -ltnp/ : /choose another port/);
      assert.ok((await settingsFile(dataDir)).streams.some((stream) => stream.id === view.stream.id), 'the stream is saved');
      assert.equal((await call(gateway, 'getStatus')).state, 'running', 'a failed stream does not fail the proxy');

      const checks = await call(gateway, 'checkPorts', { httpPort: 0, bindAddress: '127.0.0.1' });
      const check = checks.find((candidate) => candidate.role === 'stream' && candidate.streamId === view.stream.id);
      assert.ok(check, JSON.stringify(checks));
      assert.equal(check.available, false);
      assert.equal(check.transport, 'tcp');
      assert.equal(check.port, port);
      assert.equal(check.portEnd, null);
      assert.equal(check.problem?.code, 'port_in_use');
      assert.ok(check.problem?.fix, 'the check carries the fix');
      const without = await call(gateway, 'checkPorts', { httpPort: 0, bindAddress: '127.0.0.1', streams: false });
      assert.deepEqual(without.map((candidate) => candidate.role), ['http'], 'streams: false checks the HTTP ports only');
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
    const again = await call(gateway, 'updateStream', { ...view.stream });
    assert.equal(again.status.state, 'listening', 'saving again after the port was freed binds it');
    assert.equal(await roundTrip(port, 'free'), 'alpha:free');
    const checks = await call(gateway, 'checkPorts', { httpPort: 0, bindAddress: '127.0.0.1' });
    const own = checks.find((candidate) => candidate.streamId === view.stream.id);
    assert.deepEqual({ available: own?.available, ownProxy: own?.ownProxy, problem: own?.problem }, { available: true, ownProxy: true, problem: null }, 'our own listening stream holds its port');
    await call(gateway, 'removeStream', { id: view.stream.id });
  });

  test('a UDP port another program holds: failed with the UDP spelling of the fix, in the view and in checkPorts', async () => {
    const squatter = createSocket('udp4');
    await new Promise<void>((resolve) => squatter.bind(0, '127.0.0.1', resolve));
    const port = squatter.address().port;
    try {
      const view = await call(gateway, 'addStream', { title: 'DNS', preset: 'dns', protocol: 'udp', listenPort: port, upstreams: ['127.0.0.1:53'] });
      assert.equal(view.status.state, 'failed');
      assert.equal(view.status.problem?.code, 'port_in_use');
      if (process.platform === 'linux') assert.match(view.status.problem?.fix ?? '', new RegExp(`ss -lunp 'sport = :${port}'`), "the stream's own status speaks of UDP too");
      const checks = await call(gateway, 'checkPorts', { httpPort: 0, bindAddress: '127.0.0.1' });
      const check = checks.find((candidate) => candidate.streamId === view.stream.id);
      assert.equal(check?.transport, 'udp');
      assert.equal(check?.available, false);
      if (process.platform === 'linux') assert.match(check?.problem?.fix ?? '', new RegExp(`ss -lunp 'sport = :${port}'`));
      await call(gateway, 'removeStream', { id: view.stream.id });
    } finally {
      squatter.close();
    }
  });

  test('a port clash is refused naming this input\'s field and the other owner', async () => {
    const port = await freePort();
    const first = await call(gateway, 'addStream', tcpStream('First', port, alpha.port));
    const error = await rejectsWith(call(gateway, 'addStream', tcpStream('Second', port, beta.port)), 'invalid_input');
    assert.equal(error.details.issues?.[0]?.path, 'listenPort');
    assert.match(error.message, /stream "First"/);
    // UDP on the same number is another port.
    const udp = await call(gateway, 'addStream', { title: 'Same number, UDP', protocol: 'udp', listenPort: port, upstreams: ['127.0.0.1:9'] });
    assert.equal(udp.status.state, 'listening');
    const range = await rejectsWith(call(gateway, 'addStream', { ...tcpStream('Range', port - 2, beta.port), listenPortEnd: port + 2 }), 'invalid_input');
    assert.equal(range.details.issues?.[0]?.path, 'listenPort');
    const list = await rejectsWith(call(gateway, 'addStream', { ...tcpStream('Listed', await freePort(), beta.port), access: { lists: ['nosuchlist'] } }), 'invalid_input');
    assert.equal(list.details.issues?.[0]?.path, 'access.lists.0');
    await call(gateway, 'removeStream', { id: first.stream.id });
    await call(gateway, 'removeStream', { id: udp.stream.id });
  });

  test('an access list used by a stream cannot be removed; the refusal names the stream', async () => {
    const list = await call(gateway, 'addAccessList', { name: 'Friends', entries: [{ action: 'allow', range: '127.0.0.1' }] });
    const view = await call(gateway, 'addStream', { ...tcpStream('Game', await freePort(), alpha.port), access: { lists: [list.id] } });
    const error = await rejectsWith(call(gateway, 'removeAccessList', { id: list.id }), 'conflict');
    assert.match(error.message, /stream "Game"/);
    assert.equal(await roundTrip(view.stream.listenPort, 'allowed'), 'alpha:allowed');
    await call(gateway, 'removeStream', { id: view.stream.id });
    await call(gateway, 'removeAccessList', { id: list.id });
  });

  test('a route whose certificate an FTPS stream uses cannot be removed or lose HTTPS', async () => {
    const route = await call(gateway, 'addRoute', {
      names: ['files.home.arpa'],
      upstream: '127.0.0.1:9',
      tls: { mode: 'local', certificateId: null, redirectHttp: false, hsts: false, proxyProtocol: 'off' },
    });
    const passive = await freePort();
    const ftp = await call(gateway, 'addStream', {
      title: 'NAS FTP',
      preset: 'ftps',
      protocol: 'ftp',
      listenPort: await freePort(),
      upstreams: ['127.0.0.1:21'],
      ftp: { passivePortFrom: passive, passivePortTo: passive, tls: 'required', certificateRouteId: route.id },
    });
    const removal = await rejectsWith(call(gateway, 'removeRoute', { id: route.id }), 'conflict');
    assert.match(removal.message, /"NAS FTP"/);
    assert.ok(removal.details.fix);
    const { id: _id, ...fields } = route;
    const noTls = await rejectsWith(call(gateway, 'updateRoute', { id: route.id, ...fields, tls: { ...route.tls, mode: 'none' } }), 'conflict');
    assert.match(noTls.message, /without HTTPS.*"NAS FTP"/);
    const checks = await call(gateway, 'checkPorts', { httpPort: 0, bindAddress: '127.0.0.1' });
    const passiveCheck = checks.find((check) => check.role === 'ftp-passive' && check.streamId === ftp.stream.id);
    assert.deepEqual({ port: passiveCheck?.port, portEnd: passiveCheck?.portEnd, available: passiveCheck?.available }, { port: passive, portEnd: passive, available: true });
    const missing = await rejectsWith(call(gateway, 'updateStream', { ...ftp.stream, ftp: { ...ftp.stream.ftp!, certificateRouteId: 'nosuchroute' } }), 'invalid_input');
    assert.equal(missing.details.issues?.[0]?.path, 'ftp.certificateRouteId');

    await call(gateway, 'removeStream', { id: ftp.stream.id });
    await call(gateway, 'removeRoute', { id: route.id });
  });

  test('export and import carry streams: the preview lists them, the import applies them live', async () => {
    const port = await freePort();
    const view = await call(gateway, 'addStream', tcpStream('Backed up', port, alpha.port));
    const exported = await call(gateway, 'exportSettings');
    assert.deepEqual(exported.settings.streams.map((stream) => stream.id), [view.stream.id]);

    await call(gateway, 'removeStream', { id: view.stream.id });
    assert.equal(await connectError(port), 'ECONNREFUSED');
    const other = await call(gateway, 'addStream', tcpStream('Not in the file', await freePort(), beta.port));

    const preview = await call(gateway, 'previewImport', { document: exported });
    assert.deepEqual(preview.streams?.added.map((stream) => stream.id), [view.stream.id]);
    assert.deepEqual(preview.streams?.removed.map((stream) => stream.id), [other.stream.id]);
    assert.equal(preview.streams?.changed.length, 0);
    assert.ok(!preview.settings.some((change) => change.path.startsWith('streams')), 'streams are not a general setting in the preview');

    await call(gateway, 'importSettings', { document: exported });
    const listed = await call(gateway, 'listStreams');
    assert.deepEqual(listed.map((entry) => [entry.stream.id, entry.status.state]), [[view.stream.id, 'listening']]);
    assert.equal(await roundTrip(port, 'restored'), 'alpha:restored');
    assert.equal(await connectError(other.stream.listenPort), 'ECONNREFUSED', 'the stream the file does not have is gone');
    await call(gateway, 'removeStream', { id: view.stream.id });
  });

  test('the streams event carries every stream with its status, at most about once a second', async () => {
    const port = await freePort();
    const since = events.length;
    const view = await call(gateway, 'addStream', tcpStream('Announced', port, alpha.port));
    const announced = await waitFor('a streams event with the new stream', () => {
      const found = events.slice(since).find((event) => event.type === 'streams' && event.data.some((entry) => entry.stream.id === view.stream.id));
      return found?.type === 'streams' ? found.data : undefined;
    }, 5000);
    assert.equal(announced.find((entry) => entry.stream.id === view.stream.id)?.status.state, 'listening');
    // A burst of traffic (each connection a change) makes a few events, not one per connection.
    const burstStart = events.length;
    const startedAt = performance.now();
    for (let i = 0; i < 20; i++) assert.equal(await roundTrip(port, `n${i}`), `alpha:n${i}`);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const seconds = (performance.now() - startedAt) / 1000;
    const burst = events.slice(burstStart).filter((event) => event.type === 'streams').length;
    assert.ok(burst >= 1 && burst <= Math.ceil(seconds) + 2, `${burst} streams events in ${seconds.toFixed(1)} s`);
    await call(gateway, 'removeStream', { id: view.stream.id });
  });

  test('streams follow the proxy: stop closes them, start opens them; an HTTP port move keeps their connections; a bind-address move takes them along', async () => {
    const port = await freePort();
    const view = await call(gateway, 'addStream', tcpStream('Follows', port, alpha.port));
    await call(gateway, 'stopProxy');
    assert.equal(await connectError(port), 'ECONNREFUSED');
    assert.equal((await call(gateway, 'getStream', { id: view.stream.id })).status.state, 'stopped');
    await call(gateway, 'startProxy');
    assert.equal(await roundTrip(port, 'back'), 'alpha:back');

    const held = await dial(port);
    assert.equal(await exchange(held, 'x'), 'alpha:x');
    const httpBefore = (await call(gateway, 'getStatus')).http!.port;
    const newHttp = await freePort();
    await call(gateway, 'updateSettings', { proxy: { httpPort: newHttp } });
    assert.equal((await call(gateway, 'getStatus')).http?.port, newHttp);
    assert.notEqual(newHttp, httpBefore);
    assert.equal(await exchange(held, 'y'), 'alpha:y', 'the stream connection outlived the HTTP listener\'s move');

    await call(gateway, 'updateSettings', { proxy: { bindAddress: '127.0.0.2' } });
    assert.equal(await roundTrip(port, 'moved', '127.0.0.2'), 'alpha:moved');
    assert.equal(await connectError(port, '127.0.0.1'), 'ECONNREFUSED', 'nothing left on the old address');
    await call(gateway, 'updateSettings', { proxy: { bindAddress: '127.0.0.1' } });
    held.destroy();
    await call(gateway, 'removeStream', { id: view.stream.id });
  });
});
