// Answers go back in the order the requests came (RFC 9112 §9.3.2), even when a pipelined request
// after a good one is malformed: the good one's answer (which the upstream served) first, then the
// 400 for the bad one, then the connection closes. Before, only the 400 came back and q1's answer,
// though served, was lost.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseResponses, rawExchange, startProxy, startRecordingUpstream, testRoute, type ProxyUnderTest, type RecordingUpstream } from '../helpers/raw-http.js';

let upstream: RecordingUpstream;
let proxy: ProxyUnderTest;

before(async () => {
  // q1 is answered after a moment, so the malformed request behind it is parsed (and refused)
  // while q1 is still with the upstream: the case that lost q1's answer.
  upstream = await startRecordingUpstream('up', (req, res) => {
    const answer = () => {
      const body = `answer to ${req.url}`;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    req.resume();
    req.on('end', () => setTimeout(answer, req.url === '/slow' ? 300 : 0));
  });
  proxy = await startProxy([testRoute('app', ['app.test'], upstream.url)]);
});

after(async () => {
  await proxy.stop();
  await upstream.close();
});

for (const [what, first] of [
  ['answered after a moment', '/slow'],
  ['answered at once', '/q1'],
] as const) {
  test(`GET ${first} (${what}) pipelined with a malformed request: ${first}'s answer, then the 400, then close`, async () => {
    const before = upstream.requests.length;
    const result = await rawExchange(proxy.port, `GET ${first} HTTP/1.1\r\nHost: app.test\r\n\r\nGET /q2 HTTP/1.1\r\nHost app.test no colon\r\n\r\n`, { settleMs: 0, timeoutMs: 5000 });
    assert.ok(result.closed, `the connection should close after the 400; got ${JSON.stringify(result.text.slice(0, 300))}`);
    const responses = parseResponses(result.text);
    assert.deepEqual(
      responses.map((r) => r.status),
      [200, 400],
      `got ${JSON.stringify(result.text.slice(0, 400))}`,
    );
    assert.equal(responses[0]?.body, `answer to ${first}`);
    assert.equal(responses[1]?.headers.connection, 'close');
    assert.deepEqual(
      upstream.requests.slice(before).map((r) => r.url),
      [first],
      'only the good request reached the upstream',
    );
  });
}

test('two good requests then a malformed one: both answers in order, then the 400', async () => {
  const result = await rawExchange(proxy.port, 'GET /slow HTTP/1.1\r\nHost: app.test\r\n\r\nGET /q2 HTTP/1.1\r\nHost: app.test\r\n\r\nGARBAGE\r\n\r\n', { settleMs: 0, timeoutMs: 5000 });
  assert.ok(result.closed);
  const responses = parseResponses(result.text);
  assert.deepEqual(
    responses.map((r) => [r.status, r.body.startsWith('answer') ? r.body : '']),
    [
      [200, 'answer to /slow'],
      [200, 'answer to /q2'],
      [400, ''],
    ],
  );
});
