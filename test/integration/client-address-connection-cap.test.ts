// The per-client connection cap (access.maxConnectionsPerClient), on real sockets. 127/8 is this
// machine's own network and exempt, so the capped client is an internet address a PROXY protocol
// header names (198.51.100.9, from the listed peer 127.0.0.20): exactly how a client behind HAProxy
// is counted. The 257th connection gets a 429 page; others are unaffected; closing frees a place,
// and the count's entry is gone once its connections are.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { proxySettings, route, startProxy, waitUntil, within, type RunningProxy } from '../helpers/proxy-harness.js';
import { startEchoUpstream, type Upstream } from '../helpers/upstream.js';

const CAP = 256;
let upstream: Upstream;
let proxy: RunningProxy;
const held: Socket[] = [];

before(async () => {
  upstream = await startEchoUpstream();
  proxy = await startProxy([route('app', upstream.url, ['app.test'])], { settings: { ...proxySettings(), proxyProtocolFrom: ['127.0.0.20'] } });
  proxy.engine.setConnectionLimit(CAP);
});

after(async () => {
  for (const socket of held) socket.destroy();
  await proxy.stop();
  await upstream.close();
});

function header(source: string): string {
  return `PROXY TCP4 ${source} 127.0.0.1 40000 ${proxy.port}\r\n`;
}

/** A connection that sent its PROXY header and holds still. */
function hold(source: string, localAddress = '127.0.0.20'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: proxy.port, localAddress }, () => {
      socket.write(header(source));
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

/** One request on a new connection; the whole answer. */
function ask(source: string | null, path: string, localAddress = '127.0.0.20'): Promise<string> {
  return within(
    new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: proxy.port, localAddress }, () => {
        socket.write(`${source === null ? '' : header(source)}GET ${path} HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n`);
      });
      let text = '';
      socket.setEncoding('latin1').on('data', (chunk: string) => (text += chunk));
      socket.on('error', () => {});
      socket.on('close', () => resolve(text));
    }),
    5000,
    `an answer to ${path}`,
  );
}

test(`the ${CAP + 1}th open connection from one address gets a 429; other addresses are unaffected`, async () => {
  for (let i = 0; i < CAP; i++) held.push(await hold('198.51.100.9'));
  await waitUntil(() => proxy.engine.openConnectionsFrom('198.51.100.9') === CAP, 5000, `${CAP} counted connections`);

  const refused = await ask('198.51.100.9', '/one-too-many');
  assert.match(refused, /^HTTP\/1\.1 429 /);
  assert.match(refused, /too many connections open/);
  const entry = await proxy.nextLogged((e) => e.error === 'too_many_connections');
  assert.equal(entry.client, '198.51.100.9');
  assert.equal(entry.rule, 'connections per client');
  assert.equal(upstream.requests.some((r) => r.url === '/one-too-many'), false);

  assert.match(await ask('198.51.100.10', '/someone-else'), /^HTTP\/1\.1 200 /);
});

test('closing a connection frees a place; when all are closed the address is no longer counted', async () => {
  (held.pop() as Socket).destroy();
  await waitUntil(() => proxy.engine.openConnectionsFrom('198.51.100.9') === CAP - 1, 3000, 'the count to drop');
  assert.match(await ask('198.51.100.9', '/place-freed'), /^HTTP\/1\.1 200 /);
  for (const socket of held.splice(0)) socket.destroy();
  await waitUntil(() => proxy.engine.openConnectionsFrom('198.51.100.9') === 0, 3000, 'every connection to be released');
});

test("this machine's own network is never capped", async () => {
  proxy.engine.setConnectionLimit(2);
  try {
    const own: Socket[] = [];
    for (let i = 0; i < 5; i++) own.push(await new Promise<Socket>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: proxy.port, localAddress: '127.0.0.9' }, () => resolve(socket));
    }));
    assert.match(await ask(null, '/loopback', '127.0.0.9'), /^HTTP\/1\.1 200 /);
    assert.equal(proxy.engine.openConnectionsFrom('127.0.0.9'), 0);
    for (const socket of own) socket.destroy();
  } finally {
    proxy.engine.setConnectionLimit(CAP);
  }
});

test('an IPv6 client is counted by its /64: new addresses from the same /64 share one count', async () => {
  proxy.engine.setConnectionLimit(3);
  const mine: Socket[] = [];
  const tcp6 = (source: string) => `PROXY TCP6 ${source} ::1 40000 ${proxy.port}\r\n`;
  const open6 = (source: string) =>
    new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: proxy.port, localAddress: '127.0.0.20' }, () => {
        socket.write(tcp6(source));
        resolve(socket);
      });
      socket.on('error', reject);
    });
  try {
    for (let i = 1; i <= 3; i++) mine.push(await open6(`2001:db8:1:2::${i}`));
    await waitUntil(() => proxy.engine.openConnectionsFrom('2001:db8:1:2::99') === 3, 5000, 'three connections counted for the /64');
    const refused = await within(
      new Promise<string>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: proxy.port, localAddress: '127.0.0.20' }, () => {
          socket.write(`${tcp6('2001:db8:1:2:aaaa:bbbb:cccc:dddd')}GET /same-64 HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n`);
        });
        let text = '';
        socket.setEncoding('latin1').on('data', (chunk: string) => (text += chunk));
        socket.on('error', () => {});
        socket.on('close', () => resolve(text));
      }),
      5000,
      'an answer to /same-64',
    );
    assert.match(refused, /^HTTP\/1\.1 429 /, 'a fourth address of the same /64 is one too many');
    assert.equal((await proxy.nextLogged((e) => e.error === 'too_many_connections' && e.client.startsWith('2001:db8:1:2:'))).client, '2001:db8:1:2:aaaa:bbbb:cccc:dddd', 'the log keeps the full address');
    mine.push(await open6('2001:db8:1:3::1'));
    await waitUntil(() => proxy.engine.openConnectionsFrom('2001:db8:1:3::1') === 1, 5000, 'the next /64 counted on its own');
  } finally {
    for (const socket of mine) socket.destroy();
    proxy.engine.setConnectionLimit(CAP);
  }
  await waitUntil(() => proxy.engine.openConnectionsFrom('2001:db8:1:2::1') === 0, 3000, 'the /64 released');
});
