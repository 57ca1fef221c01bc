// What `gatehouse serve` keeps across a restart: routes and settings changed through the API, and
// the admin token. And what it tidies: serve.json goes away on a graceful stop (exit 0).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { GeneralSettings, Route } from '../../shared/model.js';
import { makeDataDir, startServe } from '../helpers/serve.js';
import { requestThrough, startEchoUpstream } from '../helpers/upstream.js';

test('routes and settings changed through the API survive a restart of serve', async () => {
  const dataDir = await makeDataDir();
  const upstream = await startEchoUpstream('restart');
  try {
    const first = await startServe({ dataDir });
    const added = await first.api('/api/routes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Kept', names: ['kept.test'], upstream: upstream.address }),
    });
    const route = (await added.json()) as Route;
    const patched = await first.api('/api/settings', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ proxy: { trustedProxies: ['10.0.0.0/8'] } }),
    });
    assert.equal(patched.status, 200);
    const stopped = await first.stop();
    assert.deepEqual(stopped, { code: 0, signal: null }, 'SIGTERM is a graceful stop with exit 0');
    assert.match(first.stdout(), /Received SIGTERM/);
    assert.equal(existsSync(join(dataDir, 'serve.json')), false, 'serve.json is removed on exit');

    const second = await startServe({ dataDir });
    try {
      assert.equal(second.token, first.token, 'the admin token is reused');
      assert.equal((await stat(join(dataDir, 'admin-token'))).mode & 0o777, 0o600);
      assert.deepEqual(await (await second.api('/api/routes')).json(), [route]);
      const settings = (await (await second.api('/api/settings')).json()) as GeneralSettings;
      assert.deepEqual(settings.proxy.trustedProxies, ['10.0.0.0/8']);
      assert.equal(settings.proxy.httpPort, 80, '--http-port was not saved');
      assert.equal((await requestThrough(second.proxyPort!, 'kept.test')).status, 200);
      const saved = JSON.parse(await readFile(join(dataDir, 'settings.json'), 'utf8')) as { routes: Route[] };
      assert.deepEqual(saved.routes, [route]);
    } finally {
      assert.equal((await second.stop()).code, 0);
    }
  } finally {
    await upstream.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
