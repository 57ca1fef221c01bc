// What a visitor from outside this machine's networks sees when a service fails: for every kind of
// upstream failure, a page (HTML and plain text, curl from a network namespace that is on none of
// this machine's subnets) that names the service by its title, offers a retry and states the time,
// and carries no upstream address, host name, port, errno or TLS code. The log keeps the full
// detail. Clients on this machine see the detail with the default setting; "this-machine" and
// "nobody" narrow that, applied to the running engine.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultSettings, noTls, type ProxySettings, type Route } from '../../shared/model.js';
import type { AccessLogEntry } from '../../shared/status.js';
import { ProxyEngine } from '../../src-main/core/proxy/engine.js';
import { needOutsideClient, OutsideClient } from '../helpers/outside-client.js';
import { freePort } from '../helpers/ports.js';
import { run, selfSignedCert, startServer, waitUntil, type TestServer } from '../helpers/proxy-harness.js';
import { startTcpUpstream, type TcpUpstream } from '../helpers/raw-http.js';
import { defaultRouteAccess } from '../../shared/access.js';
import { defaultBalancing, defaultHealthCheck, singleUpstream } from '../../shared/upstreams.js';

const skip = needOutsideClient('curl');
const REWRITTEN_HOST = 'backend-secret.lan';
const TIME = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/;
/** Codes that name a cause: never on a visitor's page. */
const CODES = /ECONN|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_|EHOST|ENETUNREACH|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO|CERT_|ERR_|EPROTO|UND_ERR|HPE_|upstream_/;

