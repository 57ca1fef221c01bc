// Who sees a failure's detail, for clients on loopback (no namespace needed): this machine sees it
// with the default setting, "nobody" hides it, and behind a trusted proxy the decision is made on the
// real client the trusted-proxy logic names, so a proxy on this machine does not make every visitor
// local. The same rule holds for plain text, HTML and a refused WebSocket upgrade.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { defaultSettings, type ProxySettings } from '../../shared/model.js';
import { freePort } from '../helpers/ports.js';
import { rawRequest } from '../helpers/proxy-harness.js';
import { startProxy, testRoute, type ProxyUnderTest } from '../helpers/raw-http.js';

let proxy: ProxyUnderTest;
let closed: number;
let settings: ProxySettings;

before(async () => {
  closed = await freePort();
  proxy = await startProxy([testRoute('media', ['media.test'], `http://127.0.0.1:${closed}`, { title: 'Jellyfin' })], {}, ['127.0.0.1']);
  settings = { ...defaultSettings().proxy, httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1', trustedProxies: ['127.0.0.1'] };
});
after(() => proxy?.stop());

const get = (headers = '', upgrade = false) =>
  rawRequest(
    proxy.port,
    `GET / HTTP/1.1\r\nHost: media.test\r\n${upgrade ? 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' : 'Connection: close\r\n'}${headers}\r\n`,
  );

test('loopback with the default setting: the page carries the address and the cause', async () => {
  for (const upgrade of [false, true]) {
    const page = await get('Accept: text/html\r\n', upgrade);
    const body = page.body.toString('utf8');
    assert.equal(page.status, 502);
    assert.match(body, /<h1>Jellyfin is not available right now\.<\/h1>/);
    assert.ok(body.includes(`127.0.0.1:${closed}`), body);
    assert.equal(page.headers['x-gatehouse-error'], 'upstream_refused');
  }
});

test('"nobody": loopback gets the visitor page too, in text and HTML, for a request and an upgrade', async () => {
  proxy.engine.applySettings({ ...settings, errorDetails: 'nobody' });
  try {
    for (const upgrade of [false, true]) {
      for (const accept of ['Accept: text/html\r\n', '']) {
        const page = await get(accept, upgrade);
        const body = page.body.toString('utf8');
        assert.equal(page.status, 502);
        assert.ok(body.includes('Jellyfin is not available right now.'), body);
        assert.ok(!body.includes(String(closed)) && !body.includes('127.0.0.1') && !/refused/i.test(body), body);
        assert.equal(page.headers['x-gatehouse-error'], 'service_unavailable');
      }
    }
    const entry = proxy.logged.at(-1);
    assert.equal(entry?.error, 'upstream_refused');
    assert.ok(entry?.detail?.includes(`127.0.0.1:${closed}`), 'the log keeps the detail');
  } finally {
    proxy.engine.applySettings(settings);
  }
});

test('behind a trusted proxy the real client decides: an outside address is a visitor, a local one is not', async () => {
  const outside = await get('X-Forwarded-For: 198.51.100.7\r\n');
  assert.ok(!outside.body.toString('utf8').includes(String(closed)), outside.body.toString('utf8'));
  assert.equal(outside.headers['x-gatehouse-error'], 'service_unavailable');
  assert.equal(proxy.logged.at(-1)?.client, '198.51.100.7');
  const upgrade = await get('X-Forwarded-For: 198.51.100.7\r\n', true);
  assert.ok(!upgrade.body.toString('utf8').includes(String(closed)), upgrade.body.toString('utf8'));
  const local = await get('X-Forwarded-For: 127.0.0.1\r\n');
  assert.ok(local.body.toString('utf8').includes(`127.0.0.1:${closed}`));
});
