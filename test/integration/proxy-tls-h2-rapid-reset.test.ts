// HTTP/2 rapid reset (CVE-2023-44487): a client that opens streams and cancels them in a loop is cut
// off after a bounded number of resets on its connection (GOAWAY, then the connection closes), long
// before the idle timeout and well before nghttp2's own limit (about 1000); a normal client on
// another connection keeps being served throughout. Real TLS, node:http2 clients, bounded loop.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { after, before, test } from 'node:test';
import { MAX_STREAM_RESETS } from '../../src-main/core/proxy/tls-listener.js';
import { localTls, route, startServer, within, type TestServer } from '../helpers/proxy-harness.js';
import { openTestCa, startTlsProxy, TestCertificates, type RunningTlsProxy, type TestCa } from '../helpers/tls-proxy.js';

let ca: TestCa;
let proxy: RunningTlsProxy;
let upstream: TestServer;
let caPem: string;
const ATTEMPTS = 900; // far below nghttp2's own limit (about 1000), so that limit cannot be what cuts

before(async () => {
  ca = await openTestCa();
  caPem = await readFile(ca.caPath, 'utf8');
  // Answers after 2 s, so every cancelled stream is still waiting when its reset arrives.
  upstream = await startServer((req, res) => {
    if (req.url === '/slow') setTimeout(() => res.end('late'), 2000).unref();
    else if (req.url === '/cut') {
      // Half a body, then the connection goes: the proxy has to cut the client's stream itself.
      res.writeHead(200, { 'content-length': '100' });
      res.write('half');
      setTimeout(() => req.socket.destroy(), 5).unref();
    } else res.end('ok');
  });
  const certs = new TestCertificates(await ca.leaf(['fallback.home.arpa']));
  certs.byRoute.set('app', await ca.leaf(['app.home.arpa']));
  const tls = localTls();
  proxy = await startTlsProxy([route('app', upstream.url, ['app.home.arpa'], { tls })], certs);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
  await ca?.remove();
});

function session(): ClientHttp2Session {
  const s = connect(`https://127.0.0.1:${proxy.httpsPort}`, { ca: caPem, servername: 'app.home.arpa' });
  s.on('error', () => {});
  return s;
}

/** Resolves once `s`'s PING is answered, or once `s` is gone (the caller's loop then ends). */
function pingAnswered(s: ClientHttp2Session): Promise<void> {
  return new Promise<void>((resolve) => {
    s.once('close', () => resolve());
    try {
      if (s.destroyed || !s.ping(() => resolve())) resolve();
    } catch {
      resolve();
    }
  });
}

function get(s: ClientHttp2Session): Promise<string> {
  return within(
    new Promise<string>((resolve, reject) => {
      const stream = s.request({ ':path': '/', ':authority': 'app.home.arpa' });
      let body = '';
      stream.setEncoding('utf8').on('data', (text: string) => (body += text));
      stream.on('end', () => resolve(body));
      stream.on('error', reject);
    }),
    5000,
    'an HTTP/2 answer',
  );
}

test(`a client resetting streams in a loop is cut off after about ${MAX_STREAM_RESETS} resets; another client is served`, async () => {
  const normal = session();
  assert.equal(await get(normal), 'ok');

  const attacker = session();
  await within(new Promise<void>((resolve) => attacker.once('connect', () => resolve())), 5000, 'the attacker to connect');
  let goaway: number | null = null;
  attacker.once('goaway', (code: number) => (goaway = code));
  const closed = new Promise<void>((resolve) => attacker.once('close', () => resolve()));
  let sent = 0;
  const started = performance.now();
  // Batches of 50 (under the 128 concurrent streams allowed): opened, and reset as soon as their
  // HEADERS are on the wire (nghttp2 drops the HEADERS of a stream reset before they were sent, and
  // such a stream never reaches the proxy at all).
  while (sent < ATTEMPTS && !attacker.closed && !attacker.destroyed && goaway === null) {
    const batch = [];
    for (let i = 0; i < 50 && sent < ATTEMPTS; i++, sent++) {
      try {
        const stream = attacker.request({ ':path': '/slow', ':authority': 'app.home.arpa' });
        stream.on('error', () => {});
        batch.push(stream);
      } catch {
        break; // the session is going away
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
    for (const stream of batch) {
      try {
        stream.close(constants.NGHTTP2_CANCEL);
      } catch {
        break; // the session is gone
      }
    }
    // Paced to the proxy: a PING is answered only after the frames before it were processed, so a
    // busy machine cannot make the loop outrun the bound.
    await within(pingAnswered(attacker), 10_000, 'a PING answer');
    // The normal client keeps working while the attack runs.
    if (sent === 100) assert.equal(await get(normal), 'ok');
  }
  await within(closed, 5000, 'the attacking connection to be closed');
  const ms = performance.now() - started;
  assert.equal(goaway, constants.NGHTTP2_ENHANCE_YOUR_CALM, 'told why: ENHANCE_YOUR_CALM');
  assert.ok(sent > MAX_STREAM_RESETS, `cut only past the bound (sent ${sent})`);
  // Paced by PING, the client is at most a batch or two ahead of what the proxy has counted.
  assert.ok(sent <= MAX_STREAM_RESETS + 150, `cut soon after the bound: ${sent} resets sent`);
  // ENHANCE_YOUR_CALM (above) is the reset limit's doing: the idle timeout closes with NO_ERROR.
  assert.ok(ms < 30_000, `cut in ${Math.round(ms)} ms`);

  assert.equal(await get(normal), 'ok', 'the other connection is still served');
  const fresh = session();
  assert.equal(await get(fresh), 'ok', 'and so is a new one');
  fresh.close();
  normal.close();
});

test(`responses the proxy cuts itself (a service failing mid-body) are not the client's resets`, async () => {
  const s = session();
  let cut = 0;
  for (let batch = 0; batch < 6; batch++) {
    await Promise.all(
      Array.from({ length: 50 }, () =>
        new Promise<void>((resolve) => {
          const stream = s.request({ ':path': '/cut', ':authority': 'app.home.arpa' });
          let bytes = 0;
          stream.on('error', () => {});
          stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
          stream.on('close', () => {
            if (bytes < 100) cut++;
            resolve();
          });
        }),
      ),
    );
  }
  assert.ok(cut > MAX_STREAM_RESETS, `the proxy cut ${cut} responses`);
  assert.ok(proxy.logged.filter((e) => e.path === '/cut' && e.error === 'upstream_reset').length > MAX_STREAM_RESETS, 'cut by the proxy, as the log says');
  assert.equal(await get(s), 'ok', 'the connection is still served');
  s.close();
});

test('a client that cancels a few streams, as a browser leaving a page does, keeps its connection', async () => {
  const s = session();
  for (let i = 0; i < 20; i++) {
    const stream = s.request({ ':path': '/slow', ':authority': 'app.home.arpa' });
    stream.on('error', () => {});
    stream.close(constants.NGHTTP2_CANCEL);
  }
  assert.equal(await get(s), 'ok');
  assert.ok(!s.closed && !s.destroyed);
  s.close();
});
