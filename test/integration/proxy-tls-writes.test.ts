// How few writes and handshakes a response over TLS costs, seen by real clients: an HTTP/2 answer
// ends with its last DATA frame (END_STREAM set on it), not with an extra empty DATA frame after it
// (Node's compatibility layer waits for trailers unless told not to: one more TLS record a
// response); and a returning client resumes its TLS session (a ticket) instead of a full handshake,
// over TLS 1.3 and TLS 1.2. nghttp prints the frames it receives; openssl s_client says "Reused".
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, constants } from 'node:http2';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { localTls, route, startServer, type TestServer } from '../helpers/proxy-harness.js';
import { openTestCa, startTlsProxy, TestCertificates, type RunningTlsProxy, type TestCa } from '../helpers/tls-proxy.js';
import { needTools } from '../helpers/tools.js';

const run = promisify(execFile);
const skip = needTools(['nghttp', 'nghttp2-client'], 'openssl');
const NAME = 'app.home.arpa';
const BODY = 'a small answer, one frame\n';

let ca: TestCa;
let upstream: TestServer;
let proxy: RunningTlsProxy;
let dir: string;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-tls-writes-'));
  ca = await openTestCa();
  const certs = new TestCertificates(await ca.leaf(['gatehouse.home.arpa']));
  certs.byRoute.set('app', await ca.leaf([NAME]));
  upstream = await startServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/large') return void res.end(Buffer.alloc(100_000, 'x'));
    if (req.url === '/slow') {
      // A first chunk now, the rest much later: a client that leaves in between cut the answer.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part\n');
      const timer = setTimeout(() => res.end('the rest\n'), 5000);
      res.once('close', () => clearTimeout(timer));
      return;
    }
    if (req.method === 'POST') {
      req.resume();
      return void req.once('end', () => res.end('posted\n'));
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(BODY);
  });
  const tls = localTls();
  proxy = await startTlsProxy([route('app', upstream.url, [NAME], { tls })], certs);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
  await ca?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The DATA frames nghttp received on the request's stream: [length, flags] each. */
async function dataFrames(path: string): Promise<{ frames: [number, number][]; output: string }> {
  const { stdout } = await run('nghttp', ['-nv', '--no-dep', '--timeout=5', `https://127.0.0.1:${proxy.httpsPort}${path}`, '-H', `:authority: ${NAME}`], { timeout: 10_000 });
  // The request's stream: the one nghttp sent its HEADERS on.
  const stream = /send HEADERS frame <[^>]*stream_id=(\d+)>/.exec(stdout)?.[1];
  assert.ok(stream, `nghttp sent no request:\n${stdout}`);
  const frames: [number, number][] = [];
  for (const match of stdout.matchAll(/recv DATA frame <length=(\d+), flags=0x([0-9a-f]{2}), stream_id=(\d+)>/g)) {
    if (match[3] === stream) frames.push([Number(match[1]), parseInt(match[2] as string, 16)]);
  }
  return { frames, output: stdout };
}

const END_STREAM = 0x01;

test('an HTTP/2 answer ends with its last DATA frame, with no empty frame after it', { skip }, async () => {
  const { frames, output } = await dataFrames('/small');
  assert.ok(/:status: 200/.test(output), `nghttp got no 200:\n${output}`);
  assert.deepEqual(frames, [[Buffer.byteLength(BODY), END_STREAM]], `the answer's DATA frames (length, flags):\n${output}`);
});

// A body that streams in over several reads ends when its upstream says so, after its last chunk
// went out: then, and only then, an empty frame carries END_STREAM.
test('a streamed HTTP/2 answer arrives whole and ends once, on its last frame', { skip }, async () => {
  const { frames, output } = await dataFrames('/large');
  assert.equal(frames.reduce((sum, [length]) => sum + length, 0), 100_000, output);
  assert.ok(frames.slice(0, -1).every(([length, flags]) => length > 0 && (flags & END_STREAM) === 0), `frames: ${frames.join(' ')}`);
  assert.equal((frames.at(-1) as [number, number])[1] & END_STREAM, END_STREAM);
});

/** Two s_client connections, the second offering the first's session: what the second said. */
async function reconnect(version: '-tls1_3' | '-tls1_2'): Promise<{ first: string; second: string }> {
  const session = join(dir, `session${version}`);
  const base = ['s_client', version, '-connect', `127.0.0.1:${proxy.httpsPort}`, '-servername', NAME, '-CAfile', ca.caPath, '-ign_eof'];
  // A TLS 1.3 ticket arrives after the handshake: the request (and its answer) give it time to.
  const input = `GET /small HTTP/1.1\r\nHost: ${NAME}\r\nConnection: close\r\n\r\n`;
  const inputFile = join(dir, 'request.txt');
  await writeFile(inputFile, input);
  const once = async (extra: string[]) => {
    const { stdout } = await run('sh', ['-c', `openssl ${[...base, ...extra].map((a) => `'${a}'`).join(' ')} < '${inputFile}'`], { timeout: 10_000 });
    return stdout;
  };
  const first = await once(['-sess_out', session]);
  assert.ok((await readFile(session)).length > 0, 'openssl saved no session');
  const second = await once(['-sess_in', session]);
  return { first, second };
}

for (const version of ['-tls1_3', '-tls1_2'] as const) {
  test(`a returning client resumes its TLS session (${version.slice(1)})`, { skip }, async () => {
    const { first, second } = await reconnect(version);
    assert.match(first, /^New, TLSv1\.[23]/m, first);
    assert.match(first, /HTTP\/1\.1 200/, 'the first connection was answered');
    assert.match(second, /^Reused, TLSv1\.[23]/m, `the second connection did a full handshake:\n${second}`);
    assert.match(second, /HTTP\/1\.1 200/, 'the resumed connection was answered');
  });
}

/** One HTTP/2 request on its own connection; `cancelOnData` resets the stream at its first data. */
async function h2Request(method: string, path: string, { body, cancelOnData = false }: { body?: string; cancelOnData?: boolean } = {}): Promise<void> {
  const session = connect(`https://127.0.0.1:${proxy.httpsPort}`, { ca: await readFile(ca.caPath, 'utf8'), servername: NAME });
  session.on('error', () => {});
  try {
    const stream = session.request({ ':method': method, ':path': path, ':authority': NAME });
    stream.on('error', () => {});
    stream.end(body);
    await new Promise<void>((resolve) => {
      stream.on('data', () => {
        if (cancelOnData) stream.close(constants.NGHTTP2_CANCEL);
      });
      stream.once('close', resolve);
    });
  } finally {
    // At once, as a client that got its answer does: the stream's close must still count as done.
    session.close();
  }
}

test('an HTTP/2 answer that went out whole is logged with its status, a cut one as 499', { skip }, async () => {
  await h2Request('POST', '/posted', { body: 'a body' });
  const posted = await proxy.nextLogged((entry) => entry.path === '/posted');
  assert.equal(posted.status, 200, JSON.stringify(posted));
  await h2Request('GET', '/slow', { cancelOnData: true });
  const cut = await proxy.nextLogged((entry) => entry.path === '/slow');
  assert.equal(cut.status, 499, JSON.stringify(cut));
});
