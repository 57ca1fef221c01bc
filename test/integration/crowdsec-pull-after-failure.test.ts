// After a pull that never reached the LAPI (connection refused) the next pull is a delta: the LAPI
// moves a bouncer's "last pull" only after sending a whole answer, so nothing was lost, and a full
// startup pull would parse megabytes again for nothing. After an answer that broke off mid-way the
// next pull is a full one. The LAPI here is a small stand-in that records the queries it got (the
// real one cannot be made to break an answer off); crowdsec-down.test.ts covers the real LAPI.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultAccessSettings } from '../../shared/access.js';
import type { AccessContext } from '../../src-main/core/access/context.js';
import { CrowdsecBouncer } from '../../src-main/core/access/crowdsec.js';
import { waitUntil } from '../helpers/proxy-harness.js';

const decision = (value: string) => ({ duration: '1h', id: 1, origin: 'cscli', scenario: 'manual', scope: 'Ip', type: 'ban', value });

test('a refused connection keeps the delta; an answer cut off mid-way asks for the whole set', { timeout: 60_000 }, async (t) => {
  const queries: string[] = [];
  let mode: 'ok' | 'cut' = 'ok';
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    queries.push(req.url ?? '');
    if (mode === 'cut') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"new": [');
      setTimeout(() => res.destroy(), 20);
      return;
    }
    const startup = (req.url ?? '').includes('startup=true');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ new: startup ? [decision('198.51.100.40')] : [decision('198.51.100.41')], deleted: [] }));
  };
  let server = createServer(handler).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-csj-'));
  const settings = { ...defaultAccessSettings(), crowdsec: { enabled: true, url: `http://127.0.0.1:${port}`, pullSeconds: 1, applyToLan: false } };
  const bouncer = new CrowdsecBouncer(() => ({ dataDir, settings }) as unknown as AccessContext, () => {});
  t.after(async () => {
    bouncer.close();
    server.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  await bouncer.load();
  await bouncer.setApiKey('test-key');
  bouncer.apply(settings);
  await waitUntil(() => bouncer.status().state === 'ok' && queries.length >= 2, 10_000, 'the startup pull and a delta');
  assert.match(queries[0] as string, /startup=true/);
  assert.doesNotMatch(queries[1] as string, /startup=true/);

  // The LAPI goes away: connections are refused.
  await new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await waitUntil(() => bouncer.status().state === 'down', 10_000, 'down');
  assert.match(bouncer.status().problem ?? '', /connection refused/);
  const before = queries.length;
  server = createServer(handler).listen(port, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  await waitUntil(() => queries.length > before && bouncer.status().state === 'ok', 20_000, 'back to ok');
  assert.doesNotMatch(queries[before] as string, /startup=true/, 'a refused connection lost nothing, yet the next pull was a full one');
  assert.ok(bouncer.banned('198.51.100.40'), 'the startup ban is still held');

  // An answer breaks off mid-way: the LAPI may count it as sent, so the next pull takes the whole set.
  mode = 'cut';
  const cutAt = queries.length;
  await waitUntil(() => queries.length > cutAt && bouncer.status().state === 'down', 10_000, 'a broken answer');
  mode = 'ok';
  const after = queries.length;
  await waitUntil(() => queries.length > after && bouncer.status().state === 'ok', 20_000, 'back to ok after the broken answer');
  assert.match(queries[after] as string, /startup=true/);
});
