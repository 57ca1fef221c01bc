// The limits on a request's head and the one-authority rule, over raw sockets: an oversized or
// over-long head is refused with 431, a missing, repeated or malformed Host with 400, an
// absolute-form target is routed and forwarded on its own authority only, CONNECT gets 405 and a
// target that is neither a path nor an absolute URL gets 400. Each refusal reaches no upstream.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAX_HEADER_BYTES, MAX_HEADERS } from '../../src-main/core/proxy/engine.js';
import { parseResponses, rawExchange, startProxy, startRecordingUpstream, testRoute, type ProxyUnderTest, type RawResponse, type RecordingUpstream } from '../helpers/raw-http.js';

describe('proxy request-head limits', () => {
  let a: RecordingUpstream;
  let b: RecordingUpstream;
  let proxy: ProxyUnderTest;

  before(async () => {
    [a, b] = await Promise.all([startRecordingUpstream('a'), startRecordingUpstream('b')]);
    proxy = await startProxy([testRoute('a', ['a.example'], a.url), testRoute('b', ['b.example'], b.url)]);
  });

  after(async () => {
    await proxy.stop();
    await Promise.all([a.close(), b.close()]);
  });

  /** Sends `head` (CRLF-joined lines, blank line added) and returns the one response it gets. */
  async function send(lines: string[]): Promise<RawResponse & { closed: boolean }> {
    const result = await rawExchange(proxy.port, lines.join('\r\n') + '\r\n\r\n', { settleMs: 300 });
    const responses = parseResponses(result.text);
    assert.equal(responses.length, 1, `expected exactly one response, got: ${JSON.stringify(result.text.slice(0, 300))}`);
    return { ...(responses[0] as RawResponse), closed: result.closed };
  }

  /** Asserts that neither upstream received anything during `fn`. */
  async function reachesNoUpstream<T>(fn: () => Promise<T>): Promise<T> {
    const before = a.requests.length + b.requests.length;
    const result = await fn();
    assert.equal(a.requests.length + b.requests.length, before, 'a refused request must not reach any upstream');
    return result;
  }

  test('the documented limits are 16 KiB of head and 100 fields', () => {
    assert.equal(MAX_HEADER_BYTES, 16 * 1024);
    assert.equal(MAX_HEADERS, 100);
  });

  test('a head over 16 KiB is refused with 431 headers_too_large', async () => {
    const response = await reachesNoUpstream(() => send(['GET / HTTP/1.1', 'Host: a.example', `X-Big: ${'x'.repeat(MAX_HEADER_BYTES + 10)}`]));
    assert.equal(response.status, 431);
    assert.equal(response.headers['x-gatehouse-error'], 'headers_too_large');
    assert.match(response.body, /larger than 16 KiB/);
    assert.equal(response.closed, true);
  });

  test('a head of many small fields over 16 KiB in total is refused with 431 too', async () => {
    const fields = Array.from({ length: 90 }, (_, i) => `X-F${i}: ${'y'.repeat(200)}`);
    const response = await reachesNoUpstream(() => send(['GET / HTTP/1.1', 'Host: a.example', ...fields]));
    assert.equal(response.status, 431);
  });

  test('a head just under 16 KiB is forwarded', async () => {
    const response = await send(['GET /fits HTTP/1.1', 'Host: a.example', 'Connection: close', `X-Big: ${'x'.repeat(MAX_HEADER_BYTES - 200)}`]);
    assert.equal(response.status, 200);
    assert.equal(response.body, 'ok from a');
    assert.equal(a.requests.at(-1)?.url, '/fits');
  });

  test('exactly 100 header fields pass; 101 are refused with 431 too_many_headers', async () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `X-H${i}: v`);
    // Host and Connection count as fields: 2 + 98 = 100.
    const ok = await send(['GET /hundred HTTP/1.1', 'Host: a.example', 'Connection: close', ...fields(98)]);
    assert.equal(ok.status, 200, ok.body);
    const seen = a.requests.at(-1);
    assert.equal(seen?.url, '/hundred');
    assert.equal(seen?.headers['x-h97'], 'v', 'the 100th field reaches the upstream');

    const tooMany = await reachesNoUpstream(() => send(['GET /hundred-and-one HTTP/1.1', 'Host: a.example', 'Connection: close', ...fields(99)]));
    assert.equal(tooMany.status, 431);
    assert.equal(tooMany.headers['x-gatehouse-error'], 'too_many_headers');

    // Far more than the limit (Node truncates the list) is still refused, not silently cut.
    const flood = await reachesNoUpstream(() => send(['GET /flood HTTP/1.1', 'Host: a.example', 'Connection: close', ...fields(400)]));
    assert.equal(flood.status, 431);
  });

  test('an upgrade request with too many fields is refused with 431 as well', async () => {
    const fields = Array.from({ length: 120 }, (_, i) => `X-H${i}: v`);
    const response = await reachesNoUpstream(() =>
      send(['GET /ws HTTP/1.1', 'Host: a.example', 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', ...fields]),
    );
    assert.equal(response.status, 431);
  });

  test('two Host headers are refused with 400 bad_host, even when they agree', async () => {
    for (const second of ['b.example', 'a.example']) {
      const response = await reachesNoUpstream(() => send(['GET / HTTP/1.1', 'Host: a.example', `Host: ${second}`, 'Connection: close']));
      assert.equal(response.status, 400, `Host: a.example + Host: ${second}`);
      assert.equal(response.headers['x-gatehouse-error'], 'bad_host');
    }
  });

  test('a malformed Host is refused with 400: spaces, userinfo, bad characters, empty', async () => {
    const hosts = ['a.example extra', 'a .example', 'user@a.example', 'user:pw@a.example', 'a.example/evil', 'a.example\\x', 'a<b>.example', '"a.example"', 'a.example:port', 'a.example:123456', '-a.example', '[not-ipv6]', ''];
    for (const host of hosts) {
      const response = await reachesNoUpstream(() => send(['GET / HTTP/1.1', `Host: ${host}`, 'Connection: close']));
      assert.equal(response.status, 400, `Host: ${JSON.stringify(host)} → ${response.status}`);
      assert.ok(['bad_host', 'bad_request'].includes(response.headers['x-gatehouse-error'] ?? ''), `Host: ${host}`);
    }
  });

  test('a Host with control characters is refused by the parser with Gatehouse\'s 400 page', async () => {
    const response = await reachesNoUpstream(() => send(['GET / HTTP/1.1', 'Host: a.exa\x01mple', 'Connection: close']));
    assert.equal(response.status, 400);
    assert.equal(response.headers['x-gatehouse-error'], 'bad_request');
  });

  test('an HTTP/1.1 request without Host is refused with 400 bad_host', async () => {
    const response = await reachesNoUpstream(() => send(['GET / HTTP/1.1', 'Connection: close']));
    assert.equal(response.status, 400);
    assert.equal(response.headers['x-gatehouse-error'], 'bad_host');
    assert.match(response.body, /no Host header/);
  });

  test('an HTTP/1.0 request without Host gets the 400 page, not a guess', async () => {
    const response = await reachesNoUpstream(() => send(['GET / HTTP/1.0']));
    assert.equal(response.status, 400);
    assert.equal(response.headers['x-gatehouse-error'], 'bad_host');
    assert.match(response.headers['content-type'] ?? '', /^text\/plain/);
  });

  test('an HTTP/1.0 request with Host is forwarded', async () => {
    const response = await send(['GET /ten HTTP/1.0', 'Host: a.example']);
    assert.equal(response.status, 200);
    assert.equal(a.requests.at(-1)?.url, '/ten');
  });

  test('an absolute-form target is routed on its own authority; the Host header cannot redirect it', async () => {
    const beforeB = b.requests.length;
    const response = await send(['GET http://a.example/abs?q=1 HTTP/1.1', 'Host: b.example', 'Connection: close']);
    assert.equal(response.status, 200);
    assert.equal(response.body, 'ok from a');
    assert.equal(b.requests.length, beforeB, "b's upstream must never see the request");
    const seen = a.requests.at(-1);
    assert.equal(seen?.url, '/abs?q=1', 'the upstream gets origin form');
    assert.equal(seen?.headers.host, 'a.example', 'the upstream gets the authority the request was routed on');
    assert.equal(seen?.headers['x-forwarded-host'], 'a.example');
    assert.deepEqual(proxy.logged.at(-1)?.routeId, 'a');
  });

  test('an absolute-form target without a path, with a port, or in upper case is routed the same way', async () => {
    for (const target of ['http://a.example', 'HTTP://A.EXAMPLE:8080/x', 'http://a.example?x=1']) {
      const beforeB = b.requests.length;
      const response = await send([`GET ${target} HTTP/1.1`, 'Host: b.example', 'Connection: close']);
      assert.equal(response.status, 200, target);
      assert.equal(response.body, 'ok from a', target);
      assert.equal(b.requests.length, beforeB, target);
    }
    assert.equal(a.requests.at(-1)?.url, '/?x=1');
    assert.equal(a.requests.at(-2)?.headers.host, 'A.EXAMPLE:8080');
  });

  test('an absolute-form target with userinfo or no host is refused with 400, reaching no upstream', async () => {
    for (const target of ['http://b.example@a.example/', 'http:///x', 'http://a.exa mple/', 'http://<script>/']) {
      const response = await reachesNoUpstream(() => send([`GET ${target} HTTP/1.1`, 'Host: a.example', 'Connection: close']));
      assert.equal(response.status, 400, target);
    }
  });

  test('CONNECT is refused with 405 and opens no tunnel', async () => {
    const result = await rawExchange(proxy.port, 'CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\nGET / HTTP/1.1\r\nHost: a.example\r\n\r\n');
    const responses = parseResponses(result.text);
    assert.equal(responses.length, 1);
    assert.equal(responses[0]?.status, 405);
    assert.equal(responses[0]?.headers['x-gatehouse-error'], 'method_not_allowed');
    assert.equal(result.closed, true);
  });

  test('a target of "*" or garbage is refused with 400', async () => {
    const cases = ['OPTIONS * HTTP/1.1', 'GET example HTTP/1.1', 'GET ftp://a.example/ HTTP/1.1', 'GET x//a.example/ HTTP/1.1', 'GET ../etc HTTP/1.1', 'GET /a b HTTP/1.1', 'GET /\x7f HTTP/1.1'];
    for (const line of cases) {
      const response = await reachesNoUpstream(() => send([line, 'Host: a.example', 'Connection: close']));
      assert.equal(response.status, 400, JSON.stringify(line));
    }
  });

  test('a request line that is not HTTP at all gets the 400 page and the connection closes', async () => {
    for (const head of ['HELLO\r\n\r\n', 'GET / HTTP/9.9\r\nHost: a.example\r\n\r\n', '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03']) {
      const result = await reachesNoUpstream(() => rawExchange(proxy.port, head));
      const responses = parseResponses(result.text);
      assert.equal(responses.length, 1, JSON.stringify(head));
      assert.equal(responses[0]?.status, 400);
      assert.equal(result.closed, true);
    }
  });

  test('after all that, a normal request is still served', async () => {
    const response = await send(['GET /healthy HTTP/1.1', 'Host: b.example', 'Connection: close']);
    assert.equal(response.status, 200);
    assert.equal(response.body, 'ok from b');
  });
});
