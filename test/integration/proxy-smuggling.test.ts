// Request smuggling, over raw sockets. Each attack sends one request whose framing is ambiguous
// (Content-Length and Transfer-Encoding together, an obfuscated or repeated Transfer-Encoding, a
// malformed Content-Length or chunk, bare LF line ends, abused chunk extensions) with a second
// request hidden in the same bytes. The upstream is a plain http.createServer that records every
// request it receives: it must never see the hidden one as a request of its own, nor more requests
// than the client legitimately sent, and the client gets a 400 or one proper response.
// The controls at the end prove the harness would notice: a request the client legitimately
// pipelined does reach the upstream.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openRaw, parseResponses, rawExchange, startProxy, startRecordingUpstream, testRoute, type ProxyUnderTest, type RecordingUpstream, waitFor } from '../helpers/raw-http.js';

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: a.example\r\n\r\n';
const POST = 'POST /legit HTTP/1.1\r\nHost: a.example\r\n';

interface Attack {
  name: string;
  bytes: string;
}

const attacks: Attack[] = [
  // Content-Length and Transfer-Encoding together (CL.TE and TE.CL).
  { name: 'CL.TE: Content-Length then Transfer-Encoding', bytes: `${POST}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'TE.CL: Transfer-Encoding then Content-Length', bytes: `${POST}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n` },
  { name: 'CL.TE with Content-Length 0', bytes: `${POST}Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}` },
  // Obfuscated Transfer-Encoding.
  { name: 'Transfer-Encoding: xchunked with Content-Length', bytes: `${POST}Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'Transfer-Encoding: xchunked alone', bytes: `${POST}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'Transfer-Encoding: chunked, identity', bytes: `${POST}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'Transfer-Encoding: identity, chunked', bytes: `${POST}Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'Transfer-Encoding: gzip, chunked', bytes: `${POST}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'Transfer-Encoding: chunked;foo', bytes: `${POST}Transfer-Encoding: chunked;foo\r\n\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'duplicated Transfer-Encoding: chunked then identity', bytes: `${POST}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'duplicated Transfer-Encoding: identity then chunked', bytes: `${POST}Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'duplicated Transfer-Encoding: chunked twice', bytes: `${POST}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'space before the colon: "Transfer-Encoding : chunked" with Content-Length', bytes: `${POST}Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'space before the colon, alone', bytes: `${POST}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'leading space before the name (obs-fold start)', bytes: `${POST}Content-Length: 5\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'obs-fold: value on a continuation line', bytes: `${POST}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'vertical tab in the value', bytes: `${POST}Transfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'NUL in a header value', bytes: `${POST}Content-Length: 5\r\nX-Note: a\0b\r\n\r\nhello${SMUGGLED}` },
  // Invalid Content-Length.
  { name: 'Content-Length: +5', bytes: `${POST}Content-Length: +5\r\n\r\nhello${SMUGGLED}` },
  { name: 'Content-Length: -5', bytes: `${POST}Content-Length: -5\r\n\r\nhello${SMUGGLED}` },
  { name: 'Content-Length: 0x5', bytes: `${POST}Content-Length: 0x5\r\n\r\nhello${SMUGGLED}` },
  { name: 'Content-Length: 5, 6', bytes: `${POST}Content-Length: 5, 6\r\n\r\nhello${SMUGGLED}` },
  { name: 'Content-Length: 5, 5 (a list, even of equal values)', bytes: `${POST}Content-Length: 5, 5\r\n\r\nhello${SMUGGLED}` },
  { name: 'Content-Length: 5 6', bytes: `${POST}Content-Length: 5 6\r\n\r\nhello${SMUGGLED}` },
  { name: 'two different Content-Length headers', bytes: `${POST}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello${SMUGGLED}` },
  { name: 'two equal Content-Length headers', bytes: `${POST}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello${SMUGGLED}` },
  { name: 'Content-Length larger than 2^64', bytes: `${POST}Content-Length: 99999999999999999999999\r\n\r\nhello${SMUGGLED}` },
  // Malformed chunks.
  { name: 'chunk size with trailing garbage (5x)', bytes: `${POST}Transfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'negative chunk size', bytes: `${POST}Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'chunk size with 0x prefix', bytes: `${POST}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'chunk size overflowing 64 bits', bytes: `${POST}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nhello\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'chunk size followed by a space', bytes: `${POST}Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'chunk data longer than its size', bytes: `${POST}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'chunk data without its CRLF', bytes: `${POST}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n${SMUGGLED}` },
  { name: 'last chunk without its final CRLF, hidden request as trailer', bytes: `${POST}Transfer-Encoding: chunked\r\n\r\n0\r\n${SMUGGLED}` },
  // Bare LF (and bare CR) line ends.
  { name: 'bare LF after every head line', bytes: `POST /legit HTTP/1.1\nHost: a.example\nContent-Length: 5\n\nhello${SMUGGLED}` },
  { name: 'bare LF after one header', bytes: `${POST}Content-Length: 5\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'bare CR after one header', bytes: `${POST}Content-Length: 5\rTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'bare LF in chunk framing', bytes: `${POST}Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n${SMUGGLED}` },
  { name: 'bare LF on the request line', bytes: `POST /legit HTTP/1.1\nHost: a.example\r\nContent-Length: 5\r\n\r\nhello${SMUGGLED}` },
  // Chunk extensions.
  { name: 'chunk extension over 16 KiB', bytes: `${POST}Transfer-Encoding: chunked\r\n\r\n5;${'a'.repeat(20_000)}\r\nhello\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'chunk extension with a quoted CRLF hiding a request', bytes: `${POST}Transfer-Encoding: chunked\r\n\r\n5;a="\r\n0\r\n\r\n${SMUGGLED}"\r\nhello\r\n0\r\n\r\n` },
  { name: 'chunk extension ended by a bare LF', bytes: `${POST}Transfer-Encoding: chunked\r\n\r\n5;a=b\nhello\r\n0\r\n\r\n${SMUGGLED}` },
  { name: 'chunk extension with a bare CR', bytes: `${POST}Transfer-Encoding: chunked\r\n\r\n5;a\rb\r\nhello\r\n0\r\n\r\n${SMUGGLED}` },
];

