// The first-run port step's two facts from the gateway: which listener values this run got from the
// command line (the status lists them until the field is saved), and that the port check takes both
// of the running proxy's own ports (HTTP and HTTPS, either way round) for available, not taken.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { ApiEvent } from '../../shared/api.js';
import type { ProxyStatus } from '../../shared/status.js';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { call } from '../helpers/gateway-calls.js';
import { makeDataDir } from '../helpers/serve.js';

describe('gateway: the proxy\'s own ports and this run\'s overrides', () => {
  let dataDir: string;
  let gateway: Gateway;
  let status: ProxyStatus;

  before(async () => {
    dataDir = await makeDataDir();
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    await gateway.startup();
    status = await call(gateway, 'getStatus');
    assert.equal(status.state, 'running');
  });

  after(async () => {
    await gateway?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('the status lists the command-line overrides, and the saved settings stay as they were', async () => {
    assert.deepEqual(status.overrides, { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' });
    const settings = await call(gateway, 'getSettings');
    assert.deepEqual([settings.proxy.httpPort, settings.proxy.httpsPort, settings.proxy.bindAddress], [80, 443, '0.0.0.0']);
  });

  test('both running ports check as available and held by this Gatehouse, also swapped', async () => {
    const http = status.http!.port;
    const https = status.https!.port;
    const checks = await call(gateway, 'checkPorts', { httpPort: http, httpsPort: https });
    assert.deepEqual(checks, [
      { role: 'http', port: http, address: '127.0.0.1', available: true, problem: null, ownProxy: true },
      { role: 'https', port: https, address: '127.0.0.1', available: true, problem: null, ownProxy: true },
    ]);
    const swapped = await call(gateway, 'checkPorts', { httpPort: https, httpsPort: http });
    assert.deepEqual(
      swapped.map((check) => [check.role, check.port, check.available, check.ownProxy]),
      [
        ['http', https, true, true],
        ['https', http, true, true],
      ],
    );
  });

  test('saving a listener field drops its override, and the status says so at once', async () => {
    const events: ApiEvent[] = [];
    const stop = gateway.subscribe((event) => events.push(event), ['status']);
    try {
      const httpsNow = (await call(gateway, 'getStatus')).https!.port;
      // The same port the proxy has: saved, no move, but the flag no longer decides it.
      await call(gateway, 'updateSettings', { proxy: { httpsPort: httpsNow } });
      const after = await call(gateway, 'getStatus');
      assert.deepEqual(after.overrides, { httpPort: 0, bindAddress: '127.0.0.1' });
      assert.equal(after.https?.port, httpsNow);
      const last = events.filter((event) => event.type === 'status').at(-1);
      assert.deepEqual(last?.type === 'status' ? last.data.overrides : null, { httpPort: 0, bindAddress: '127.0.0.1' }, 'a status event carried the change');
    } finally {
      stop();
    }
  });
});
