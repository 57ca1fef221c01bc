// Upstream health as the gateway serves it: a new route for a known app checks the app's own
// endpoint unless the input chose a check, the `failover` event reaches subscribers when a route's
// first upstream dies and returns, and getHealth says which upstream serves it and how busy each is.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { FailoverEvent } from '../../shared/status.js';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { call } from '../helpers/gateway-calls.js';
import { answer, HealthUpstream } from '../helpers/health-upstream.js';
import { waitUntil } from '../helpers/proxy-harness.js';
import { makeDataDir } from '../helpers/serve.js';

describe('gateway: upstream health', () => {
  let dataDir: string;
  let gateway: Gateway;
  const servers: HealthUpstream[] = [];

  before(async () => {
    dataDir = await makeDataDir();
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
  });

  after(async () => {
    await gateway?.close();
    await Promise.all(servers.map((server) => server.stop()));
    await rm(dataDir, { recursive: true, force: true });
  });

  test("a new route for a known app checks the app's endpoint, unless the input chose a check", async () => {
    const plex = await call(gateway, 'addRoute', { names: ['plex.test'], upstream: '127.0.0.20:32400', app: 'plex' });
    assert.equal(plex.healthCheck.active.path, '/identity');
    assert.equal(plex.healthCheck.active.bodyContains, 'machineIdentifier');
    assert.equal(plex.healthCheck.active.statusTo, 299);

    const chosen = await call(gateway, 'addRoute', { names: ['plex2.test'], upstream: '127.0.0.21:32400', app: 'plex', healthCheck: { active: { kind: 'tcp' } } });
    assert.equal(chosen.healthCheck.active.kind, 'tcp');
    assert.equal(chosen.healthCheck.active.path, '/', 'the chosen check is kept as given');

    const unknown = await call(gateway, 'addRoute', { names: ['other.test'], upstream: '127.0.0.22:8080' });
    assert.equal(unknown.healthCheck.active.path, '/');
    for (const route of [plex, chosen, unknown]) await call(gateway, 'removeRoute', { id: route.id });
  });

  test('a failover event reaches subscribers when the first upstream dies and when it returns', async () => {
    const a = await new HealthUpstream(answer(200, 'a'), '127.0.0.23').start();
    const b = await new HealthUpstream(answer(200, 'b'), '127.0.0.24').start();
    servers.push(a, b);
    const events: FailoverEvent[] = [];
    const unsubscribe = gateway.subscribe((event) => void (event.type === 'failover' && events.push(event.data)), ['failover']);
    try {
      const route = await call(gateway, 'addRoute', {
        title: 'Media',
        names: ['media.test'],
        upstreams: [{ url: a.url }, { url: b.url }],
        healthCheck: { active: { intervalMs: 500, fails: 1, passes: 1 } },
      });
      const health = async () => (await call(gateway, 'getHealth')).find((entry) => entry.routeId === route.id);
      await waitUntil(() => a.hitsOf('/') >= 1 && b.hitsOf('/') >= 1, 5000, 'both checked');
      let report = await health();
      assert.equal(report?.upstream, a.address);
      assert.deepEqual(report?.upstreams.map((u) => [u.address, u.inFlight, u.served]), [[a.address, 0, 0], [b.address, 0, 0]]);

      await a.stop();
      await waitUntil(() => events.length >= 1, 10_000, 'the failover event');
      assert.deepEqual([events[0]?.kind, events[0]?.title, events[0]?.from, events[0]?.to], ['failed_over', 'Media', a.address, b.address]);
      report = await health();
      assert.equal(report?.failedOver, true);
      assert.equal(report?.upstream, b.address);
      assert.equal(report?.upstreams[0]?.lastCheck?.error, 'refused the connection');

      await a.start();
      await waitUntil(() => events.length >= 2, 10_000, 'the recovery event');
      assert.deepEqual([events[1]?.kind, events[1]?.to], ['recovered', a.address]);
      await call(gateway, 'removeRoute', { id: route.id });
    } finally {
      unsubscribe();
    }
  });
});
