// The upstream side of the request path under misbehaviour (issue 14, item 9), each case driven by
// a raw TCP upstream that writes the exact bytes: a body shorter than its Content-Length then
// silence, an unsolicited `100 Continue` before the answer, a reset after the head but before any
// body byte, and a status outside 100–599.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultSettings } from '../../shared/model.js';
import { collect, getThrough, openRaw, parseResponses, rawExchange, startProxy, startTcpUpstream, testRoute, waitFor, type ProxyUnderTest, type TcpUpstream } from '../helpers/raw-http.js';
import { poolRoute } from '../helpers/upstream-pool.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/**
 * A raw upstream that reads each request (head, and a Content-Length body) and lets `respond` write
 * whatever bytes it likes. Counts the requests it saw.
 */
async function rawUpstream(respond: (socket: Socket, head: string, body: string) => void): Promise<TcpUpstream & { seen: string[]; accepted: () => number }> {
  const seen: string[] = [];
  let accepted = 0;
  const upstream = await startTcpUpstream((socket) => {
    accepted++;
    let buffered = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffered.slice(0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const body = buffered.slice(end + 4, end + 4 + length);
        buffered = buffered.slice(end + 4 + length);
        seen.push(head.split('\r\n')[0] as string);
        respond(socket, head, body);
      }
    });
  });
  cleanups.push(() => upstream.close());
  return Object.assign(upstream, { seen, accepted: () => accepted });
}

async function proxyFor(upstreams: string[], timeouts: Parameters<typeof startProxy>[1] = {}): Promise<ProxyUnderTest> {
  const route = upstreams.length === 1 ? testRoute('svc', ['svc.example'], upstreams[0] as string) : poolRoute('svc', ['svc.example'], upstreams);
  const proxy = await startProxy([route], timeouts);
  cleanups.push(() => proxy.stop());
  return proxy;
}

