// "Your address, as Gatehouse sees it" through the real `gatehouse serve`: getAccess applies the
// proxy's trust rules to the admin request itself. A forged X-Forwarded-For is ignored until the
// caller's peer is a trusted proxy (proxy.trustedProxies, changed at run time), then believed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AccessOverview } from '../../shared/access.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';

let serve: ServeProcess;

before(async () => {
  serve = await startServe();
});

after(async () => {
  await serve.stop();
});

async function access(headers: Record<string, string> = {}): Promise<AccessOverview> {
  const answer = await serve.api('/api/access', { headers });
  assert.equal(answer.status, 200);
  return (await answer.json()) as AccessOverview;
}

async function patchProxy(proxy: Record<string, unknown>): Promise<void> {
  const answer = await serve.api('/api/settings', { method: 'PATCH', body: JSON.stringify({ proxy }), headers: { 'content-type': 'application/json' } });
  assert.equal(answer.status, 200, await answer.text());
}

test('the caller is its socket address, whatever it claims, until its peer is a trusted proxy', async () => {
  const plain = await access({ 'x-forwarded-for': '203.0.113.4', 'x-real-ip': '203.0.113.5' });
  assert.equal(plain.yourAddress, '127.0.0.1');
  assert.equal(plain.yourAddressIsLan, true);

  await patchProxy({ trustedProxies: ['127.0.0.1'], trustedFronts: ['cloudflare'] });
  const behind = await access({ 'x-forwarded-for': '198.51.100.1, 203.0.113.4' });
  assert.equal(behind.yourAddress, '203.0.113.4');
  assert.equal(behind.yourAddressIsLan, false);
  const forwarded = await access({ forwarded: 'for="[2001:db8::7]:4711"' });
  assert.equal(forwarded.yourAddress, '2001:db8::7');

  await patchProxy({ trustedProxies: [], trustedFronts: [] });
  assert.equal((await access({ 'x-forwarded-for': '203.0.113.4' })).yourAddress, '127.0.0.1');
});
