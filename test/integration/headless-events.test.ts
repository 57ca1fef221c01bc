// GET /api/events on the real `gatehouse serve`: a status event first, then routes, status and log
// events as things happen, each as `event: TYPE` + `data: JSON`.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { ApiEvent } from '../../shared/api.js';
import { createGateway } from '../../src-main/core/gateway.js';
import { AdminServer } from '../../src-main/headless/admin-server.js';
import { makeDataDir, startServe, type ServeProcess } from '../helpers/serve.js';
import { requestThrough, startEchoUpstream, type Upstream } from '../helpers/upstream.js';

/** Reads SSE messages from a fetch body; `next(type)` waits for the next event of that type. */
function eventReader(body: ReadableStream<Uint8Array>) {
  const received: ApiEvent[] = [];
  const raw: string[] = [];
  const wake: { waiter: (() => void) | null } = { waiter: null };
  let buffer = '';
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        raw.push(block);
        const type = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (type && data) received.push({ type, data: JSON.parse(data) } as ApiEvent);
        wake.waiter?.();
      }
    }
  })().catch(() => {});
  let cursor = 0;
  return {
    received,
    raw,
    async next<T extends ApiEvent['type']>(type: T, timeoutMs = 10_000): Promise<Extract<ApiEvent, { type: T }>> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (cursor < received.length) {
          const event = received[cursor++]!;
          if (event.type === type) return event as Extract<ApiEvent, { type: T }>;
        }
        if (Date.now() > deadline) throw new Error(`no "${type}" event within ${timeoutMs} ms; got ${JSON.stringify(received.map((e) => e.type))}`);
        await new Promise<void>((resolve) => {
          wake.waiter = resolve;
          setTimeout(resolve, 100);
        });
      }
    },
  };
}

describe('headless event stream', () => {
  let serve: ServeProcess;
  let upstream: Upstream;

  before(async () => {
    [serve, upstream] = await Promise.all([startServe(), startEchoUpstream('events')]);
  });
  after(async () => {
    await Promise.all([serve?.stop(), upstream?.close()]);
  });

  test('delivers status first, then routes, status and log events', async () => {
    const abort = new AbortController();
    const response = await serve.api('/api/events', { signal: abort.signal });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = eventReader(response.body!);
    try {
      const first = await events.next('status');
      assert.equal(events.received[0], first, 'the first event is the status');
      assert.equal(first.data.state, 'running');
      assert.match(events.raw[0]!, /^event: status\ndata: \{.*\}$/);

      const added = await serve.api('/api/routes', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ names: ['events.test'], upstream: upstream.address }),
      });
      assert.equal(added.status, 200);
      const routes = await events.next('routes');
      assert.deepEqual(routes.data.map((route) => route.names), [['events.test']]);
      assert.equal((await events.next('status')).data.routeCount, 1);

      await requestThrough(serve.proxyPort!, 'events.test', '/logged');
      const log = await events.next('log');
      assert.ok(Array.isArray(log.data), 'a log event carries a batch of entries');
      assert.equal(log.data.length, 1);
      assert.equal(log.data[0]!.host, 'events.test');
      assert.equal(log.data[0]!.path, '/logged');
      assert.equal(log.data[0]!.status, 200);
      assert.equal(log.data[0]!.detail, null, 'no failure, no detail');

      await serve.api('/api/proxy/stop', { method: 'POST' });
      assert.equal((await events.next('status')).data.state, 'stopping');
      assert.equal((await events.next('status')).data.state, 'stopped');
    } finally {
      abort.abort();
    }
  });

  test('a closed stream is cleaned up and the server keeps answering', async () => {
    for (let i = 0; i < 5; i++) {
      const abort = new AbortController();
      const response = await serve.api('/api/events', { signal: abort.signal });
      const events = eventReader(response.body!);
      await events.next('status');
      abort.abort();
    }
    assert.equal((await serve.api('/api/proxy')).status, 200);
  });
});

describe('event stream keep-alive and cleanup (admin server in-process)', () => {
  test('idle streams get ": ping" comments; a closed stream unsubscribes', async () => {
    const dataDir = await makeDataDir();
    const gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    const token = 'p'.repeat(43);
    const admin = new AdminServer({ gateway, token, rendererDir: dataDir, pingMs: 50 });
    const { port } = await admin.listen('127.0.0.1', 0);
    try {
      const abort = new AbortController();
      const response = await fetch(`http://127.0.0.1:${port}/api/events`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
      const events = eventReader(response.body!);
      assert.equal((await events.next('status')).data.state, 'stopped');
      const deadline = Date.now() + 5000;
      while (!events.raw.includes(': ping') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(events.raw.includes(': ping'), `got ${JSON.stringify(events.raw)}`);
      assert.equal(admin.openEventStreams, 1);

      abort.abort();
      while (admin.openEventStreams > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(admin.openEventStreams, 0, 'the stream was cleaned up after the client left');
    } finally {
      await admin.close();
      await gateway.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
