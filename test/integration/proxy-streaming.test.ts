// Bodies stream through the proxy untouched and unbuffered: a 1 GiB upload and download pass with
// flat proxy memory (the engine runs in its own process so its RSS is measured alone); Range,
// Server-Sent Events, chunked and Content-Length framing, gzip, redirects, HEAD, 204 and 304 reach
// the client exactly as the upstream sent them.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Agent } from 'undici';
import {
  fetchThrough,
  parseResponse,
  rawExchange,
  rawRequest,
  route,
  sleep,
  startProxy,
  startProxyProcess,
  startServer,
  within,
  type ProxyProcess,
  type RunningProxy,
  type TestServer,
} from '../helpers/proxy-harness.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const CHUNK = 64 * 1024;
/** How far the proxy's RSS may rise above its warmed-up level while 1 GiB passes through. */
const RSS_ALLOWANCE = 64 * MiB;

/**
 * `total` bytes made on demand, 64 KiB at a time: a fixed random block with the chunk's index
 * stamped in, so a dropped, repeated or reordered chunk changes the checksum. Never holds more
 * than the chunk being read.
 */
class PatternSource extends Readable {
  private static readonly block = (() => {
    const block = Buffer.alloc(CHUNK);
    for (let i = 0; i < CHUNK; i++) block[i] = (i * 2654435761) >>> 24;
    return block;
  })();

  private sent = 0;
  private index = 0;
  readonly hash = createHash('sha256');

  constructor(private readonly total: number) {
    super({ highWaterMark: CHUNK });
  }

  override _read(): void {
    if (this.sent >= this.total) {
      this.push(null);
      return;
    }
    const size = Math.min(CHUNK, this.total - this.sent);
    const chunk = Buffer.allocUnsafe(size);
    PatternSource.block.copy(chunk, 0, 0, size);
    if (size >= 8) chunk.writeBigUInt64BE(BigInt(this.index), 0);
    this.index++;
    this.sent += size;
    this.hash.update(chunk);
    this.push(chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Reads `stream` to its end, counting and hashing, and pausing 10 ms every 8 MiB: a reader slower
 * than the writer, so a proxy that ignored backpressure would have to hold the difference.
 */
async function drainSlowly(stream: Readable): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  let nextPause = 8 * MiB;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
    if (bytes >= nextPause) {
      nextPause += 8 * MiB;
      await sleep(10);
    }
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Samples the proxy process's RSS every 50 ms until stopped; reports the highest. */
function sampleRss(proxy: ProxyProcess): { stop(): Promise<{ max: number; samples: number }> } {
  let max = 0;
  let samples = 0;
  let running = true;
  let failure: unknown = null;
  const loop = (async () => {
    while (running) {
      const rss = await proxy.rssBytes();
      max = Math.max(max, rss);
      samples++;
      await sleep(50);
    }
  })().catch((error: unknown) => (failure = error));
  return {
    async stop() {
      running = false;
      await loop;
      if (failure) throw failure;
      return { max, samples };
    },
  };
}

describe('1 GiB through the proxy with flat memory', () => {
  let upstream: TestServer;
  let proxy: ProxyProcess;
  /** What the upstream received for the last upload. */
  let lastUpload: Promise<{ bytes: number; sha256: string }> | null = null;
  let lastDownload: PatternSource | null = null;

  before(async () => {
    upstream = await startServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'POST' && url.pathname === '/upload') {
        lastUpload = drainSlowly(req);
        lastUpload.then(
          (received) => {
            const body = JSON.stringify(received);
            res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
            res.end(body);
          },
          () => res.destroy(),
        );
        return;
      }
      if (url.pathname === '/download') {
        const size = Number(url.searchParams.get('bytes'));
        const source = (lastDownload = new PatternSource(size));
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
        source.pipe(res);
        return;
      }
      res.writeHead(404).end();
    });
    proxy = await startProxyProcess([route('big', upstream.url, ['big.test'])]);
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  function upload(size: number): Promise<{ status: number; echoed: { bytes: number; sha256: string }; sent: string }> {
    return new Promise((resolve, reject) => {
      const source = new PatternSource(size);
      // No Content-Length: the upload goes chunked, as a browser streams an unknown-size body.
      const req = httpRequest({ host: '127.0.0.1', port: proxy.port, method: 'POST', path: '/upload', headers: { host: 'big.test', 'content-type': 'application/octet-stream' }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, echoed: JSON.parse(Buffer.concat(chunks).toString()) as { bytes: number; sha256: string }, sent: source.digest() }));
        res.on('error', reject);
      });
      req.on('error', reject);
      source.pipe(req);
    });
  }

