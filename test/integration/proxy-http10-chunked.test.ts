// HTTP/1.0 has no chunked coding. RFC 9112 §6.1: a server that receives an HTTP/1.0 message with
// Transfer-Encoding must treat its framing as faulty and close the connection after it. Before, a
// keep-alive HTTP/1.0 request with `Transfer-Encoding: chunked` kept the connection open and the
// request pipelined behind it was served: two parsers disagreeing on where a body ends is how
// requests get smuggled. Now it is answered with Connection: close, and nothing after it is served.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseResponses, rawExchange, startProxy, startRecordingUpstream, testRoute, waitFor, type ProxyUnderTest, type RecordingUpstream } from '../helpers/raw-http.js';

let upstream: RecordingUpstream;
let proxy: ProxyUnderTest;

before(async () => {
  upstream = await startRecordingUpstream('up');
  proxy = await startProxy([testRoute('app', ['app.test'], upstream.url)]);
});

after(async () => {
  await proxy.stop();
  await upstream.close();
});

test('HTTP/1.0 POST with Transfer-Encoding: chunked, keep-alive asked, a GET pipelined behind: one answer with Connection: close, then the connection closes', async () => {
  const before = upstream.requests.length;
  const bytes =
    'POST /ten HTTP/1.0\r\nHost: app.test\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' +
    'GET /after HTTP/1.1\r\nHost: app.test\r\n\r\n';
  const result = await rawExchange(proxy.port, bytes, { settleMs: 0, timeoutMs: 5000 });
  assert.ok(result.closed, `the proxy must close the connection; got ${JSON.stringify(result.text.slice(0, 300))}`);
  const responses = parseResponses(result.text);
  assert.equal(responses.length, 1, `exactly one answer; got ${JSON.stringify(result.text.slice(0, 600))}`);
  assert.equal(responses[0]?.status, 200);
  assert.equal(responses[0]?.headers.connection?.toLowerCase(), 'close');
  await waitFor(() => upstream.requests.length > before, 'the POST at the upstream');
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(
    upstream.requests.slice(before).map((r) => r.url),
    ['/ten'],
    'the request pipelined after it never reaches the upstream',
  );
});

test('HTTP/1.0 GET with Transfer-Encoding: chunked and an empty body: answered, then closed', async () => {
  const result = await rawExchange(proxy.port, 'GET /ten-get HTTP/1.0\r\nHost: app.test\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /after2 HTTP/1.0\r\nHost: app.test\r\nConnection: keep-alive\r\n\r\n', { settleMs: 0, timeoutMs: 5000 });
  assert.ok(result.closed);
  const responses = parseResponses(result.text);
  assert.equal(responses.length, 1, `got ${JSON.stringify(result.text.slice(0, 600))}`);
  assert.equal(responses[0]?.headers.connection?.toLowerCase(), 'close');
  assert.ok(!upstream.requests.some((r) => r.url === '/after2'));
});

test('a keep-alive HTTP/1.0 request without Transfer-Encoding still keeps its connection', async () => {
  const result = await rawExchange(proxy.port, 'GET /a HTTP/1.0\r\nHost: app.test\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\nHost: app.test\r\n\r\n', { settleMs: 0, timeoutMs: 5000 });
  const responses = parseResponses(result.text);
  assert.deepEqual(
    responses.map((r) => r.status),
    [200, 200],
  );
  assert.equal(responses[0]?.headers.connection?.toLowerCase(), 'keep-alive');
});