describe('request smuggling', () => {
  let upstream: RecordingUpstream;
  let proxy: ProxyUnderTest;

  before(async () => {
    upstream = await startRecordingUpstream('a');
    proxy = await startProxy([testRoute('a', ['a.example'], upstream.url)]);
  });

  after(async () => {
    await proxy.stop();
    await upstream.close();
  });

  /** Sends `bytes` and returns the responses plus what the upstream received meanwhile. */
  async function exchange(bytes: string) {
    const before = upstream.requests.length;
    const result = await rawExchange(proxy.port, bytes, { settleMs: 200, timeoutMs: 3000 });
    // A request the proxy forwarded late would still arrive: give it a moment.
    await sleep(100);
    return { ...result, responses: parseResponses(result.text), seen: upstream.requests.slice(before) };
  }

  for (const attack of attacks) {
    test(attack.name, async () => {
      const { responses, seen, closed, text } = await exchange(attack.bytes);
      const paths = seen.map((r) => `${r.method} ${r.url}`);
      assert.ok(!seen.some((r) => r.url === '/smuggled'), `the upstream saw the hidden request: ${paths.join(', ')}`);
      assert.ok(seen.length <= 1, `the upstream saw more requests than the client sent: ${paths.join(', ')}`);
      for (const request of seen) {
        assert.equal(request.url, '/legit');
        assert.ok(!request.body.includes('/smuggled') || request.body === SMUGGLED, 'a body holds the hidden request only as data');
      }
      assert.equal(responses.length, 1, `expected one response, got: ${JSON.stringify(text.slice(0, 300))}`);
      const [response] = responses;
      if (response?.status === 400) {
        assert.ok(response.headers['x-gatehouse-error'], "the 400 is Gatehouse's own page");
        assert.equal(closed, true, 'after a 400 for bad framing the connection is closed');
      } else {
        assert.equal(response?.status, 200, 'anything but a 400 is the one proper answer');
      }
    });
  }

  test('a GET whose Content-Length body is a request forwards it as data, once', async () => {
    const { responses, seen } = await exchange(`GET /legit HTTP/1.1\r\nHost: a.example\r\nContent-Length: ${SMUGGLED.length}\r\nConnection: close\r\n\r\n${SMUGGLED}`);
    assert.equal(responses.length, 1);
    assert.equal(responses[0]?.status, 200);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.body, SMUGGLED);
  });

  test('a chunked body whose data is a request forwards it as data, once', async () => {
    const body = `${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`;
    const { responses, seen } = await exchange(`${POST}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`);
    assert.equal(responses.length, 1);
    assert.equal(responses[0]?.status, 200);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.body, SMUGGLED);
    // The upstream gets its own, unambiguous framing: one of the two, never both.
    const framing = seen[0]?.headers;
    assert.ok((framing?.['transfer-encoding'] === 'chunked') !== (framing?.['content-length'] === String(SMUGGLED.length)), JSON.stringify(framing));
  });

  test('control: a request the client legitimately pipelined does reach the upstream', async () => {
    const { responses, seen } = await exchange(`${POST}Content-Length: 5\r\n\r\nhello${SMUGGLED}`);
    assert.deepEqual(seen.map((r) => r.url).sort(), ['/legit', '/smuggled']);
    assert.equal(responses.length, 2);
  });

  test('control: valid chunked variants (upper case, tab, extension) frame the body and nothing else', async () => {
    for (const te of ['CHUNKED', '\tchunked', 'chunked ']) {
      const { responses, seen } = await exchange(`${POST}Transfer-Encoding:${te}\r\n\r\n5;name=value\r\nhello\r\n0\r\n\r\n${SMUGGLED}`);
      assert.deepEqual(seen.map((r) => r.url).sort(), ['/legit', '/smuggled'], JSON.stringify(te));
      assert.equal(seen.find((r) => r.url === '/legit')?.body, 'hello');
      assert.equal(responses.length, 2);
    }
  });

  test('a request pipelined behind one Gatehouse refuses with Connection: close is never forwarded', async () => {
    // No route for this name: the 404 closes the connection because the body was not read, and the
    // request after it (its bytes were never vouched for) must die with the connection.
    const { responses, seen } = await exchange(`POST / HTTP/1.1\r\nHost: nowhere.example\r\nContent-Length: 5\r\n\r\nhello${SMUGGLED}`);
    assert.equal(seen.length, 0, `the upstream saw: ${seen.map((r) => r.url).join(', ')}`);
    assert.equal(responses.length, 1);
    assert.equal(responses[0]?.status, 404);
  });

  test('a malformed chunk after the upstream began answering cuts the connection; no 400 is spliced into the answer', async () => {
    const eager = await startRecordingUpstream('eager', (_req, res) => {
      // Answers as soon as the head arrives, body still streaming in.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('early answer ');
    });
    const eagerProxy = await startProxy([testRoute('eager', ['eager.example'], eager.url)]);
    try {
      const socket = await openRaw(eagerProxy.port);
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      const closed = once(socket, 'close');
      socket.write('POST /upload HTTP/1.1\r\nHost: eager.example\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
      await waitFor(() => received.includes('early answer'), 'the upstream answer to start');
      socket.write(`zz\r\n${SMUGGLED}`);
      await Promise.race([closed, sleep(3000).then(() => assert.fail('the connection was not cut'))]);
      assert.ok(!received.includes('HTTP/1.1 400'), `a second status line was spliced into the answer: ${JSON.stringify(received)}`);
      assert.ok(received.startsWith('HTTP/1.1 200 OK\r\n'));
      await sleep(100);
      assert.deepEqual(eager.requests.map((r) => r.url), ['/upload']);
      assert.equal(eager.requests[0]?.aborted, true, 'the upstream request is aborted, not completed');
    } finally {
      await eagerProxy.stop();
      await eager.close();
    }
  });

  test('an upgrade pipelined behind a refused request is never tunnelled', async () => {
    const upgrades: string[] = [];
    const onUpgrade = (req: IncomingMessage, socket: Duplex) => {
      upgrades.push(req.url ?? '');
      socket.destroy();
    };
    upstream.server.on('upgrade', onUpgrade);
    try {
      const upgrade = 'GET /smuggled-upgrade HTTP/1.1\r\nHost: a.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
      const { responses, seen } = await exchange(`POST / HTTP/1.1\r\nHost: nowhere.example\r\nContent-Length: 5\r\n\r\nhello${upgrade}`);
      assert.deepEqual(upgrades, [], 'the upstream was asked for the hidden upgrade');
      assert.equal(seen.length, 0);
      assert.equal(responses.length, 1);
      assert.equal(responses[0]?.status, 404);
    } finally {
      upstream.server.off('upgrade', onUpgrade);
    }
  });

  test('after every attack the proxy still serves a normal request', async () => {
    const { responses, seen } = await exchange('GET /after HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n');
    assert.equal(responses[0]?.status, 200);
    assert.equal(responses[0]?.body, 'ok from a');
    assert.equal(seen[0]?.url, '/after');
  });
});