  function download(size: number): Promise<{ status: number; length: string | undefined; received: { bytes: number; sha256: string } }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: proxy.port, path: `/download?bytes=${size}`, headers: { host: 'big.test' }, agent: false }, (res: IncomingMessage) => {
        drainSlowly(res).then((received) => resolve({ status: res.statusCode ?? 0, length: res.headers['content-length'], received }), reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  test('a 1 GiB chunked upload arrives whole and the proxy does not hold it', async () => {
    // Warm up (JIT, pools, buffers) so the baseline is the proxy's steady state.
    const warm = await within(upload(128 * MiB), 30_000, 'a 128 MiB upload');
    assert.equal(warm.echoed.bytes, 128 * MiB);
    const baseline = await proxy.rssBytes();
    const sampler = sampleRss(proxy);
    const result = await within(upload(GiB), 120_000, 'a 1 GiB upload').finally(() => sampler.stop());
    const { max, samples } = await sampler.stop();
    assert.equal(result.status, 200);
    assert.equal(result.echoed.bytes, GiB);
    assert.equal(result.echoed.sha256, result.sent, 'the upstream received different bytes than the client sent');
    assert.ok(samples >= 5, `only ${samples} memory samples were taken`);
    assert.ok(max - baseline < RSS_ALLOWANCE, `the proxy's RSS rose by ${((max - baseline) / MiB).toFixed(1)} MiB during a 1 GiB upload`);
  });

  test('a 1 GiB download arrives whole and the proxy does not hold it', async () => {
    const warm = await within(download(128 * MiB), 30_000, 'a 128 MiB download');
    assert.equal(warm.received.bytes, 128 * MiB);
    const baseline = await proxy.rssBytes();
    const sampler = sampleRss(proxy);
    const result = await within(download(GiB), 120_000, 'a 1 GiB download').finally(() => sampler.stop());
    const { max, samples } = await sampler.stop();
    assert.equal(result.status, 200);
    assert.equal(result.length, String(GiB));
    assert.equal(result.received.bytes, GiB);
    assert.equal(result.received.sha256, (lastDownload as PatternSource | null)?.digest(), 'the client received different bytes than the upstream sent');
    assert.ok(samples >= 5, `only ${samples} memory samples were taken`);
    assert.ok(max - baseline < RSS_ALLOWANCE, `the proxy's RSS rose by ${((max - baseline) / MiB).toFixed(1)} MiB during a 1 GiB download`);
  });
});

