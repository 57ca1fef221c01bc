// proxy.errorDetails reaches the running proxy the way other proxy settings do: saved through
// updateSettings, it applies to the next error page without a restart, and it is in settings.json.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { call, settingsFile } from '../helpers/gateway-calls.js';
import { freePort } from '../helpers/ports.js';
import { rawRequest } from '../helpers/proxy-harness.js';
import { makeDataDir } from '../helpers/serve.js';

let dataDir: string;
let gateway: Gateway;
let closed: number;
let port: number;

before(async () => {
  dataDir = await makeDataDir();
  gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
  await gateway.startup();
  closed = await freePort();
  await call(gateway, 'addRoute', { title: 'Jellyfin', names: ['media.test'], upstream: `127.0.0.1:${closed}` });
  port = (await call(gateway, 'getStatus')).http!.port;
});

after(async () => {
  await gateway?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const page = async () => (await rawRequest(port, 'GET / HTTP/1.1\r\nHost: media.test\r\nConnection: close\r\n\r\n')).body.toString('utf8');

test('the default shows this machine the detail; "nobody" saved through the API hides it at once', async () => {
  assert.equal((await call(gateway, 'getSettings')).proxy.errorDetails, 'local-network');
  assert.ok((await page()).includes(`127.0.0.1:${closed}`));
  await call(gateway, 'updateSettings', { proxy: { errorDetails: 'nobody' } });
  assert.equal((await settingsFile(dataDir)).proxy.errorDetails, 'nobody');
  const hidden = await page();
  assert.match(hidden, /^502 Jellyfin is not available right now\./);
  assert.ok(!hidden.includes(String(closed)), hidden);
  await call(gateway, 'updateSettings', { proxy: { errorDetails: 'this-machine' } });
  assert.ok((await page()).includes(`127.0.0.1:${closed}`), 'loopback is this machine');
});
