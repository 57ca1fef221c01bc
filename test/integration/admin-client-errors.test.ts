// Requests Node's HTTP parser refuses before the admin sees them, sent byte for byte on raw sockets
// to an AdminServer on 127.0.0.1:0: the answer is the same ApiErrorBody JSON as every other admin
// failure (content type, length, connection close), not Node's bare status line.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { AdminServer } from '../../src-main/headless/admin-server.js';
import { parseResponses, rawExchange, type RawResponse } from '../helpers/raw-http.js';
import { makeDataDir } from '../helpers/serve.js';

function jsonError(response: RawResponse): { code: string; message: string } {
  assert.match(response.headers['content-type'] ?? '', /^application\/json/);
  assert.equal(response.headers.connection, 'close');
  assert.equal(Number(response.headers['content-length']), Buffer.byteLength(response.body, 'latin1'));
  const body = JSON.parse(response.body) as { error: { code: string; message: string } };
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 20, 'a message a person can act on');
  return body.error;
}

describe("admin answers to Node's early errors", () => {
  let dataDir: string;
  let gateway: Gateway;
  let admin: AdminServer;
  let port: number;

  before(async () => {
    dataDir = await makeDataDir();
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    admin = new AdminServer({ gateway, token: 't'.repeat(43), rendererDir: dataDir });
    ({ port } = await admin.listen('127.0.0.1', 0));
  });
  after(async () => {
    await admin?.close();
    await gateway?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('a header block too large gets 431 with a JSON body', async () => {
    // Node's default limit is 16 KiB for the whole head.
    const result = await rawExchange(port, `GET /api/proxy HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.ok(result.closed, 'the connection is closed after the answer');
    const [response, ...rest] = parseResponses(result.text);
    assert.equal(rest.length, 0);
    assert.equal(response!.status, 431);
    const error = jsonError(response!);
    assert.equal(error.code, 'invalid_input');
    assert.match(error.message, /headers are too large/);
  });

  test('a malformed request line gets 400 with a JSON body', async () => {
    for (const bytes of ['GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n', 'HELLO\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n']) {
      const result = await rawExchange(port, bytes);
      assert.ok(result.closed, JSON.stringify(bytes));
      const [response] = parseResponses(result.text);
      assert.equal(response!.status, 400, JSON.stringify(bytes));
      assert.match(jsonError(response!).message, /not valid HTTP/);
    }
  });

  test('a normal request on the same server still gets the usual answer', async () => {
    const result = await rawExchange(port, `GET /api/proxy HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`, { settleMs: 0 });
    const [response] = parseResponses(result.text);
    assert.equal(response!.status, 401, 'the token is still required');
  });
});
