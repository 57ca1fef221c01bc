// An address's gate counts every request to it, even across a settings change that removes the
// last route to that address and adds one back while requests are still under way on the old
// (closing) pool. If the re-added address got a fresh gate counting from zero, twice `connections`
// requests could reach a service that the limit is there to protect.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { after, test } from 'node:test';
import { defaultSettings } from '../../shared/model.js';
import { proxySettings, rawRequest, route, startProxy, startServer, waitUntil, within } from '../helpers/proxy-harness.js';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

test('an address removed and added back while a request holds its only slot still counts that request', async () => {
  const held: ServerResponse[] = [];
  let concurrent = 0;
  let most = 0;
  const upstream = await startServer((req, res) => {
    concurrent++;
    most = Math.max(most, concurrent);
    res.once('close', () => concurrent--);
    if (req.url === '/hold') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '4' });
      held.push(res);
      return;
    }
    res.end('ok');
  });
  cleanups.push(() => upstream.close());
  const limits = { ...defaultSettings().proxy.upstreamLimits, connections: 1, perClient: 2, waitMs: 8000 };
  const proxy = await startProxy([route('svc', upstream.url, ['svc.example'])], { settings: { ...proxySettings(), upstreamLimits: limits } });
  cleanups.push(() => proxy.stop());
  const address = `127.0.0.1:${upstream.port}`;

  const holder = connect({ host: '127.0.0.1', port: proxy.port });
  holder.on('error', () => {});
  cleanups.push(() => void holder.destroy());
  let holderGot = '';
  holder.on('data', (chunk: Buffer) => (holderGot += chunk.toString('latin1')));
  holder.write('GET /hold HTTP/1.1\r\nHost: svc.example\r\n\r\n');
  await waitUntil(() => proxy.engine.upstreamLoad(address)?.inFlight === 1, 5000, 'the held request to take the only slot');

  proxy.engine.setRoutes([]);
  proxy.engine.setRoutes([route('svc', upstream.url, ['svc.example'])]);
  assert.equal(proxy.engine.upstreamLoad(address)?.inFlight, 1, 'the request under way still counts against the address');

  const quick = rawRequest(proxy.port, 'GET /quick HTTP/1.1\r\nHost: svc.example\r\nConnection: close\r\n\r\n', { ms: 10_000 });
  await waitUntil(() => proxy.engine.upstreamLoad(address)?.waiting === 1, 5000, 'the new request to wait for the slot');
  assert.equal(most, 1, 'the service never had more than `connections` requests at once');

  held[0]?.end('done');
  const answered = await within(quick, 10_000, 'the waiting request to be answered once the slot freed');
  assert.equal(answered.status, 200);
  await waitUntil(() => holderGot.endsWith('done'), 5000, 'the held request to finish');
  assert.equal(most, 1);
});