describe('a body shorter than its Content-Length, then silence', () => {
  test('upstreamBodyIdleMs defaults to 60 s, as nginx does', () => {
    assert.equal(defaultSettings().proxy.timeouts.upstreamBodyIdleMs, 60_000);
  });

  test('the client gets the bytes sent and then the connection is cut, not left hanging', async () => {
    const upstream = await rawUpstream((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: text/plain\r\n\r\n' + 'x'.repeat(10)));
    const proxy = await proxyFor([upstream.url], { upstreamBodyIdleMs: 400 });
    const socket = await openRaw(proxy.port);
    const result = collect(socket, { settleMs: 0, timeoutMs: 8000 });
    socket.write('GET /short HTTP/1.1\r\nHost: svc.example\r\n\r\n');
    const { text, closed, ms } = await result;
    socket.destroy();
    assert.equal(closed, true, `the connection is cut (after ${Math.round(ms)} ms)`);
    assert.ok(ms >= 300, `not before the idle limit (${Math.round(ms)} ms)`);
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.ok(text.endsWith('\r\n\r\n' + 'x'.repeat(10)), 'the 10 bytes arrive and nothing pretends to complete the body');
    await waitFor(() => proxy.logged.some((e) => e.path === '/short'), 'the log entry');
    const entry = proxy.logged.find((e) => e.path === '/short');
    assert.equal(entry?.error, 'upstream_reset');
    assert.match(entry?.detail ?? '', /stopped sending its response/);
  });

  test('a head and then silence, no body byte: the route\'s 504 page, since nothing reached the client', async () => {
    const upstream = await rawUpstream((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n'));
    const proxy = await proxyFor([upstream.url], { upstreamBodyIdleMs: 400 });
    const response = await getThrough(proxy.port, 'svc.example', '/headonly');
    assert.equal(response.status, 504);
    assert.equal(response.headers['x-gatehouse-error'], 'upstream_timeout');
  });
});

describe('an unsolicited 100 Continue', () => {
  const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
  const OK = (body: string) => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nContent-Type: text/plain\r\n\r\n${body}`;

  test('before the 200 is skipped (RFC 9110 §15.2), on a fresh and on a reused connection', async () => {
    const upstream = await rawUpstream((socket, head) => socket.write(CONTINUE + OK(`answer to ${head.split(' ')[1]}`)));
    const proxy = await proxyFor([upstream.url]);
    const one = await getThrough(proxy.port, 'svc.example', '/one');
    await sleep(50);
    const two = await getThrough(proxy.port, 'svc.example', '/two');
    assert.deepEqual(
      [one, two].map((r) => [r.status, r.body]),
      [
        [200, 'answer to /one'],
        [200, 'answer to /two'],
      ],
    );
    assert.equal(upstream.accepted(), 1, 'the upstream connection was kept and reused');
  });

  test('split across packets, with a header, and twice in a row', async () => {
    const upstream = await rawUpstream((socket) => {
      socket.write('HTTP/1.1 10');
      setTimeout(() => socket.write('0 Continue\r\nX-Note: early\r\n'), 30);
      setTimeout(() => socket.write('\r\nHTTP/1.1 100 Continue\r\n\r\n'), 60);
      setTimeout(() => socket.write(OK('split')), 90);
    });
    const proxy = await proxyFor([upstream.url]);
    const response = await getThrough(proxy.port, 'svc.example');
    assert.equal(response.status, 200);
    assert.equal(response.body, 'split');
  });

  test('sent after reading the head of a POST, before its body: the body still arrives and the 200 passes', async () => {
    // As a server that always answers Expect would: the 100 goes out as soon as the head is in.
    const early = await startTcpUpstream((socket) => {
      let buffered = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        const before = buffered;
        buffered += chunk;
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        if (before.indexOf('\r\n\r\n') === -1) socket.write(CONTINUE);
        const body = buffered.slice(end + 4);
        if (body.length >= 5) socket.write(OK(`got ${body}`));
      });
    });
    cleanups.push(() => early.close());
    const proxy = await proxyFor([early.url]);
    const post = await rawExchange(proxy.port, 'POST /up HTTP/1.1\r\nHost: svc.example\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello', { settleMs: 0, timeoutMs: 5000 });
    const [answer] = parseResponses(post.text);
    assert.equal(answer?.status, 200);
    assert.equal(answer?.body, 'got hello');
  });

  test('a response body that happens to start with "HTTP/1.1 100" is passed on untouched', async () => {
    const body = 'HTTP/1.1 100 Continue\r\n\r\nis just text here';
    const upstream = await rawUpstream((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
      setTimeout(() => socket.write(body), 30);
    });
    const proxy = await proxyFor([upstream.url]);
    const response = await getThrough(proxy.port, 'svc.example');
    assert.equal(response.status, 200);
    assert.equal(response.body, body);
  });
});

describe('a reset after the head, before any body byte', () => {
  const HEAD = 'HTTP/1.1 200 OK\r\nContent-Length: 50\r\nContent-Type: text/plain\r\nX-From-Upstream: yes\r\n\r\n';

  test('one upstream: the route\'s 502 page with a clean head, not an empty reply', async () => {
    const upstream = await rawUpstream((socket) => {
      socket.write(HEAD);
      setTimeout(() => socket.resetAndDestroy(), 30);
    });
    const proxy = await proxyFor([upstream.url]);
    const response = await getThrough(proxy.port, 'svc.example', '/cut');
    assert.equal(response.status, 502);
    assert.equal(response.headers['x-from-upstream'], undefined, 'nothing of the failed head is kept');
    assert.match(response.body, /svc is not available right now/);
    await waitFor(() => proxy.logged.some((e) => e.path === '/cut'), 'the log entry');
    assert.equal(proxy.logged.find((e) => e.path === '/cut')?.error, 'upstream_reset');
  });

  test('two upstreams: a GET is retried on the other; a POST whose body was sent is not', async () => {
    const cutting = await rawUpstream((socket) => {
      socket.write(HEAD);
      setTimeout(() => socket.resetAndDestroy(), 30);
    });
    const good = await rawUpstream((socket, head) => {
      const body = `good ${head.split(' ')[0]}`;
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    });
    const proxy = await proxyFor([cutting.url, good.url]);
    const get = await getThrough(proxy.port, 'svc.example', '/again');
    assert.equal(get.status, 200);
    assert.equal(get.body, 'good GET');
    assert.equal(cutting.seen.length, 1, 'the first upstream had it first');
    await waitFor(() => proxy.logged.some((e) => e.path === '/again'), 'the log entry');
    assert.equal(proxy.logged.find((e) => e.path === '/again')?.upstream, good.address, 'the log names the upstream that answered');
    const post = await rawExchange(proxy.port, 'POST /once HTTP/1.1\r\nHost: svc.example\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndata', { settleMs: 0, timeoutMs: 5000 });
    assert.equal(parseResponses(post.text)[0]?.status, 502);
    assert.equal(good.seen.includes('POST /once HTTP/1.1'), false, 'a POST whose body was sent is never repeated');
  });
});

describe('a status outside 100–599', () => {
  for (const status of ['600', '099', '999']) {
    test(`status ${status} is a 502 response_invalid (docs/api.md), and the upstream stays usable`, async () => {
      const upstream = await rawUpstream((socket, head) => {
        if (head.startsWith('GET /bad')) socket.write(`HTTP/1.1 ${status} Odd\r\nContent-Length: 2\r\nX-Leak: no\r\n\r\nno`);
        else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      });
      const proxy = await proxyFor([upstream.url]);
      const response = await getThrough(proxy.port, 'svc.example', '/bad');
      assert.equal(response.status, 502);
      assert.equal(response.headers['x-leak'], undefined);
      await waitFor(() => proxy.logged.some((e) => e.path === '/bad'), 'the log entry');
      const entry = proxy.logged.find((e) => e.path === '/bad');
      assert.equal(entry?.error, 'response_invalid');
      assert.match(entry?.detail ?? '', new RegExp(`status ${Number(status)}, which is not an HTTP status`));
      assert.equal((await getThrough(proxy.port, 'svc.example', '/fine')).status, 200);
    });
  }
});
