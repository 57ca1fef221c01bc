// The renderer's HTTP transport against a real node:http server on 127.0.0.1:0: what it sends for
// each kind of member (method, path parameters, query or JSON body; the session cookie, never a
// token), how it reads answers and errors (a 401 ends the session), the SSE event stream with
// reconnects, and what is left of the old #token= hand-over: taking it out of the address unused.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ApiError, createApiClient, endpoints, type ApiEvent, type ApiMember } from '../../shared/api.js';
import { SseParser, type SseMessage } from '../../src-renderer/transport/sse.js';
import { buildRequest, createHttpTransport, stripTokenFromAddress } from '../../src-renderer/transport/http.js';

interface Seen {
  method: string;
  path: string;
  query: Record<string, string[]>;
  authorization: string | undefined;
  cookie: string | undefined;
  contentType: string | undefined;
  body: string;
}

type Reply = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void;

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
let reply: Reply = (_req, res) => json(res, 200, { ok: true });

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const query: Record<string, string[]> = {};
      for (const [key, value] of url.searchParams) (query[key] ??= []).push(value);
      const entry: Seen = {
        method: req.method ?? '',
        path: url.pathname,
        query,
        authorization: req.headers.authorization,
        cookie: req.headers.cookie,
        contentType: req.headers['content-type'],
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(entry);
      reply(req, res, entry);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

beforeEach(() => {
  seen = [];
  reply = (_req, res) => json(res, 200, { ok: true });
});

/** Node's fetch keeps no cookies: this one plays the browser's part and sends the session cookie when asked to. */
const SESSION_COOKIE = 'gatehouse_session=s3ss10n';
const cookieFetch: typeof fetch = (input, init = {}) => {
  const headers = new Headers(init.headers);
  if (init.credentials === 'same-origin' || init.credentials === 'include') headers.set('cookie', SESSION_COOKIE);
  return globalThis.fetch(input, { ...init, headers });
};

const transport = (extra: Partial<Parameters<typeof createHttpTransport>[0]> = {}) => createHttpTransport({ baseUrl, fetch: cookieFetch, ...extra });

describe('HTTP transport: requests', () => {
  it('sends every member with its method and path, with the session cookie and no token', async () => {
    const inputs: Record<ApiMember, unknown> = {
      listRoutes: {},
      getRoute: { id: 'r1' },
      addRoute: { names: ['a.home.arpa'], upstream: '10.0.0.2:80' },
      updateRoute: { id: 'r1', names: ['a.home.arpa'], upstream: '10.0.0.2:80' },
      setUpstreamDrained: { id: 'r1', url: 'http://10.0.0.2:80', drained: true },
      removeRoute: { id: 'r1' },
      getStatus: {},
      startProxy: {},
      stopProxy: {},
      getStats: {},
      recentLog: { limit: 5 },
      getSettings: {},
      updateSettings: { proxy: { httpPort: 8080 } },
      checkPorts: { httpPort: 8080 },
      getHealth: {},
      exportSettings: {},
      previewImport: { document: { version: 2 } },
      importSettings: { document: { version: 2 } },
      getCertificates: {},
      setCaDomains: { domains: ['home.arpa'], replaceCa: true },
      downloadCa: { format: 'pem' },
      importCertificate: { certificatePem: 'x', privateKeyPem: 'y' },
      removeCertificate: { id: 'c1' },
      renewCertificate: { routeId: 'r1' },
      getTrustPlan: {},
      trustCa: { consent: true, caFingerprintSha256: 'AA:'.repeat(31) + 'AA' },
      untrustCa: { consent: true, caFingerprintSha256: 'AA:'.repeat(31) + 'AA' },
      getAcmeDirectory: { directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory' },
      addAcmeAccount: { label: 'LE', directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory' },
      updateAcmeAccount: { id: 'r1', email: 'me@example.com' },
      rolloverAcmeKey: { id: 'r1' },
      removeAcmeAccount: { id: 'r1' },
      addDnsProvider: { kind: 'duckdns', label: 'Duck', credentials: 'token' },
      updateDnsProvider: { id: 'r1', kind: 'duckdns', label: 'Duck' },
      removeDnsProvider: { id: 'r1' },
      testDnsProvider: { id: 'r1', name: 'www.example.com' },
      preflightCertificate: { names: ['www.example.com'], acme: { accountId: 'r1' } },
      listStreams: {},
      getStream: { id: 'r1' },
      addStream: { title: 'NAS SSH', protocol: 'tcp', listenPort: 2222, upstreams: ['10.33.0.5:22'] },
      updateStream: { id: 'r1', title: 'NAS SSH', protocol: 'tcp', listenPort: 2222, upstreams: ['10.33.0.5:22'] },
      removeStream: { id: 'r1' },
      getDiscovery: {},
      probeHost: { address: '10.33.0.4', ports: [8096] },
      getPresets: {},
      getAppInfo: {},
      getAccess: {},
      addAccessList: { name: 'Family', entries: [] },
      updateAccessList: { id: 'r1', name: 'Family', entries: [] },
      removeAccessList: { id: 'r1' },
      checkAccess: { routeId: 'r1', address: '203.0.113.5' },
      addAccessUser: { name: 'r1', password: 'a long password' },
      setAccessUserPassword: { name: 'r1', password: 'a long password' },
      removeAccessUser: { name: 'r1' },
      addSignInProvider: { name: 'Authelia', kind: 'authelia', url: 'http://10.0.0.5:9091/api/authz/forward-auth' },
      updateSignInProvider: { id: 'r1', name: 'Authelia', kind: 'authelia', url: 'http://10.0.0.5:9091/api/authz/forward-auth' },
      removeSignInProvider: { id: 'r1' },
      updateAccessSettings: { maxConnectionsPerClient: 100 },
      liftBan: { address: '203.0.113.5' },
      searchLog: { status: '5xx', limit: 50 },
      getHistory: { routeId: 'r1', range: '24h' },
      getHistorySummary: { range: '1h' },
      runDoctor: { routeId: 'r1' },
      getInspector: { routeId: 'r1' },
      setInspector: { routeId: 'r1', enabled: true, keep: 20 },
      clearInspector: { routeId: 'r1' },
      replayRequest: { routeId: 'r1', captureId: 'c1' },
      getBackups: {},
      updateBackupSchedule: { enabled: true, folder: '/srv/backups' },
      createBackup: { passphrase: 'a long passphrase' },
      previewRestore: { fileName: 'gatehouse.backup', passphrase: 'a long passphrase' },
      restoreBackup: { fileName: 'gatehouse.backup', passphrase: 'a long passphrase', confirm: true },
      previewNpmImport: { folder: '/srv/npm/data' },
      applyNpmImport: { folder: '/srv/npm/data', keys: ['proxy-host:1'] },
    };
    const http = transport();
    for (const member of Object.keys(endpoints) as ApiMember[]) {
      await http.call(member, inputs[member]);
      const request = seen.at(-1)!;
      assert.equal(request.method, endpoints[member].method, member);
      assert.equal(request.path, endpoints[member].path.replace(':id', member === 'removeCertificate' ? 'c1' : 'r1').replace(':routeId', 'r1').replace(':name', 'r1'), member);
      assert.equal(request.authorization, undefined, member);
      assert.equal(request.cookie, SESSION_COOKIE, member);
    }
  });

  it('fills path parameters from the input and sends the rest as a JSON body', async () => {
    await transport().call('updateRoute', { id: 'a b/c', names: ['x.home.arpa'], upstream: '10.0.0.2:80' });
    const [request] = seen;
    assert.equal(request!.method, 'PUT');
    assert.equal(request!.path, '/api/routes/a%20b%2Fc');
    assert.equal(request!.contentType, 'application/json');
    assert.deepEqual(JSON.parse(request!.body), { names: ['x.home.arpa'], upstream: '10.0.0.2:80' });
    assert.deepEqual(request!.query, {});
  });

  it('sends GET input as query parameters and no body', async () => {
    await transport().call('recentLog', { limit: 50 });
    const [request] = seen;
    assert.equal(request!.method, 'GET');
    assert.equal(request!.path, '/api/log');
    assert.deepEqual(request!.query, { limit: ['50'] });
    assert.equal(request!.body, '');
    assert.equal(request!.contentType, undefined);
  });

  it('sends DELETE with the id in the path and nothing else', async () => {
    await transport().call('removeRoute', { id: 'r7' });
    assert.deepEqual(
      seen.map(({ method, path, query, body }) => ({ method, path, query, body })),
      [{ method: 'DELETE', path: '/api/routes/r7', query: {}, body: '' }],
    );
  });

  it('sends POST without input as an empty JSON object', async () => {
    await transport().call('startProxy', {});
    assert.equal(seen[0]!.method, 'POST');
    assert.equal(seen[0]!.body, '{}');
  });

  it('refuses to build a path without its parameter', () => {
    assert.throws(
      () => buildRequest('getRoute', {}, { baseUrl }),
      (error) => error instanceof ApiError && error.code === 'invalid_input' && error.details.issues?.[0]?.path === 'id',
    );
  });

  it('builds query strings for arrays and leaves out undefined values', () => {
    const { url, init } = buildRequest('listRoutes', { tag: ['a', 'b'], skip: undefined }, { baseUrl });
    assert.equal(url, `${baseUrl}/api/routes?tag=a&tag=b`);
    assert.equal(init.body, undefined);
    assert.equal(init.credentials, 'same-origin');
    assert.equal(init.headers.Authorization, undefined);
  });
});

describe('HTTP transport: answers', () => {
  it('resolves with the JSON body on success', async () => {
    reply = (_req, res) => json(res, 200, [{ id: 'r1' }]);
    assert.deepEqual(await transport().call('listRoutes', {}), [{ id: 'r1' }]);
  });

  it('rejects with the ApiError the error body describes', async () => {
    reply = (_req, res) =>
      json(res, 409, { error: { code: 'port_unavailable', message: 'Port 80 is in use.', fix: 'Stop nginx.' } });
    const client = createApiClient(transport());
    await assert.rejects(
      client.startProxy({}),
      (error) => error instanceof ApiError && error.code === 'port_unavailable' && error.details.fix === 'Stop nginx.',
    );
  });

  it('calls a 401 without a readable body unauthorized', async () => {
    reply = (_req, res) => {
      res.writeHead(401);
      res.end();
    };
    await assert.rejects(transport().call('getStatus', {}), (error) => error instanceof ApiError && error.code === 'unauthorized');
  });

  it('reports each 401 as the end of the session, and nothing else', async () => {
    let ended = 0;
    const http = transport({ onUnauthorized: () => (ended += 1) });
    reply = (_req, res) => json(res, 409, { error: { code: 'conflict', message: 'taken' } });
    await assert.rejects(http.call('addRoute', { names: ['a.home.arpa'], upstream: '10.0.0.2:80' }));
    reply = (_req, res) => json(res, 403, { error: { code: 'forbidden', message: 'wrong origin' } });
    await assert.rejects(http.call('getStatus', {}));
    assert.equal(ended, 0, 'a refusal that is not 401 leaves the session alone');
    reply = (_req, res) => json(res, 401, { error: { code: 'unauthorized', message: 'Sign in first.' } });
    await assert.rejects(http.call('getStatus', {}), (error) => error instanceof ApiError && error.message === 'Sign in first.');
    assert.equal(ended, 1);
  });

  it('rejects a body that is not JSON with an internal error', async () => {
    reply = (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<h1>Bad gateway</h1>');
    };
    await assert.rejects(transport().call('getStatus', {}), (error) => error instanceof ApiError && error.code === 'internal');
  });

  it('says so when the server cannot be reached', async () => {
    const unreachable = createHttpTransport({ baseUrl: 'http://127.0.0.1:1', fetch: globalThis.fetch });
    await assert.rejects(unreachable.call('getStatus', {}), (error) => error instanceof ApiError && /could not be reached/.test(error.message));
  });
});

describe('HTTP transport: events', () => {
  it('reads named SSE messages into events, with the session cookie, and stops on unsubscribe', async () => {
    let open: ServerResponse | null = null;
    reply = (req, res) => {
      if (req.url !== '/api/events') return json(res, 404, {});
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': connected\n\n');
      res.write('event: status\ndata: {"state":"running"}\n\n');
      res.write('event: ping\ndata: {}\n\n'); // not an API event: ignored
      res.write('event: routes\ndata: [{"id":\ndata: "r1"}]\n\n'); // data split over two lines
      open = res;
    };
    const events: ApiEvent[] = [];
    const http = transport();
    const unsubscribe = http.subscribe((event) => events.push(event));
    await waitFor(() => events.length === 2);
    assert.deepEqual(events, [
      { type: 'status', data: { state: 'running' } },
      { type: 'routes', data: [{ id: 'r1' }] },
    ]);
    assert.equal(seen[0]!.cookie, SESSION_COOKIE);
    assert.equal(seen[0]!.authorization, undefined);
    assert.equal(seen[0]!.path, '/api/events');

    unsubscribe();
    await waitFor(() => open!.closed || open!.destroyed || open!.writableEnded || open!.socket?.destroyed === true);
  });

  it('shares one stream between listeners and closes it after the last one leaves', async () => {
    const responses: ServerResponse[] = [];
    reply = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: log\ndata: [{"status":200}]\n\n');
      responses.push(res);
    };
    const http = transport();
    const a: ApiEvent[] = [];
    const b: ApiEvent[] = [];
    const stopA = http.subscribe((event) => a.push(event));
    const stopB = http.subscribe((event) => b.push(event));
    await waitFor(() => a.length === 1 && b.length === 1);
    assert.equal(seen.length, 1, 'one connection for both listeners');
    stopA();
    responses[0]!.write('event: log\ndata: [{"status":201}]\n\n');
    await waitFor(() => b.length === 2);
    assert.equal(a.length, 1);
    stopB();
    await waitFor(() => responses[0]!.socket?.destroyed !== false);
  });

  it('reconnects with backoff after the stream drops, and says so', async () => {
    let connections = 0;
    reply = (_req, res) => {
      connections += 1;
      if (connections === 1) {
        res.writeHead(503);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: status\ndata: {"connection":${connections}}\n\n`);
      if (connections === 2) res.end(); // dropped after one event
    };
    let reconnects = 0;
    const events: ApiEvent[] = [];
    const http = transport({ backoff: { initialMs: 10, maxMs: 40 }, onReconnect: () => (reconnects += 1) });
    const stop = http.subscribe((event) => events.push(event));
    await waitFor(() => events.length === 2);
    stop();
    assert.deepEqual(
      events.map((event) => event.data),
      [{ connection: 2 }, { connection: 3 }],
    );
    assert.equal(connections, 3);
    assert.equal(reconnects, 1, 'the first successful connection is not a reconnect');
  });

  it('stops on a 401 (the session ended) instead of retrying, and starts again once resumed', async () => {
    let signedIn = false;
    let ended = 0;
    reply = (_req, res) => {
      if (!signedIn) return json(res, 401, { error: { code: 'unauthorized', message: 'no' } });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: status\ndata: {"state":"running"}\n\n');
    };
    const events: ApiEvent[] = [];
    const http = transport({ backoff: { initialMs: 5, maxMs: 5 }, onUnauthorized: () => (ended += 1) });
    const stop = http.subscribe((event) => events.push(event));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(seen.length, 1, 'one try, no retries while signed out');
    assert.equal(ended, 1);
    signedIn = true;
    http.resumeEvents();
    await waitFor(() => events.length === 1);
    stop();
    assert.equal(seen.length, 2);
  });

  it('pauseEvents closes the stream (signed out: no more live data) and resumeEvents opens it again', async () => {
    const responses: ServerResponse[] = [];
    reply = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: status\ndata: {}\n\n');
      responses.push(res);
    };
    const events: ApiEvent[] = [];
    const http = transport({ backoff: { initialMs: 5, maxMs: 5 } });
    const stop = http.subscribe((event) => events.push(event));
    await waitFor(() => events.length === 1);
    http.pauseEvents();
    await waitFor(() => responses[0]!.socket?.destroyed !== false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(seen.length, 1, 'no reconnect while paused');
    http.resumeEvents();
    await waitFor(() => events.length === 2);
    stop();
    assert.equal(seen.length, 2);
  });

  it('resumeEvents does nothing while the stream runs', async () => {
    reply = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: status\ndata: {}\n\n');
    };
    const events: ApiEvent[] = [];
    const http = transport();
    const stop = http.subscribe((event) => events.push(event));
    await waitFor(() => events.length === 1);
    http.resumeEvents();
    await new Promise((resolve) => setTimeout(resolve, 50));
    stop();
    assert.equal(seen.length, 1);
  });
});

describe('SSE parser', () => {
  it('handles any chunking and every line ending', () => {
    const text = 'event: status\r\ndata: {"a":1}\r\n\r\n: comment\nevent:routes\ndata:[]\n\nevent: log\rdata: 1\r\rdata: orphan\n\n';
    const whole: SseMessage[] = [];
    new SseParser((message) => whole.push(message)).push(text);
    assert.deepEqual(whole, [
      { event: 'status', data: '{"a":1}' },
      { event: 'routes', data: '[]' },
      { event: 'log', data: '1' },
      { event: 'message', data: 'orphan' },
    ]);
    for (let size = 1; size <= 5; size++) {
      const pieces: SseMessage[] = [];
      const parser = new SseParser((message) => pieces.push(message));
      for (let i = 0; i < text.length; i += size) parser.push(text.slice(i, i + size));
      assert.deepEqual(pieces, whole, `chunks of ${size}`);
    }
  });
});

describe('stripTokenFromAddress', () => {
  function addressBar(hash: string) {
    const replaced: string[] = [];
    return {
      bar: {
        location: { hash, pathname: '/', search: '?x=1' },
        history: { replaceState: (_data: unknown, _unused: string, url?: string) => void replaced.push(url ?? '') },
      },
      replaced,
    };
  }

  it('takes an old bookmark\'s token out of the address bar', () => {
    const { bar, replaced } = addressBar('#token=abc123');
    assert.equal(stripTokenFromAddress(bar), true);
    assert.deepEqual(replaced, ['/?x=1']);
  });

  it('keeps whatever else the fragment held', () => {
    const { bar, replaced } = addressBar('#token=abc123&view=routes');
    stripTokenFromAddress(bar);
    assert.deepEqual(replaced, ['/?x=1#view=routes']);
  });

  it('leaves an address without a token alone', () => {
    const { bar, replaced } = addressBar('#/routes/new');
    assert.equal(stripTokenFromAddress(bar), false);
    assert.deepEqual(replaced, []);
  });

  it('keeps nothing: the module has no storage to keep it in', async () => {
    const http = await import('../../src-renderer/transport/http.js');
    assert.deepEqual(
      Object.keys(http).filter((name) => /token/i.test(name)),
      ['stripTokenFromAddress'],
    );
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