describe('responses pass exactly as the upstream sent them', () => {
  let upstream: TestServer;
  let proxy: RunningProxy;
  const client = new Agent();
  const gzipped = gzipSync(Buffer.from('compressible text '.repeat(500)));
  const wholeFile = Buffer.from(Array.from({ length: 1000 }, (_, i) => String.fromCharCode(65 + (i % 26))).join(''));
  const hits: string[] = [];
  const sse = { headersSentAt: 0, firstWrittenAt: 0, secondWrittenAt: 0 };

  before(async () => {
    upstream = await startServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      hits.push(`${req.method} ${url.pathname}`);
      switch (url.pathname) {
        case '/range': {
          const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
          if (!range) {
            res.writeHead(200, { 'content-length': wholeFile.length, 'accept-ranges': 'bytes' }).end(wholeFile);
            return;
          }
          const [from, to] = [Number(range[1]), Number(range[2])];
          res.writeHead(206, { 'content-range': `bytes ${from}-${to}/${wholeFile.length}`, 'content-length': to - from + 1, 'accept-ranges': 'bytes', 'x-range-received': req.headers.range ?? '' });
          res.end(wholeFile.subarray(from, to + 1));
          return;
        }
        case '/events': {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          res.flushHeaders();
          sse.headersSentAt = performance.now();
          setTimeout(() => {
            res.write('id: 1\ndata: first\n\n');
            sse.firstWrittenAt = performance.now();
            setTimeout(() => {
              sse.secondWrittenAt = performance.now();
              res.end('id: 2\ndata: second\n\n');
            }, 1000);
          }, 300);
          return;
        }
        case '/echo-framing': {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => {
            const body = Buffer.concat(chunks);
            res.writeHead(200, {
              'x-received-length': req.headers['content-length'] ?? 'none',
              'x-received-te': req.headers['transfer-encoding'] ?? 'none',
              'content-length': body.length,
            });
            res.end(body);
          });
          return;
        }
        case '/chunked':
          // No Content-Length: Node frames this chunked, written in three parts.
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('part one, ');
          setTimeout(() => {
            res.write('part two, ');
            setTimeout(() => res.end('part three'), 20);
          }, 20);
          return;
        case '/sized':
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 26 }).end('abcdefghijklmnopqrstuvwxyz');
          return;
        case '/gzip':
          res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip', 'content-length': gzipped.length, vary: 'accept-encoding', 'x-accept-encoding-received': req.headers['accept-encoding'] ?? 'none' });
          res.end(gzipped);
          return;
        case '/moved':
          res.writeHead(Number(url.searchParams.get('status')), { location: 'https://elsewhere.example/new?from=moved', 'content-length': 0 }).end();
          return;
        case '/relative-redirect':
          res.writeHead(302, { location: '/target', 'content-length': 0 }).end();
          return;
        case '/head':
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 1234, etag: '"v1"' });
          res.end(req.method === 'HEAD' ? undefined : Buffer.alloc(1234, 1));
          return;
        case '/no-content':
          res.writeHead(204, { 'x-kind': 'no-content' }).end();
          return;
        case '/not-modified':
          res.writeHead(304, { etag: '"v1"', 'x-kind': 'not-modified' }).end();
          return;
        case '/ok':
          res.writeHead(200, { 'content-length': 2 }).end('ok');
          return;
        default:
          res.writeHead(404, { 'content-length': 0 }).end();
      }
    });
    proxy = await startProxy([route('files', upstream.url, ['files.test'])]);
  });

  after(async () => {
    await proxy?.stop();
    await client.close();
    await upstream?.close();
  });

  test('a Range request reaches the upstream unchanged and its 206 reaches the client unchanged', async () => {
    const res = await fetchThrough(client, proxy.port, 'files.test', '/range', { headers: { range: 'bytes=100-199' } });
    assert.equal(res.status, 206);
    assert.equal(res.headers['x-range-received'], 'bytes=100-199');
    assert.equal(res.headers['content-range'], 'bytes 100-199/1000');
    assert.equal(res.headers['content-length'], '100');
    assert.deepEqual(res.body, wholeFile.subarray(100, 200));
  });

  test('Server-Sent Events arrive as they are written: headers first, each event without waiting for the next', async () => {
    const seen = await within(
      new Promise<{ headersAt: number; firstAt: number; secondAt: number; text: string; type: string | undefined }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: proxy.port, path: '/events', headers: { host: 'files.test', accept: 'text/event-stream' }, agent: false }, (res) => {
          const headersAt = performance.now();
          let text = '';
          let firstAt = 0;
          let secondAt = 0;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
            if (!firstAt && text.includes('data: first\n\n')) firstAt = performance.now();
            if (!secondAt && text.includes('data: second\n\n')) secondAt = performance.now();
          });
          res.on('end', () => resolve({ headersAt, firstAt, secondAt, text, type: res.headers['content-type'] }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      }),
      5000,
      'the event stream',
    );
    assert.equal(seen.type, 'text/event-stream');
    assert.equal(seen.text, 'id: 1\ndata: first\n\nid: 2\ndata: second\n\n');
    assert.ok(seen.headersAt < sse.firstWrittenAt, 'the response head only arrived with the first event');
    assert.ok(seen.firstAt > 0 && seen.firstAt < sse.secondWrittenAt, 'the first event was held until the second was written');
    assert.ok(seen.firstAt - sse.firstWrittenAt < 500, `the first event took ${Math.round(seen.firstAt - sse.firstWrittenAt)} ms to arrive`);
  });

  test('a Content-Length request body arrives with its length', async () => {
    const res = await rawRequest(proxy.port, 'POST /echo-framing HTTP/1.1\r\nHost: files.test\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world');
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-received-length'], '11');
    assert.equal(res.body.toString(), 'hello world');
  });

  test('a chunked request body arrives whole', async () => {
    const res = await rawRequest(
      proxy.port,
      'POST /echo-framing HTTP/1.1\r\nHost: files.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' + '5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n',
    );
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'hello world');
    // The proxy re-frames the stream it forwards; either framing is fine, but one must be there.
    assert.ok(res.headers['x-received-te'] === 'chunked' || res.headers['x-received-length'] === '11', res.head);
  });

  test('a chunked response reaches the client chunked and whole', async () => {
    const res = await rawRequest(proxy.port, 'GET /chunked HTTP/1.1\r\nHost: files.test\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 200);
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    assert.equal(res.headers['content-length'], undefined);
    assert.equal(res.body.toString(), 'part one, part two, part three');
  });

  test('a Content-Length response reaches the client with that length', async () => {
    const res = await rawRequest(proxy.port, 'GET /sized HTTP/1.1\r\nHost: files.test\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], '26');
    assert.equal(res.headers['transfer-encoding'], undefined);
    assert.equal(res.body.toString(), 'abcdefghijklmnopqrstuvwxyz');
  });

  test('a gzip body passes byte for byte, still compressed', async () => {
    const res = await fetchThrough(client, proxy.port, 'files.test', '/gzip', { headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-accept-encoding-received'], 'gzip, br');
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.equal(res.headers['content-length'], String(gzipped.length));
    assert.deepEqual(res.body, gzipped);
  });

  test('redirects pass to the client with their Location; the proxy never follows them', async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const before = hits.length;
      const res = await fetchThrough(client, proxy.port, 'files.test', `/moved?status=${status}`);
      assert.equal(res.status, status);
      assert.equal(res.headers.location, 'https://elsewhere.example/new?from=moved');
      assert.deepEqual(hits.slice(before), ['GET /moved']);
    }
    const before = hits.length;
    const relative = await fetchThrough(client, proxy.port, 'files.test', '/relative-redirect');
    assert.equal(relative.status, 302);
    assert.equal(relative.headers.location, '/target');
    assert.deepEqual(hits.slice(before), ['GET /relative-redirect'], 'the proxy fetched the redirect target itself');
  });

  test('HEAD gets the headers GET would, and no body, on a connection that stays usable', async () => {
    const raw = await rawExchange(
      proxy.port,
      'HEAD /head HTTP/1.1\r\nHost: files.test\r\n\r\nGET /ok HTTP/1.1\r\nHost: files.test\r\nConnection: close\r\n\r\n',
    );
    const head = parseResponse(raw, { bodyless: true, closed: true });
    assert.ok(head);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '1234');
    assert.equal(head.headers.etag, '"v1"');
    const next = parseResponse(head.rest, { closed: true });
    assert.ok(next, 'no second response after HEAD');
    assert.match(next.head, /^HTTP\/1\.1 200/, 'HEAD was followed by body bytes instead of the next response');
    assert.equal(next.body.toString(), 'ok');
    assert.equal(next.rest.length, 0);
    const viaUndici = await fetchThrough(client, proxy.port, 'files.test', '/head', { method: 'HEAD' });
    assert.equal(viaUndici.status, 200);
    assert.equal(viaUndici.body.length, 0);
  });

  for (const [path, status] of [['/no-content', 204], ['/not-modified', 304]] as const) {
    test(`${status} reaches the client with no body, and the next response follows directly`, async () => {
      const raw = await rawExchange(
        proxy.port,
        `GET ${path} HTTP/1.1\r\nHost: files.test\r\nIf-None-Match: "v1"\r\n\r\nGET /ok HTTP/1.1\r\nHost: files.test\r\nConnection: close\r\n\r\n`,
      );
      const first = parseResponse(raw, { closed: true });
      assert.ok(first);
      assert.equal(first.status, status);
      assert.equal(first.headers['transfer-encoding'], undefined);
      assert.ok(first.headers['content-length'] === undefined || first.headers['content-length'] === '0', first.head);
      assert.match(first.rest.toString('latin1'), /^HTTP\/1\.1 200 /, `bytes followed the ${status} head: ${JSON.stringify(first.rest.toString('latin1').slice(0, 40))}`);
      const second = parseResponse(first.rest, { closed: true });
      assert.equal(second?.body.toString(), 'ok');
    });
  }
});
