// Response headers carrying raw UTF-8 bytes (a Content-Disposition file name, as Nextcloud and
// Jellyfin send for downloads) must reach the client byte for byte, never become a 502.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { defaultSettings } from '../../shared/model.js';
import { ProxyEngine } from '../../src-main/core/proxy/engine.js';
import { sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';

const fileName = Buffer.from('attachment; filename="Déjà vu – 東京.mkv"', 'utf8');

const upstream = createServer((req, res) => {
  // Written raw so the header bytes are exactly the UTF-8 above, as a real service sends them.
  const framing = req.url === '/chunked' ? 'transfer-encoding: chunked' : 'content-length: 5';
  const body = req.url === '/chunked' ? '5\r\nhello\r\n0\r\n\r\n' : 'hello';
  res.socket?.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\n${framing}\r\ncontent-disposition: `), fileName, Buffer.from(`\r\n\r\n${body}`)]));
  res.socket?.end();
});
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const settings = defaultSettings().proxy;
const engine = new ProxyEngine({ settings: { ...settings, httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
engine.setRoutes([sampleRoute({ id: 'files', names: ['files.home.arpa'], upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` })]);
const { port } = await engine.start();
after(async () => {
  await engine.stop();
  upstream.close();
});

async function fetchRaw(path: string): Promise<{ head: Buffer; body: string }> {
  // A raw socket: Node's own HTTP client refuses such bytes, browsers and curl take them.
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: files.home.arpa\r\nConnection: close\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
  });
  const headEnd = raw.indexOf('\r\n\r\n');
  return { head: raw.subarray(0, headEnd), body: raw.subarray(headEnd + 4).toString('latin1') };
}

const exactHeader = Buffer.concat([Buffer.from('content-disposition: '), fileName, Buffer.from('\r\n')]);

test('a UTF-8 Content-Disposition next to a Content-Length arrives byte for byte', async () => {
  const { head, body } = await fetchRaw('/download');
  assert.match(head.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(head.includes(exactHeader), 'the header bytes arrive exactly as the service sent them');
  assert.match(head.toString('latin1'), /content-length: 5\r\n/i);
  assert.equal(body, 'hello');
});

test('a UTF-8 Content-Disposition on a chunked response arrives byte for byte', async () => {
  const { head, body } = await fetchRaw('/chunked');
  assert.match(head.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(head.includes(exactHeader), 'the header bytes arrive exactly as the service sent them');
  assert.match(body, /hello/);
});