interface Failure {
  kind: string;
  host: string;
  title: string;
  /** Strings that would give the LAN away: the upstream's host and port. */
  secrets: string[];
  /** A WebSocket upgrade rather than a plain GET. */
  websocket?: boolean;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function parseCurl(stdout: string): Answer {
  // With -i, interim and final heads precede the body; the last head is the answer.
  let rest = stdout;
  let head = '';
  while (/^HTTP\/[\d.]+ \d{3}/.test(rest)) {
    const end = rest.indexOf('\r\n\r\n');
    assert.ok(end !== -1, `no complete head in ${JSON.stringify(stdout.slice(0, 300))}`);
    head = rest.slice(0, end);
    rest = rest.slice(end + 4);
  }
  const [statusLine, ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(/ (\d{3})/.exec(statusLine ?? '')?.[1]), headers, body: rest };
}

function curlArgs(url: string, failure: Failure, html: boolean): string[] {
  const args = ['curl', '-sS', '-i', '--max-time', '10', '-H', `Host: ${failure.host}`, '-H', `Accept: ${html ? 'text/html' : '*/*'}`];
  if (failure.websocket) {
    args.push('-H', 'Connection: Upgrade', '-H', 'Upgrade: websocket', '-H', 'Sec-WebSocket-Version: 13', '-H', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==');
  }
  return [...args, url];
}

function assertVisitorPage(answer: Answer, failure: Failure, html: boolean): void {
  const what = `${failure.kind} (${html ? 'HTML' : 'text'}): ${answer.body}`;
  assert.ok(answer.status >= 500 && answer.status < 600, `${what} status ${answer.status}`);
  assert.match(answer.headers['content-type'] ?? '', html ? /^text\/html/ : /^text\/plain/, what);
  assert.ok(answer.body.includes(failure.title), `names the service: ${what}`);
  assert.match(answer.body, html ? /<a class="retry" href="">Try again<\/a>/ : /Try again/, `offers a retry: ${what}`);
  assert.match(answer.body, TIME, `states the time: ${what}`);
  for (const secret of [...failure.secrets, REWRITTEN_HOST, '127.0.0.1', 'localhost', '.invalid']) {
    assert.ok(!answer.body.includes(secret), `${what} gives away ${secret}`);
  }
  assert.doesNotMatch(answer.body, CODES, what);
  assert.doesNotMatch(answer.headers['x-gatehouse-error'] ?? '', CODES, what);
  assert.ok(!answer.body.includes('    at '), `no stack: ${what}`);
}

function assertDetailedPage(answer: Answer, failure: Failure): void {
  assert.ok(answer.body.includes(failure.title), failure.kind);
  const secret = failure.secrets[0] as string;
  assert.ok(answer.body.includes(secret), `${failure.kind}: the detail names ${secret}: ${answer.body}`);
  assert.match(answer.headers['x-gatehouse-error'] ?? '', /^upstream_/, failure.kind);
}

describe('error pages for visitors', { skip }, () => {
  const failures: Failure[] = [];
  const routes: Route[] = [];
  const servers: (TcpUpstream | TestServer)[] = [];
  const logged: AccessLogEntry[] = [];
  let outside: OutsideClient;
  let engine: ProxyEngine;
  let settings: ProxySettings;
  let port: number;
  let certDir: string;

  const add = (kind: string, upstream: string, secrets: string[], extra: Partial<Failure> = {}) => {
    const id = kind.replace(/\W/g, '-');
    const failure: Failure = { kind, host: `${id}.example`, title: `Service ${id}`, secrets, ...extra };
    failures.push(failure);
    routes.push({
      id, title: failure.title, names: [failure.host], upstreams: singleUpstream(upstream), redirect: null, balancing: defaultBalancing(), healthCheck: defaultHealthCheck(), enabled: true, websocket: true, insecureUpstreamTls: false,
      rewriteHost: REWRITTEN_HOST, trustedProxies: null, tls: noTls(), publishOnLan: false, app: null, access: defaultRouteAccess(),
    });
  };

  before(async () => {
    outside = await OutsideClient.create();
    const closed = await freePort();
    add('refused', `http://localhost:${closed}`, [`localhost:${closed}`, String(closed)]);
    const reset = await startTcpUpstream((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const silent = await startTcpUpstream(() => {});
    const garbage = await startTcpUpstream((socket) => socket.once('data', () => socket.end('this is not http\r\n\r\n')));
    certDir = await mkdtemp(join(tmpdir(), 'gh-visitor-'));
    const tls = await startServer((_req, res) => res.end('secret'), { tls: await selfSignedCert(certDir) });
    servers.push(reset, silent, garbage, tls);
    const hostPort = (url: string) => url.replace(/^https?:\/\//, '');
    add('reset', reset.url, [hostPort(reset.url), hostPort(reset.url).split(':')[1] as string]);
    add('timeout', silent.url, [hostPort(silent.url), hostPort(silent.url).split(':')[1] as string]);
    add('tls self-signed', tls.url, [hostPort(tls.url), String(tls.port)]);
    add('bad response', garbage.url, [hostPort(garbage.url), hostPort(garbage.url).split(':')[1] as string]);
    add('dns name', 'http://svc-backend.invalid:8080', ['svc-backend.invalid', '8080']);
    add('websocket to a dead upstream', `http://127.0.0.1:${closed}`, [`127.0.0.1:${closed}`, String(closed)], { websocket: true });

    const base = defaultSettings().proxy;
    settings = {
      ...base,
      httpPort: 0,
      bindAddress: outside.hostAddress,
      timeouts: { ...base.timeouts, upstreamHeadersMs: 500, upstreamConnectMs: 2000 },
    };
    assert.equal(settings.errorDetails, 'local-network', 'the default is what is tested first');
    engine = new ProxyEngine({ settings, stopGraceMs: 500, onRequestLogged: (entry) => logged.push(entry) });
    engine.setRoutes(routes);
    port = (await engine.start()).port;
  });

  after(async () => {
    await engine?.stop();
    for (const server of servers) await server.close();
    await outside?.destroy();
    if (certDir) await rm(certDir, { recursive: true, force: true });
  });

  test('a client outside every own subnet gets the plain page for each failure, the log keeps the detail', async () => {
    for (const failure of failures) {
      for (const html of [true, false]) {
        const result = await outside.exec(curlArgs(`http://${outside.hostAddress}:${port}/some/path`, failure, html));
        assert.equal(result.code, 0, `curl in the namespace failed for ${failure.kind}: ${result.stderr}`);
        assertVisitorPage(parseCurl(result.stdout), failure, html);
      }
      let entry: AccessLogEntry | undefined;
      await waitUntil(() => (entry = logged.find((e) => e.host === failure.host && e.client === outside.clientAddress)) !== undefined, 3000, `the log entry for ${failure.kind}`);
      assert.match(entry?.error ?? '', /^upstream_/, failure.kind);
      assert.ok(entry?.detail?.includes(failure.secrets[0] as string), `the log keeps the detail for ${failure.kind}: ${entry?.detail}`);
    }
  });

  test('this machine (its own address on that interface) gets the detail with the default setting', async () => {
    for (const failure of failures) {
      const result = await run('curl', curlArgs(`http://${outside.hostAddress}:${port}/`, failure, true).slice(1));
      assertDetailedPage(parseCurl(result.stdout), failure);
    }
  });

  test('"this-machine" still shows this machine the detail and the outside client nothing', async () => {
    engine.applySettings({ ...settings, errorDetails: 'this-machine' });
    const failure = failures[0] as Failure;
    const mine = await run('curl', curlArgs(`http://${outside.hostAddress}:${port}/`, failure, false).slice(1));
    assertDetailedPage(parseCurl(mine.stdout), failure);
    const theirs = await outside.exec(curlArgs(`http://${outside.hostAddress}:${port}/`, failure, false));
    assertVisitorPage(parseCurl(theirs.stdout), failure, false);
  });

  test('"nobody" hides the detail from this machine too', async () => {
    engine.applySettings({ ...settings, errorDetails: 'nobody' });
    for (const failure of failures) {
      const result = await run('curl', curlArgs(`http://${outside.hostAddress}:${port}/`, failure, true).slice(1));
      assertVisitorPage(parseCurl(result.stdout), failure, true);
    }
    engine.applySettings(settings);
  });
});
